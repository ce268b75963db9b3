"""The authenticated caller, as the gateway verified it, carried to services in gRPC metadata."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from township_platform.errors import PermissionDenied

PRINCIPAL_KEY = "x-township-principal"
PRINCIPAL_SIGNATURE_KEY = "x-township-principal-sig"
IDEMPOTENCY_KEY = "x-idempotency-key"

ROLES = frozenset(
    {
        "clerk",
        "approver",
        "agent",
        "officer",
        "legal_reviewer",
        "township_admin",
        "county_dept",
        "county_admin",
        "auditor",
        "system",
    }
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: subject, township (None for county users), department and roles."""

    sub: str
    roles: tuple[str, ...] = ()
    township: str | None = None
    department: str | None = None
    name: str = ""
    village: str | None = None
    certificate: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Unix time after which the gateway's signature on this principal is void: the
    # bearer token's ``exp``. None for principals that never travel (system, consumers).
    expires: int | None = None

    def has_role(self, *roles: str) -> bool:
        """True when the principal holds at least one of ``roles``."""
        return any(r in self.roles for r in roles)

    def require_role(self, *roles: str) -> None:
        """Raise PermissionDenied unless the principal holds one of ``roles``."""
        if not self.has_role(*roles):
            raise PermissionDenied(
                f"this action needs one of the roles: {', '.join(roles)}", type="role-required"
            )

    def require_township(self) -> str:
        """The caller's township, or PermissionDenied for county-wide users."""
        if not self.township:
            raise PermissionDenied("this action needs a township user", type="township-required")
        return self.township

    def to_json(self) -> str:
        """Serialise for gRPC metadata."""
        data: dict[str, object] = {"sub": self.sub, "roles": list(self.roles)}
        for key in ("township", "department", "name", "village", "certificate"):
            value = getattr(self, key)
            if value:
                data[key] = value
        if self.expires is not None:
            data["exp"] = self.expires
        return json.dumps(data, ensure_ascii=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> Principal:
        """Parse what :meth:`to_json` wrote (the same caller's value recurs: cached)."""
        hit = _PARSED.get(raw)
        if hit is not None:
            return hit
        principal = cls._parse(raw)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[raw] = principal
        return principal

    @classmethod
    def _parse(cls, raw: str) -> Principal:
        data = json.loads(raw)
        return cls(
            sub=str(data["sub"]),
            roles=tuple(str(r) for r in data.get("roles", [])),
            township=data.get("township"),
            department=data.get("department"),
            name=str(data.get("name", "")),
            village=data.get("village"),
            certificate=data.get("certificate"),
            expires=int(data["exp"]) if "exp" in data else None,
        )


SYSTEM = Principal(sub="system", roles=("system",))

_PARSED: dict[str, Principal] = {}
_PARSED_MAX = 10_000


def metadata_value(metadata: Sequence[tuple[str, str | bytes]] | None, key: str) -> str | None:
    """The first value of ``key`` in gRPC metadata, as text."""
    for k, v in metadata or ():
        if k == key:
            return v.decode() if isinstance(v, bytes) else v
    return None


def load_signing_keys(path: str | None) -> tuple[bytes, ...]:
    """The principal keys in a file, one per line: the first signs, every one verifies.

    One line is the usual case. Two lines rotate the key without refusing a call: add the
    new key as the second line and roll every pod (all verify both, the gateway still signs
    with the old one); move it to the first line and roll (the gateway signs with the new
    one); drop the old line and roll. Empty when no file is configured.
    """
    if not path:
        return ()
    keys = []
    for number, line in enumerate(Path(path).read_bytes().splitlines(), 1):
        key = line.strip()
        if not key:
            continue
        if len(key) < 32:
            raise ValueError(
                f"the principal signing key on line {number} of {path} is shorter than 32 bytes"
            )
        keys.append(key)
    if not keys:
        raise ValueError(f"the principal key file {path} holds no key")
    return tuple(keys)


def load_signing_key(path: str | None) -> bytes | None:
    """The key the gateway signs principals with: the first of the file (None: no file)."""
    keys = load_signing_keys(path)
    return keys[0] if keys else None


def sign_principal(raw: str, key: bytes) -> str:
    """HMAC-SHA256 of the principal's metadata value, base64url without padding."""
    digest = hmac.new(key, raw.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class PrincipalVerifier:
    """Reads the caller from gRPC metadata, checking the gateway's signature when keyed.

    The gateway signs the principal it verified from the bearer token with a key it shares
    with the services; a service with the key refuses a principal that is unsigned or
    signed with another key, so reaching a service's port is not enough to act as anyone
    (the NetworkPolicy remains the first wall). Verified values are remembered (the same
    callers recur), so the check costs one dictionary lookup per call.

    A signed principal carries its bearer token's expiry (``exp``) under the signature, so
    one captured inside the cluster can be replayed only while the token itself would
    still be accepted (plus ``leeway_seconds`` of clock skew between pods), not until the
    key is rotated. With a key, a principal without ``exp`` is refused.
    """

    def __init__(
        self,
        keys: bytes | Sequence[bytes] | None,
        *,
        max_cached: int = 10_000,
        leeway_seconds: float = 60.0,
    ) -> None:
        # every key of the file verifies (a rotation has two for a while)
        self.keys: tuple[bytes, ...] = (keys,) if isinstance(keys, bytes) else tuple(keys or ())
        self.leeway = leeway_seconds
        self._verified: dict[str, str] = {}
        self._max = max_cached

    def principal(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> Principal | None:
        """The principal, or None when absent, malformed, or (with a key) not signed by it."""
        raw: str | None = None
        signature: str | None = None
        for k, v in metadata or ():
            if k == PRINCIPAL_KEY:
                raw = v.decode() if isinstance(v, bytes) else v
            elif k == PRINCIPAL_SIGNATURE_KEY:
                signature = v.decode() if isinstance(v, bytes) else v
        if raw is None:
            return None
        if self.keys:
            if signature is None:
                return None
            if self._verified.get(raw) != signature:
                if not any(
                    hmac.compare_digest(sign_principal(raw, key), signature) for key in self.keys
                ):
                    return None
                if len(self._verified) >= self._max:
                    self._verified.clear()
                self._verified[raw] = signature
        try:
            principal = Principal.from_json(raw)
        except (ValueError, KeyError, TypeError):
            return None
        if principal.expires is None:
            return None if self.keys else principal
        if principal.expires + self.leeway < time.time():
            return None
        return principal
