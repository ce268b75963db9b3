"""Routers skip a path none of their routes can match, and every route is still reached."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from gateway_testkit import make_settings
from starlette.routing import Match

from township_gateway.app import create_app
from township_gateway.routing import PrefixRouter, static_prefix


def _included(app: Any) -> list[PrefixRouter]:
    routers = [getattr(r, "original_router", None) for r in app.router.routes]
    return [r for r in routers if r is not None]


def _scope(path: str, method: str = "GET", root_path: str = "") -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": root_path + path,
        "root_path": root_path,
        "headers": [],
        "query_string": b"",
    }


def _example(template: str) -> str:
    """A concrete path for a route template ({x} and {x:path} filled in)."""
    return re.sub(r"\{[^}:]+:path\}", "a/b", re.sub(r"\{[^}:]+\}", "x1", template))


def test_every_router_of_the_gateway_skips_foreign_paths(keys: tuple[Path, Path]) -> None:
    app = create_app(make_settings(jwt_public_key_file=str(keys[1])))
    routers = _included(app)
    assert routers and all(isinstance(r, PrefixRouter) for r in routers)
    for router in routers:
        for route in router.routes:
            path = getattr(route, "path", None)
            assert path and static_prefix(route), f"{path}: a route with no static part"
            assert path.startswith(router.prefixes())


def test_a_router_says_none_at_once_outside_its_paths_and_matches_inside() -> None:
    router = PrefixRouter(prefix="/api/v1/things")
    tried: list[str] = []

    @router.get("/{thing_id}")
    async def one(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @router.get("/{thing_id}/parts/{rest:path}")
    async def parts(thing_id: str, rest: str) -> dict[str, str]:
        return {"id": thing_id, "rest": rest}

    assert router.prefixes() == ("/api/v1/things/",)
    for route in router.routes:
        original = route.matches

        def counting(scope: Any, original: Any = original) -> Any:
            tried.append(scope["path"])
            return original(scope)

        route.matches = counting  # type: ignore[method-assign]
    app = FastAPI()
    app.include_router(router)
    included = app.router.routes[-1]
    for root in ("", "/gw"):
        # outside: no route is tried
        for path in ("/api/v1/other/1", "/api/v1/thing", "/gw/api/v1/things/1"):
            assert included.matches(_scope(path, root_path=root))[0] == Match.NONE
        assert tried == []
        # inside: FastAPI's own matching decides
        assert included.matches(_scope("/api/v1/things/7", root_path=root))[0] == Match.FULL
        assert included.matches(_scope("/api/v1/things/7/parts/a/b", root_path=root))[0] == (
            Match.FULL
        )
        assert included.matches(_scope("/api/v1/things/7", "POST", root))[0] == Match.PARTIAL
        assert tried
        tried.clear()


def test_the_gateway_still_reaches_every_route(keys: tuple[Path, Path]) -> None:
    """Each route template, filled in, is matched by its own router (FULL or, for another
    method, PARTIAL), and by no router whose static parts it lacks."""
    app = create_app(make_settings(jwt_public_key_file=str(keys[1])))
    for router in _included(app):
        for route in router.routes:
            template = route.path  # type: ignore[attr-defined]
            method = sorted(route.methods or {"GET"})[0]  # type: ignore[attr-defined]
            for root in ("", "/gateway"):
                scope = {**_scope(_example(template), method, root), "app": app}
                matched = [r for r in app.router.routes if r.matches(scope)[0] != Match.NONE]
                owners = [getattr(r, "original_router", r) for r in matched]
                assert router in owners, (template, root)
