"""The local development signing key and dev tokens (never used outside development)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEV_ISSUER = "township-dev"
DEV_AUDIENCE = "township"
DEV_KID = "township-dev-1"


def ensure_dev_keys(folder: Path) -> tuple[Path, Path]:
    """Create (once) an RSA key pair in ``folder``; returns (private, public) PEM paths."""
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / "jwt-dev.key", folder / "jwt-dev.pub"
    if not private.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        private.chmod(0o600)
        public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return private, public


def mint_token(
    private_key: Path | bytes,
    *,
    sub: str,
    roles: list[str],
    township: str | None = None,
    department: str | None = None,
    name: str = "",
    village: str | None = None,
    certificate: str | None = None,
    ttl_seconds: int = 8 * 3600,
    issuer: str = DEV_ISSUER,
    audience: str = DEV_AUDIENCE,
    extra: dict[str, Any] | None = None,
) -> str:
    """A signed RS256 token with the platform's claims."""
    key = private_key if isinstance(private_key, bytes) else private_key.read_bytes()
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "iat": now,
        "nbf": now - 5,
        "exp": now + ttl_seconds,
        "roles": roles,
    }
    for k, v in (
        ("township", township),
        ("department", department),
        ("name", name),
        ("village", village),
        ("certificate", certificate),
    ):
        if v:
            claims[k] = v
    claims.update(extra or {})
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": DEV_KID})
