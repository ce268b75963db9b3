"""The RPC interceptor's own records of a call: slow calls are logged, cancelled ones are
counted as CANCELLED or, past the caller's deadline, DEADLINE_EXCEEDED (pure: a fake
context, no server)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from structlog.testing import capture_logs

from township_platform import server
from township_platform.metrics import ServiceMetrics
from township_platform.server import UnitOfWorkInterceptor

METRICS = ServiceMetrics.create("interceptortest")


class _Context:
    def __init__(self, time_remaining: float | None = None) -> None:
        self.left = time_remaining

    def time_remaining(self) -> float | None:
        return self.left

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return ()

    def set_trailing_metadata(self, _: Any) -> None:
        pass

    async def abort(self, code: grpc.StatusCode, message: str) -> None:
        raise AssertionError(f"aborted: {code} {message}")


def _behavior(inner: Any) -> Any:
    interceptor = UnitOfWorkInterceptor(
        SimpleNamespace(reads=None),  # type: ignore[arg-type]
        METRICS,
        "interceptortest",
        public={"Slow"},
        readonly={"Slow"},
    )
    handler = grpc.unary_unary_rpc_method_handler(inner)
    return interceptor._wrap("/t.T/Slow", handler).unary_unary


def _count(code: str) -> float:
    return METRICS.rpc_requests.labels("Slow", code)._value.get()  # type: ignore[no-any-return]


async def test_a_slow_call_is_logged_with_its_method(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "SLOW_RPC_SECONDS", 0.05)

    async def slow(request: Any, context: Any) -> str:
        await asyncio.sleep(0.08)
        return "done"

    async def quick(request: Any, context: Any) -> str:
        return "done"

    with capture_logs() as logs:
        assert await _behavior(quick)(None, _Context()) == "done"
        assert await _behavior(slow)(None, _Context()) == "done"
    slow_lines = [line for line in logs if line["event"] == "slow rpc"]
    assert len(slow_lines) == 1
    assert slow_lines[0]["method"] == "Slow" and slow_lines[0]["code"] == "OK"
    assert slow_lines[0]["seconds"] >= 0.08


@pytest.mark.parametrize(
    ("time_remaining", "code"),
    [(None, "CANCELLED"), (3.0, "CANCELLED"), (0.0, "DEADLINE_EXCEEDED")],
)
async def test_a_cancelled_call_is_counted_by_why_it_ended(
    time_remaining: float | None, code: str
) -> None:
    async def forever(request: Any, context: Any) -> str:
        await asyncio.sleep(60)
        return "never"

    before = _count(code), _count("OK")
    task = asyncio.create_task(_behavior(forever)(None, _Context(time_remaining)))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (_count(code), _count("OK")) == (before[0] + 1, before[1])
