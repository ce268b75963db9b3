"""The `township` command's local run: which of the caller's settings reach the processes."""

from __future__ import annotations

from pathlib import Path

from township_cli.main import passed_settings
from township_testing.stack import LocalStack, StackConfig


def test_component_settings_pass_and_the_wiring_stays(tmp_path: Path) -> None:
    stack = LocalStack(
        StackConfig(
            root=tmp_path,
            townships_file=tmp_path / "townships.json",
            gateway_port=18080,
            service_ports={"permits": 50051, "enforcement": 50052},
            metrics_ports={"permits": 9461, "enforcement": 9462},
            nats_url="nats://127.0.0.1:4222",
            database_url="postgresql://u@127.0.0.1:5432/x",
        )
    )
    environ = {
        "TOWNSHIP_GATEWAY_LOG_LEVEL": "debug",
        "TOWNSHIP_GATEWAY_CLIENT_RATE_PER_SECOND": "1000",
        "TOWNSHIP_PERMITS_DB_LEAN_POOL_SIZE": "8",
        # wired by the local stack: the processes must still find each other
        "TOWNSHIP_PERMITS_GRPC_PORT": "6000",
        "TOWNSHIP_PERMITS_DATABASE_URL": "postgresql://elsewhere/permits",
        "TOWNSHIP_GATEWAY_HTTP_PORT": "9999",
        "TOWNSHIP_GATEWAY_PERMITS_ADDR": "10.0.0.1:1",
        "TOWNSHIP_GATEWAY_DEV_MODE": "false",
        # not a component's setting
        "TOWNSHIP_HOME": "/somewhere",
        "PATH": "/usr/bin",
    }
    assert passed_settings(environ) == {
        "TOWNSHIP_GATEWAY_LOG_LEVEL": "debug",
        "TOWNSHIP_GATEWAY_CLIENT_RATE_PER_SECOND": "1000",
        "TOWNSHIP_PERMITS_DB_LEAN_POOL_SIZE": "8",
    }
    stack.config.extra_env.update(passed_settings(environ))
    assert stack.env("gateway")["TOWNSHIP_GATEWAY_LOG_LEVEL"] == "debug"
    assert stack.env("permits")["TOWNSHIP_PERMITS_GRPC_PORT"] == "50051"
