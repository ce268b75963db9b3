"""The API's OpenAPI document: generated from the routes, committed, served as a file.

``python -m township_gateway.openapi`` (``make openapi``) writes ``openapi.json`` next to this
module; a test fails when it differs from what the routes generate, like ``proto-check``.
Serving the committed bytes keeps the schema generation (several MiB of transient objects
for ~100 operations) out of the running gateway, and gives API clients a reviewed artifact
to generate code from. Only the version differs between deployments; it is filled in when
the gateway starts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("openapi.json")
VERSION_PLACEHOLDER = "0.0.0+placeholder"


def render(schema: dict[str, Any]) -> bytes:
    """The document as committed: stable key order, the version as a placeholder."""
    document = {**schema, "info": {**schema["info"], "version": VERSION_PLACEHOLDER}}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode()


def served(version: str) -> bytes:
    """The committed document with this deployment's version."""
    raw = SCHEMA_FILE.read_bytes()
    return raw.replace(json.dumps(VERSION_PLACEHOLDER).encode(), json.dumps(version).encode(), 1)


def generate() -> bytes:
    """Build the app with neutral settings and render its document."""
    from township_gateway.app import create_app
    from township_gateway.config import GatewaySettings

    settings = GatewaySettings(
        dev_mode=True,
        jwt_public_key_file=None,
        jwt_jwks_url="http://127.0.0.1:9/jwks",  # never fetched: no request is verified
        townships_file=None,
    )
    return render(create_app(settings).openapi())


def main() -> None:
    """Write (or, with ``--check``, compare) ``openapi.json``."""
    fresh = generate()
    if "--check" in sys.argv[1:]:
        if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_bytes() != fresh:
            print(f"{SCHEMA_FILE.name} is out of date: run make openapi", file=sys.stderr)
            sys.exit(1)
        print("openapi-check: the committed document matches the routes")
        return
    SCHEMA_FILE.write_bytes(fresh)
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
