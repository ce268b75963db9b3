"""Services re-check: a gRPC call that reaches a service without a principal is refused.

The gateway is the only door, but a service does not rely on it: anything arriving without
the principal metadata, with a malformed one, or with one the gateway did not sign (the
stack runs with a principal-signing key, as the chart does) gets UNAUTHENTICATED, except the
few methods that are public by design.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import grpc
import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth
from township.enforcement.v1 import enforcement_pb2, enforcement_pb2_grpc
from township.permits.v1 import permits_pb2, permits_pb2_grpc
from township.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from township_platform.principal import load_signing_key, sign_principal
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e


def _channel(system: LocalStack, service: str) -> grpc.Channel:
    return grpc.insecure_channel(f"127.0.0.1:{system.grpc_ports[service]}")


def _signed(principal: str, key: bytes) -> tuple[tuple[str, str], ...]:
    """Principal metadata signed with ``key``, as the gateway sends it."""
    return (
        ("x-township-principal", principal),
        ("x-township-principal-sig", sign_principal(principal, key)),
    )


def _code_of_a_read(stub: permits_pb2_grpc.PermitsServiceStub, metadata: object) -> object:
    """The status a permits read of a missing application ends with."""
    with pytest.raises(grpc.RpcError) as e:
        stub.GetApplication(permits_pb2.GetApplicationRequest(id="0"), metadata=metadata, timeout=5)
    return e.value.code()


CLERK = (
    '{"sub":"clerk-zw-01","roles":["clerk"],"township":"zhaowan",'
    f'"exp":{int(time.time()) + 3600}}}'
)
COUNTY_ADMIN = '{"sub":"intruder","roles":["county_admin"]}'


@pytest.mark.parametrize(
    "metadata",
    [
        (),
        (("x-township-principal", "not json"),),
        (("x-township-principal", '{"roles":[]}'),),
        # well-formed, but not signed by the gateway: anyone on the network could send it
        (("x-township-principal", COUNTY_ADMIN),),
        (("x-township-principal", COUNTY_ADMIN), ("x-township-principal-sig", "forged")),
    ],
)
def test_calls_without_a_valid_principal_are_unauthenticated(
    system: LocalStack, metadata: tuple[tuple[str, str], ...]
) -> None:
    with _channel(system, "permits") as ch:
        stub = permits_pb2_grpc.PermitsServiceStub(ch)
        with pytest.raises(grpc.RpcError) as e:
            stub.GetApplication(
                permits_pb2.GetApplicationRequest(id="x"), metadata=metadata, timeout=5
            )
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with _channel(system, "personnel") as ch:
        with pytest.raises(grpc.RpcError) as e:
            personnel_pb2_grpc.PersonnelServiceStub(ch).ListPoints(
                personnel_pb2.ListPointsRequest(person="clerk-zw-01"), metadata=metadata, timeout=5
            )
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_public_methods_answer_without_a_principal(system: LocalStack) -> None:
    with _channel(system, "enforcement") as ch:
        reply = enforcement_pb2_grpc.EnforcementServiceStub(ch).ListEntrustments(
            enforcement_pb2.ListEntrustmentsRequest(township_id="zhaowan"), timeout=5
        )
    assert len(reply.entrustments) == 84


def test_a_principal_signed_with_the_shared_key_is_accepted(system: LocalStack) -> None:
    """The same call with the gateway's signature gets through (and finds nothing)."""
    key = load_signing_key(str(system.principal_key))
    assert key is not None
    signed = (
        ("x-township-principal", CLERK),
        ("x-township-principal-sig", sign_principal(CLERK, key)),
    )
    with _channel(system, "permits") as ch:
        stub = permits_pb2_grpc.PermitsServiceStub(ch)
        with pytest.raises(grpc.RpcError) as e:
            stub.GetApplication(
                permits_pb2.GetApplicationRequest(id="0"), metadata=signed, timeout=5
            )
        assert e.value.code() == grpc.StatusCode.NOT_FOUND
        # a signature is bound to its principal: reused on another one it is refused
        reused = (("x-township-principal", COUNTY_ADMIN), signed[1])
        with pytest.raises(grpc.RpcError) as e:
            stub.GetApplication(
                permits_pb2.GetApplicationRequest(id="0"), metadata=reused, timeout=5
            )
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # a captured principal replays only while its token lives: expired, it is refused
        expired = CLERK[: CLERK.index('"exp":')] + f'"exp":{int(time.time()) - 3600}}}'
        assert _code_of_a_read(stub, _signed(expired, key)) == grpc.StatusCode.UNAUTHENTICATED


def test_a_service_with_two_keys_accepts_both_during_a_rotation(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory, tmp_path: Path
) -> None:
    """Step 1 of a rotation: the service verifies the old and the new key; the gateway still
    signs with the old one and nothing is refused; a key in neither line still is."""
    current = load_signing_key(str(system.principal_key))
    assert current is not None
    new = secrets.token_hex(32).encode()
    two = tmp_path / "principal-keys"
    two.write_bytes(current + b"\n" + new + b"\n")
    try:
        system.start("permits", env={"TOWNSHIP_PERMITS_PRINCIPAL_KEY_FILE": str(two)})
        system.wait_service("permits")
        clerk = token("zhaowan", "clerk", sub="clerk-rotation")
        through_gateway = gateway.get(
            "/api/v1/applications", headers=auth(clerk), params={"page_size": 1}
        )
        assert through_gateway.status_code == 200, through_gateway.text
        with _channel(system, "permits") as ch:
            stub = permits_pb2_grpc.PermitsServiceStub(ch)
            # the new key is accepted (then nothing is found); a stranger's is refused
            assert _code_of_a_read(stub, _signed(CLERK, new)) == grpc.StatusCode.NOT_FOUND
            stranger = secrets.token_hex(32).encode()
            unauthenticated = grpc.StatusCode.UNAUTHENTICATED
            assert _code_of_a_read(stub, _signed(CLERK, stranger)) == unauthenticated
    finally:
        system.start("permits")
        system.wait_service("permits")
