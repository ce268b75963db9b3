"""Services re-check: a gRPC call that reaches a service without a principal is refused.

The gateway is the only door, but a service does not rely on it: anything arriving without
the principal metadata (or with a malformed one) gets UNAUTHENTICATED, except the few
methods that are public by design.
"""

from __future__ import annotations

import grpc
import pytest

from township.enforcement.v1 import enforcement_pb2, enforcement_pb2_grpc
from township.permits.v1 import permits_pb2, permits_pb2_grpc
from township.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e


def _channel(system: LocalStack, service: str) -> grpc.Channel:
    return grpc.insecure_channel(f"127.0.0.1:{system.grpc_ports[service]}")


@pytest.mark.parametrize(
    "metadata",
    [(), (("x-township-principal", "not json"),), (("x-township-principal", '{"roles":[]}'),)],
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
