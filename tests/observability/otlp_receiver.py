"""A tiny OTLP/gRPC trace receiver: ``python -m tests.observability.otlp_receiver PORT_FILE OUT``.

Binds a free 127.0.0.1 port, writes it to PORT_FILE, and appends every span it receives to
OUT as one JSON line (ids in lowercase hex, attributes as plain values). It runs as its own
process because a gRPC server inside pytest breaks the processes pytest forks afterwards.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2


def _value(v: common_pb2.AnyValue) -> Any:
    which = v.WhichOneof("value")
    if which == "array_value":
        return [_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, which) if which else None


def _attributes(kvs: Iterable[common_pb2.KeyValue]) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in kvs}


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """Appends the spans of each export call to ``out``."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lock = threading.Lock()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        """Store one batch."""
        lines = []
        for rs in request.resource_spans:
            resource = _attributes(rs.resource.attributes)
            for ss in rs.scope_spans:
                for s in ss.spans:
                    span = {
                        "service": str(resource.get("service.name", "")),
                        "resource": resource,
                        "trace_id": s.trace_id.hex(),
                        "span_id": s.span_id.hex(),
                        "parent_span_id": s.parent_span_id.hex(),
                        "name": s.name,
                        "kind": trace_pb2.Span.SpanKind.Name(s.kind).removeprefix("SPAN_KIND_"),
                        "attributes": _attributes(s.attributes),
                    }
                    lines.append(json.dumps(span, ensure_ascii=False) + "\n")
        with self.lock:
            self.out.writelines(lines)
            self.out.flush()
        return trace_service_pb2.ExportTraceServiceResponse()


def main(port_file: str, out_path: str) -> None:
    """Serve until SIGTERM."""
    with Path(out_path).open("a", encoding="utf-8") as out:
        server = grpc.server(ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]
            Receiver(out), server
        )
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        tmp = Path(port_file + ".tmp")
        tmp.write_text(str(port))
        tmp.rename(port_file)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
        server.stop(grace=1).wait()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
