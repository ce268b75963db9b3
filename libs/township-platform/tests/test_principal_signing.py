"""The principal's signature between the gateway and the services (pure, no I/O)."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from township_platform.principal import (
    PRINCIPAL_KEY,
    PRINCIPAL_SIGNATURE_KEY,
    Principal,
    PrincipalVerifier,
    load_signing_key,
    load_signing_keys,
    sign_principal,
)

KEY = b"k" * 32
CLERK = Principal(
    sub="clerk-zw-01", roles=("clerk",), township="zhaowan", expires=int(time.time()) + 900
)


def _metadata(raw: str, signature: str | None) -> list[tuple[str, str]]:
    md = [(PRINCIPAL_KEY, raw)]
    if signature is not None:
        md.append((PRINCIPAL_SIGNATURE_KEY, signature))
    return md


def test_a_signed_principal_is_read_and_an_unsigned_or_altered_one_is_not() -> None:
    raw = CLERK.to_json()
    verifier = PrincipalVerifier(KEY)
    assert verifier.principal(_metadata(raw, sign_principal(raw, KEY))) == CLERK
    assert verifier.principal(_metadata(raw, sign_principal(raw, KEY))) == CLERK  # cached
    assert verifier.principal(_metadata(raw, None)) is None
    assert verifier.principal(_metadata(raw, sign_principal(raw, b"x" * 32))) is None
    altered = raw.replace("zhaowan", "bailiu")
    assert verifier.principal(_metadata(altered, sign_principal(raw, KEY))) is None
    assert verifier.principal([]) is None


def test_a_signed_principal_expires_with_its_token() -> None:
    verifier = PrincipalVerifier(KEY, leeway_seconds=60)
    now = int(time.time())
    for expires, accepted in ((now + 5, True), (now - 30, True), (now - 90, False)):
        clerk = Principal(sub="clerk-zw-01", roles=("clerk",), expires=expires)
        raw = clerk.to_json()
        assert '"exp":' in raw
        signed = _metadata(raw, sign_principal(raw, KEY))
        assert (verifier.principal(signed) == clerk) is accepted, expires - now
        assert (verifier.principal(signed) == clerk) is accepted  # not kept by the cache
    # the expiry is under the signature: moved forward, the signature no longer matches
    stale = Principal(sub="clerk-zw-01", roles=("clerk",), expires=now - 90).to_json()
    moved = stale.replace(str(now - 90), str(now + 900))
    assert verifier.principal(_metadata(moved, sign_principal(stale, KEY))) is None
    # with a key, a signed principal without an expiry is refused
    forever = Principal(sub="clerk-zw-01", roles=("clerk",)).to_json()
    assert verifier.principal(_metadata(forever, sign_principal(forever, KEY))) is None


def test_without_a_key_principals_are_read_unsigned() -> None:
    raw = CLERK.to_json()
    assert PrincipalVerifier(None).principal(_metadata(raw, None)) == CLERK
    assert PrincipalVerifier(None).principal(_metadata("not json", None)) is None


def test_the_key_file_must_hold_a_real_key(tmp_path: Path) -> None:
    assert load_signing_key(None) is None
    good = tmp_path / "good"
    good.write_text("a" * 64 + "\n")
    assert load_signing_key(str(good)) == b"a" * 64
    short = tmp_path / "short"
    short.write_text("secret\n")
    with pytest.raises(ValueError, match="shorter than 32 bytes"):
        load_signing_key(str(short))


def test_a_key_file_may_hold_two_keys_the_first_signs(tmp_path: Path) -> None:
    old, new = "o" * 64, "n" * 64
    both = tmp_path / "both"
    both.write_text(f"{new}\n\n{old}\n")
    assert load_signing_keys(str(both)) == (new.encode(), old.encode())
    assert load_signing_key(str(both)) == new.encode()
    assert load_signing_keys(None) == ()
    short = tmp_path / "short-second"
    short.write_text(f"{new}\nsecret\n")
    with pytest.raises(ValueError, match="line 2"):
        load_signing_keys(str(short))
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="holds no key"):
        load_signing_keys(str(empty))


def test_rotating_the_key_refuses_no_call_at_any_step_of_the_rollout() -> None:
    """Each step rolls the pods one by one, so old and new pods of both kinds meet."""
    old, new = b"o" * 32, b"n" * 32
    steps = [[old], [old, new], [new, old], [new]]
    raw = CLERK.to_json()
    for before, after in itertools.pairwise(steps):
        for gateway_keys in (before, after):
            signature = sign_principal(raw, gateway_keys[0])  # the gateway signs with the first
            for service_keys in (before, after):
                verifier = PrincipalVerifier(service_keys)
                assert verifier.principal(_metadata(raw, signature)) == CLERK, (
                    before,
                    after,
                    gateway_keys,
                    service_keys,
                )
    # jumping straight from the old key to the new one is what refuses calls
    assert PrincipalVerifier([new]).principal(_metadata(raw, sign_principal(raw, old))) is None
    # and a key in no file is refused by every step
    stranger = sign_principal(raw, b"s" * 32)
    assert all(PrincipalVerifier(k).principal(_metadata(raw, stranger)) is None for k in steps)
