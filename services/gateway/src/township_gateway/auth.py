"""Bearer-token authentication: RS256/ES256 JWTs from a key file or a JWKS URL.

Verified tokens are cached until they expire (a signature check costs ~80 µs; a cache hit
well under 1 µs), bounded in size. Issuer, audience, expiry and not-before are checked with a
bounded clock skew; symmetric and ``none`` algorithms are never accepted.

The key file may hold several PEM public keys (the issuer's current and next, or previous,
key while it rotates): a token is valid when one of them verifies its signature.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, Request

from township_gateway.config import GatewaySettings
from township_gateway.problems import Problem
from township_platform.principal import ROLES, Principal

_BEARER = "bearer "
_KEY_FAMILY: dict[str, Any] = {
    "RS": rsa.RSAPublicKey,
    "PS": rsa.RSAPublicKey,
    "ES": ec.EllipticCurvePublicKey,
}
_PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)


def pem_keys(path: str) -> list[Any]:
    """The public keys of a PEM file (public keys or certificates, one block after another).

    Read once at start: a file that holds no readable key stops the gateway with the reason,
    instead of refusing every token.
    """
    data = Path(path).read_bytes()
    blocks = _PEM_BLOCK.findall(data)
    if not blocks:
        raise ValueError(f"the JWT public key file {path} holds no PEM block")
    keys: list[Any] = []
    for number, block in enumerate(blocks, 1):
        try:
            if b"CERTIFICATE" in block.split(b"\n", 1)[0]:
                keys.append(x509.load_pem_x509_certificate(block).public_key())
            else:
                keys.append(serialization.load_pem_public_key(block))
        except ValueError as e:
            raise ValueError(f"PEM block {number} of {path} is not a public key: {e}") from e
    return keys


class TokenVerifier:
    """Verifies JWTs and turns their claims into a Principal."""

    def __init__(self, settings: GatewaySettings, townships: set[str] | None) -> None:
        self.settings = settings
        self.townships = townships
        self._keys: list[Any] = []
        self._jwks: jwt.PyJWKClient | None = None
        if settings.jwt_public_key_file:
            self._keys = pem_keys(settings.jwt_public_key_file)
        if settings.jwt_jwks_url:
            self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300)
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = 10_000

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token; Problem(401) otherwise."""
        now = time.time()
        hit = self._cache.get(token)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            keys = self._keys
            if self._jwks is not None:
                keys = [(await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key]
            claims = self._decode(token, keys)
        except (jwt.PyJWTError, ValueError) as e:
            raise Problem(
                401,
                "invalid-token",
                f"invalid bearer token: {e}",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from e
        principal = self._principal(claims)
        self._cache[token] = (principal, float(claims["exp"]) + self.settings.jwt_leeway_seconds)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    def _decode(self, token: str, keys: list[Any]) -> dict[str, Any]:
        """The claims of ``token`` verified with the first key whose signature matches."""
        s = self.settings
        family = _KEY_FAMILY.get(str(jwt.get_unverified_header(token).get("alg", ""))[:2])
        for i, key in enumerate(keys):
            if family is not None and not isinstance(key, family):
                continue  # an EC key cannot verify an RS256 token, nor the other way round
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=s.jwt_algorithms,
                    audience=s.jwt_audience,
                    issuer=s.jwt_issuer,
                    leeway=s.jwt_leeway_seconds,
                    options={"require": ["exp", "sub", "iss", "aud"]},
                )
            except (jwt.InvalidSignatureError, jwt.InvalidKeyError):
                continue  # not this key's signature (or another kind of key): the next one
            if i:  # the key that verified goes first next time
                keys.insert(0, keys.pop(i))
            return claims
        raise jwt.InvalidSignatureError("Signature verification failed")

    def _principal(self, claims: dict[str, Any]) -> Principal:
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Problem(401, "invalid-token", "the roles claim must be a list of strings")
        unknown = [r for r in roles if r not in ROLES or r == "system"]
        if unknown:
            raise Problem(401, "invalid-token", f"unknown roles in token: {', '.join(unknown)}")
        township = claims.get("township") or None
        if township is not None and self.townships is not None and township not in self.townships:
            raise Problem(401, "invalid-token", f"township {township!r} is not configured")
        if township is None and not claims.get("department") and "county_admin" not in roles:
            if "auditor" not in roles:
                raise Problem(
                    401, "invalid-token", "a token needs a township or a county department"
                )
        return Principal(
            sub=str(claims["sub"]),
            roles=tuple(roles),
            township=township,
            department=claims.get("department") or None,
            name=str(claims.get("name", "")),
            village=claims.get("village") or None,
            certificate=claims.get("certificate") or None,
            expires=int(claims["exp"]),  # signed with it: services refuse it once expired
        )


async def authenticate(request: Request) -> Principal:
    """FastAPI dependency: the verified principal of the request (401 without one)."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith(_BEARER):
        raise Problem(
            401,
            "unauthenticated",
            "a bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(header[len(_BEARER) :].strip())
    request.state.principal = principal
    request.app.state.rate_limits.check_principal(principal.township, principal.sub)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_roles(*roles: str) -> Any:
    """Dependency factory: the principal, if it holds one of ``roles`` (else 403)."""

    async def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*roles):
            raise Problem(403, "role-required", f"this endpoint needs one of: {', '.join(roles)}")
        return principal

    return Depends(_check)
