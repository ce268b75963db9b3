"""The per-RPC context: who is calling and the unit of work the call runs in."""

from __future__ import annotations

from contextvars import ContextVar

from township_platform.db import ReadPool, UnitOfWork
from township_platform.errors import Unauthenticated
from township_platform.principal import Principal

_uow: ContextVar[UnitOfWork | None] = ContextVar("township_uow", default=None)
_principal: ContextVar[Principal | None] = ContextVar("township_principal", default=None)
_reads: ContextVar[ReadPool | None] = ContextVar("township_reads", default=None)


def current_uow() -> UnitOfWork:
    """The unit of work of the RPC being handled (opened by the server interceptor)."""
    uow = _uow.get()
    if uow is None:
        raise RuntimeError("no unit of work: called outside an RPC handler")
    return uow


def current_principal() -> Principal:
    """The caller of the RPC being handled; Unauthenticated for public calls."""
    principal = _principal.get()
    if principal is None:
        raise Unauthenticated("this call needs an authenticated principal")
    return principal


def optional_principal() -> Principal | None:
    """The caller, or None on a public call."""
    return _principal.get()


def reads() -> ReadPool:
    """The raw read pool, inside a method registered as read-only."""
    pool = _reads.get()
    if pool is None:
        raise RuntimeError("no read pool: the method is not registered as read-only")
    return pool
