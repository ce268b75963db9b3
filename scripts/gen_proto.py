"""Regenerate libs/township-proto from proto/ (Python, gRPC stubs and .pyi typing stubs)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "libs/township-proto/src"


def main() -> int:
    """Generate code for every .proto under proto/ into OUT."""
    pkg = OUT / "township"
    for child in pkg.iterdir() if pkg.exists() else []:
        if child.is_dir():
            shutil.rmtree(child)
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    include = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO}",
        f"-I{include}",
        f"--python_out={OUT}",
        f"--grpc_python_out={OUT}",
        f"--mypy_out={OUT}",
        f"--mypy_grpc_out={OUT}",
        *files,
    ]
    if protoc.main(args) != 0:
        return 1
    pkg.mkdir(parents=True, exist_ok=True)
    for d in [pkg, *(p for p in pkg.rglob("*") if p.is_dir())]:
        (d / "__init__.py").touch()
    (pkg / "py.typed").touch()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
