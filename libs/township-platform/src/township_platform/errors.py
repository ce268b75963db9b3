"""Domain errors: raised by domain code and repositories, mapped once to gRPC and HTTP.

Each error carries a stable ``type`` (the tail of the problem+json ``type`` URI), and for
validation errors the ``field`` and the ``rule`` it broke, so clients get a precise answer.
"""

from __future__ import annotations

import grpc


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    status: grpc.StatusCode = grpc.StatusCode.FAILED_PRECONDITION
    default_type = "conflict"

    def __init__(
        self,
        message: str,
        *,
        type: str | None = None,
        field: str | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.type = type or self.default_type
        self.field = field
        self.rule = rule


class InvalidArgument(DomainError):
    """The request is malformed or breaks a validation rule (422)."""

    status = grpc.StatusCode.INVALID_ARGUMENT
    default_type = "validation-error"


class NotFound(DomainError):
    """The object does not exist for this caller (404; also used to hide other towns' data)."""

    status = grpc.StatusCode.NOT_FOUND
    default_type = "not-found"


class PermissionDenied(DomainError):
    """The caller is known but may not do this (403)."""

    status = grpc.StatusCode.PERMISSION_DENIED
    default_type = "forbidden"


class Unauthenticated(DomainError):
    """No principal, or an invalid one (401)."""

    status = grpc.StatusCode.UNAUTHENTICATED
    default_type = "unauthenticated"


class Conflict(DomainError):
    """The object is not in a state that allows this (409)."""

    status = grpc.StatusCode.FAILED_PRECONDITION
    default_type = "conflict"


class AlreadyExists(DomainError):
    """A unique object already exists (409)."""

    status = grpc.StatusCode.ALREADY_EXISTS
    default_type = "already-exists"


class IdempotencyMismatch(DomainError):
    """The same Idempotency-Key was sent with a different body (422)."""

    status = grpc.StatusCode.INVALID_ARGUMENT
    default_type = "idempotency-key-reused"


ERROR_TYPE_KEY = "x-error-type"
ERROR_FIELD_KEY = "x-error-field"
ERROR_RULE_KEY = "x-error-rule"
