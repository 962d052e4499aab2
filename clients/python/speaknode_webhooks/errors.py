"""Errors the client raises. Every answer the API refuses carries the contract's body,
``{"error": {"code", "message", "field"}}``; ``ApiError`` keeps all of it, with the status."""

from __future__ import annotations

from typing import Any


class SpeakNodeError(Exception):
    """Anything this client raises on purpose."""

    #: The ``Idempotency-Key`` an ``emit`` used: emitting again with it later can never create a
    #: second event, so keep it when you queue the event for another try. ``None`` elsewhere.
    idempotency_key: str | None = None


class ApiError(SpeakNodeError):
    """The API answered with an error status and the contract's error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        *,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (field {field})" if field else ""))
        self.status = status
        #: ``bad_request``, ``unauthorized``, ``not_found``, ``conflict``, ``validation_failed``, …
        self.code = code
        self.message = message
        #: The dotted path of the field at fault (``data.transcript[0].role``), when one is.
        self.field = field
        #: Seconds the service asked to wait (``Retry-After``), on 429 and 503.
        self.retry_after = retry_after
        self.body = body


class ConnectionFailed(SpeakNodeError):
    """No answer came: the connection failed, broke, or the request timed out. An emit may or may
    not have been stored; retry it with ``idempotency_key`` to be sure without doubling it."""
