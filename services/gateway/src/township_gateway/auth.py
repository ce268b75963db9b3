"""Bearer-token authentication: RS256/ES256 JWTs from a key file or a JWKS URL.

Verified tokens are cached until they expire (a signature check costs ~80 µs; a cache hit
well under 1 µs), bounded in size. Issuer, audience, expiry and not-before are checked with a
bounded clock skew; symmetric and ``none`` algorithms are never accepted.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from township_gateway.config import GatewaySettings
from township_gateway.problems import Problem
from township_platform.principal import ROLES, Principal

_BEARER = "bearer "


class TokenVerifier:
    """Verifies JWTs and turns their claims into a Principal."""

    def __init__(self, settings: GatewaySettings, townships: set[str] | None) -> None:
        self.settings = settings
        self.townships = townships
        self._key: Any = None
        self._jwks: jwt.PyJWKClient | None = None
        if settings.jwt_public_key_file:
            self._key = Path(settings.jwt_public_key_file).read_bytes()
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
            key: Any = self._key
            if self._jwks is not None:
                key = (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key
            claims = jwt.decode(
                token,
                key,
                algorithms=self.settings.jwt_algorithms,
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
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
