"""Gateway authentication without backends: every bad token is a 401 before any gRPC call."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from gateway_testkit import get, make_settings
from pydantic import ValidationError

from township_gateway.app import create_app
from township_testing.devkeys import ensure_dev_keys, mint_token

PATH = "/api/v1/applications/01a21ded-1055-7a85-92b2-c3d25b5ede76"


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "township-dev",
        "aud": "township",
        "sub": "clerk-zw-01",
        "iat": now,
        "exp": now + 600,
        "roles": ["clerk"],
        "township": "zhaowan",
    }
    claims.update(extra)
    return claims


async def test_valid_token_passes_authentication(keys: tuple[Path, Path]) -> None:
    private, public = keys
    tok = mint_token(private, sub="clerk-zw-01", roles=["clerk"], township="zhaowan")
    r = await get(make_settings(jwt_public_key_file=str(public)), tok, PATH)
    assert r.status_code == 503  # authenticated; the (absent) permits service is unavailable
    assert r.headers["Retry-After"]


@pytest.mark.parametrize(
    ("case", "claims"),
    [
        ("expired", {"exp": int(time.time()) - 3600}),
        ("not yet valid", {"nbf": int(time.time()) + 3600}),
        ("wrong audience", {"aud": "someone-else"}),
        ("wrong issuer", {"iss": "evil"}),
        ("no subject", {"sub": None}),
        ("unknown role", {"roles": ["emperor"]}),
        ("system role", {"roles": ["system"]}),
        ("unconfigured township", {"township": "atlantis"}),
        ("roles not a list", {"roles": "clerk"}),
    ],
)
async def test_bad_claims_get_401(
    keys: tuple[Path, Path], case: str, claims: dict[str, Any]
) -> None:
    private, public = keys
    payload = {k: v for k, v in _claims(**claims).items() if v is not None}
    tok = jwt.encode(payload, private.read_bytes(), algorithm="RS256")
    r = await get(make_settings(jwt_public_key_file=str(public)), tok, PATH)
    assert r.status_code == 401, case
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_alg_none_and_hs256_key_confusion_are_refused(keys: tuple[Path, Path]) -> None:
    _, public = keys
    settings = make_settings(jwt_public_key_file=str(public))
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(_claims()).encode()).rstrip(b"=")
    none_token = f"{header.decode()}.{body.decode()}."
    assert (await get(settings, none_token, PATH)).status_code == 401
    # HS256 signed with the public key's bytes as the shared secret (key confusion)
    hs_header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": "JWT"}).encode()
    ).rstrip(b"=")
    signing_input = hs_header + b"." + body
    mac = hmac.new(public.read_bytes(), signing_input, hashlib.sha256).digest()
    confused = (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    assert (await get(settings, confused, PATH)).status_code == 401


async def test_token_signed_by_another_key_is_refused(
    keys: tuple[Path, Path], tmp_path: Path
) -> None:
    _, public = keys
    other_private, _ = ensure_dev_keys(tmp_path / "other")
    tok = mint_token(other_private, sub="x", roles=["clerk"], township="zhaowan")
    r = await get(make_settings(jwt_public_key_file=str(public)), tok, PATH)
    assert r.status_code == 401


def test_dev_issuer_refused_outside_dev_mode(keys: tuple[Path, Path]) -> None:
    with pytest.raises(ValidationError, match="development issuer"):
        make_settings(jwt_public_key_file=str(keys[1]), dev_mode=False)
    with pytest.raises(ValidationError, match="not allowed"):
        make_settings(jwt_public_key_file=str(keys[1]), jwt_algorithms=["HS256"])


class _Jwks:
    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.requests = 0


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, _Jwks]]:
    state = _Jwks()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            body = json.dumps({"keys": state.keys}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json", state
    server.shutdown()
    server.server_close()


def _jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(
        jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key())
    )
    jwk.update(kid=kid, alg=alg, use="sig")
    return jwk


async def test_jwks_with_rotation_and_es256(jwks_server: tuple[str, _Jwks]) -> None:
    url, state = jwks_server
    old = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    state.keys = [_jwk(old, "k1", "RS256")]
    settings = make_settings(
        jwt_jwks_url=url, jwt_issuer="https://idp.county.example", dev_mode=False
    )
    claims = _claims(iss="https://idp.county.example")
    t1 = jwt.encode(claims, old, algorithm="RS256", headers={"kid": "k1"})
    assert (await get(settings, t1, PATH)).status_code == 503
    # the identity provider rotates to an EC key: a token with the new kid is honoured
    new = ec.generate_private_key(ec.SECP256R1())
    state.keys = [_jwk(old, "k1", "RS256"), _jwk(new, "k2", "ES256")]
    t2 = jwt.encode(claims, new, algorithm="ES256", headers={"kid": "k2"})
    assert (await get(settings, t2, PATH)).status_code == 503
    unknown = jwt.encode(
        claims, rsa.generate_private_key(65537, 2048), algorithm="RS256", headers={"kid": "k9"}
    )
    assert (await get(settings, unknown, PATH)).status_code == 401


async def test_missing_or_non_bearer_authorization_is_401(keys: tuple[Path, Path]) -> None:
    settings = make_settings(jwt_public_key_file=str(keys[1]))
    assert (await get(settings, None, PATH)).status_code == 401
    r = await get(settings, "", "/api/v1/personnel/points?person=x")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


async def test_public_and_health_endpoints_need_no_token(keys: tuple[Path, Path]) -> None:
    settings = make_settings(jwt_public_key_file=str(keys[1]))
    assert (await get(settings, None, "/healthz")).status_code == 200
    ready = await get(settings, None, "/readyz")
    assert ready.status_code == 503
    assert ready.json()["services"] == {
        "permits": False,
        "enforcement": False,
        "personnel": False,
        "stationed": False,
    }


async def test_a_key_file_with_the_issuer_s_old_and_new_keys_accepts_both(
    keys: tuple[Path, Path], tmp_path: Path
) -> None:
    """While the issuer rotates its key the file holds both (PEM blocks one after the other);
    an EC key may sit beside RSA ones. Claims are still checked whichever key verified."""
    private, public = keys
    new_private, new_public = ensure_dev_keys(tmp_path / "new")
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_public = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    both = tmp_path / "issuer-keys.pem"
    both.write_bytes(public.read_bytes() + new_public.read_bytes() + ec_public)
    settings = make_settings(jwt_public_key_file=str(both))
    for signer in (private, new_private):
        tok = mint_token(signer, sub="clerk-zw-01", roles=["clerk"], township="zhaowan")
        assert (await get(settings, tok, PATH)).status_code == 503  # authenticated
    es256 = jwt.encode(_claims(), ec_key, algorithm="ES256")
    assert (await get(settings, es256, PATH)).status_code == 503
    expired = jwt.encode(
        _claims(exp=int(time.time()) - 3600),
        serialization.load_pem_private_key(new_private.read_bytes(), None),
        algorithm="RS256",
    )
    r = await get(settings, expired, PATH)
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    stranger, _ = ensure_dev_keys(tmp_path / "stranger")
    tok = mint_token(stranger, sub="x", roles=["clerk"], township="zhaowan")
    r = await get(settings, tok, PATH)
    assert r.status_code == 401 and "Signature verification failed" in r.json()["detail"]


def test_a_key_file_without_a_readable_key_stops_the_gateway(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("not a key\n")
    with pytest.raises(ValueError, match="holds no PEM block"):
        create_app(make_settings(jwt_public_key_file=str(empty)))
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    with pytest.raises(ValueError, match=r"PEM block 1 .* is not a public key"):
        create_app(make_settings(jwt_public_key_file=str(broken)))
