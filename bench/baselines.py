"""Baselines measured in the same run as the system, on the same machine.

B0: a bare FastAPI "hello" endpoint on the gateway's uvicorn settings (one worker, uvloop,
httptools, no access log). B1: a bare ``grpc.aio`` echo server (identity serializers, no
interceptors), and the client loop that drives it (``python -m bench.baselines grpc-load``).

Run as ``python -m bench.baselines hello PORT`` / ``echo PORT`` / ``grpc-load ...``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

HELLO = {"message": "hello"}


def make_hello_app() -> Any:
    """The B0 application: one GET returning a small JSON object."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return HELLO

    return app


def serve_hello(port: int) -> None:
    """B0 on the same uvicorn settings as township_gateway.main."""
    import uvicorn

    uvicorn.run(
        make_hello_app(),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


ECHO_METHOD = "/bench.Echo/Echo"


async def _serve_echo(port: int) -> None:
    import grpc
    from grpc import aio

    async def echo(request: bytes, context: Any) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo",
        {
            "Echo": grpc.unary_unary_rpc_method_handler(
                echo, request_deserializer=None, response_serializer=None
            )
        },
    )
    server = aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def serve_echo(port: int) -> None:
    """B1: a bare grpc.aio unary echo (uvloop, like the services)."""
    import uvloop

    uvloop.run(_serve_echo(port))


async def _grpc_load(target: str, concurrency: int, seconds: float, payload: int) -> dict[str, Any]:
    """Closed loop: ``concurrency`` callers over one channel, as the gateway calls services."""
    from grpc import aio

    latencies: list[float] = []
    errors = 0
    body = b"x" * payload
    async with aio.insecure_channel(target) as channel:
        call = channel.unary_unary(ECHO_METHOD)
        await call(body, timeout=5)  # connect
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while True:
                t0 = time.perf_counter()
                if t0 >= deadline:
                    return
                try:
                    await call(body, timeout=5)
                except Exception:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "duration_s": elapsed,
        "errors": {"status": errors},
        "latency_ms": {
            "mean": (sum(latencies) / len(latencies) * 1000) if latencies else 0.0,
            "p50": pct(50),
            "p90": pct(90),
            "p99": pct(99),
        },
    }


def main(argv: list[str]) -> None:
    """Dispatch: hello PORT | echo PORT | grpc-load TARGET CONCURRENCY SECONDS."""
    what = argv[0]
    if what == "hello":
        serve_hello(int(argv[1]))
    elif what == "echo":
        serve_echo(int(argv[1]))
    elif what == "grpc-load":
        import uvloop

        result = uvloop.run(_grpc_load(argv[1], int(argv[2]), float(argv[3]), 64))
        print("BENCH_JSON " + json.dumps(result), flush=True)
    else:
        raise SystemExit(f"unknown baseline {what}")


if __name__ == "__main__":
    main(sys.argv[1:])
