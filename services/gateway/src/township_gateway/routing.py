"""Routers that turn away, in one string comparison, a path none of their routes can match.

FastAPI matches an included router by trying each of its routes in turn (a regular
expression and some bookkeeping per route, about 2 µs), and a request tries every router
included before the one that holds its route, twice for the one that does. With a hundred
routes, a public lookup in the last router or a 404 paid 0.2–0.4 ms of route matching
before any of its own work (measured in-process: ``/healthz`` 262 µs against 61 µs for a
bare FastAPI hello). A route's path can only match a request path that starts with the
route's static part (everything before its first ``{``), so a router whose routes' static
parts are all absent from the path is skipped without trying any of them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette._utils import get_route_path  # what Starlette's own routes match against
from starlette.routing import Match
from starlette.types import Scope


def static_prefix(route: Any) -> str:
    """What every path matched by ``route`` starts with ("" when unknown: matches all)."""
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return ""
    return path.split("{", 1)[0]


class PrefixRouter(APIRouter):
    """An ``APIRouter`` that says NONE at once for paths outside its routes' static parts."""

    _prefixes: tuple[str, ...] = ("",)
    _prefixes_for: int = -1

    def prefixes(self) -> tuple[str, ...]:
        """The static parts of this router's routes (recomputed when routes are added)."""
        if self._prefixes_for != len(self.routes):
            self._prefixes = tuple(sorted({static_prefix(r) for r in self.routes}))
            self._prefixes_for = len(self.routes)
        return self._prefixes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """NONE for an HTTP path no route here can match; FastAPI's matching otherwise."""
        if scope["type"] == "http" and not get_route_path(scope).startswith(self.prefixes()):
            return Match.NONE, {}
        return super().matches(scope)
