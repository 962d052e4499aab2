"""``SpeakNode``: the generated API client plus what generation cannot give, an ``emit`` that is
safe to retry. It mints one ``Idempotency-Key`` per event and sends it on every one of its own
tries, so however many tries reach the service, one event is stored (the service answers a repeat
of the same key and body with the first answer, for 24 hours)."""

from __future__ import annotations

import email.utils
import random
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx

from speaknode_webhooks_api.api.events import create_event
from speaknode_webhooks_api.client import AuthenticatedClient
from speaknode_webhooks_api.models.event_accepted import EventAccepted
from speaknode_webhooks_api.models.new_event import NewEvent
from speaknode_webhooks_api.models.new_event_data import NewEventData
from speaknode_webhooks_api.types import UNSET, Response

from .errors import ApiError, ConnectionFailed

T = TypeVar("T")

#: Answers that say "not now" rather than "no": rate limited, the service (or a proxy in front of
#: it) unavailable. Any other error would answer the same again, so it is raised at once.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


def unwrap(response: Response[Any]) -> Any:
    """The parsed answer of a generated ``*.sync_detailed`` call, or ``ApiError`` for an error
    status. Use it around any generated call: ``unwrap(list_webhooks.sync_detailed(client=c.api))``."""
    if 200 <= response.status_code < 300:
        return response.parsed
    raise api_error(response.status_code, response.headers, response.content)


def api_error(status: int, headers: Mapping[str, str], content: bytes) -> ApiError:
    try:
        body = httpx.Response(status, content=content).json()
        detail = body["error"]
        code, message, field = detail["code"], detail["message"], detail.get("field")
    except (ValueError, KeyError, TypeError):
        # Not the contract's body: a proxy in front of the service answered. Say so plainly.
        body = content.decode("utf-8", "replace")
        code, message, field = "http_error", body[:200] or f"HTTP {status}", None
    return ApiError(
        status, code, message, field, retry_after=retry_after(headers.get("retry-after")), body=body
    )


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class SpeakNode:
    """A workspace's view of the API. ``api`` is the generated client, for every other route."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        httpx_args: dict[str, Any] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = AuthenticatedClient(
            base_url=self.base_url,
            token=api_key,
            timeout=httpx.Timeout(timeout),
            httpx_args=httpx_args or {},
        )
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._sleep = sleep

    def emit(
        self,
        event_type: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        traceparent: str | None = None,
    ) -> EventAccepted:
        """Emits one event and answers what the service stored. Retries 429 (after
        ``Retry-After``), 502/503/504, connection errors and timeouts, at most ``max_attempts``
        tries in all, with the same key every time. Raises ``ApiError`` or ``ConnectionFailed``
        carrying that key when it gives up, and ``ApiError`` at once for any other refusal."""
        key = idempotency_key or f"sn_{uuid.uuid4().hex}"
        body = NewEvent(type_=event_type, data=NewEventData.from_dict(dict(data)))
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                # The body serialises to the same bytes on every try (same dict, same order), as
                # the service requires of a repeat: another body with this key would be 409.
                response = create_event.sync_detailed(
                    client=self.api, body=body, idempotency_key=key, traceparent=traceparent or UNSET
                )
            except httpx.TransportError as e:
                if last:
                    raise self._keyed(ConnectionFailed(f"no answer from {self.base_url}: {e!r}"), key) from e
                self._sleep(self._delay(attempt))
                continue
            if response.status_code == 202 and isinstance(response.parsed, EventAccepted):
                return response.parsed
            error = self._keyed(api_error(response.status_code, response.headers, response.content), key)
            if last or response.status_code not in RETRYABLE_STATUSES:
                raise error
            wait = error.retry_after if error.retry_after is not None else self._delay(attempt)
            if wait > self.max_retry_after:
                raise error
            self._sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _delay(self, attempt: int) -> float:
        # Exponential, capped, with jitter so that many platform processes retrying after one
        # outage do not arrive together.
        ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    @staticmethod
    def _keyed(error: Any, key: str) -> Any:
        error.idempotency_key = key
        return error

    def call(self, operation: Callable[..., Response[T]], *args: Any, **kwargs: Any) -> Any:
        """Runs a generated operation's ``sync_detailed`` with this client and unwraps it:
        ``sn.call(list_attempts.sync_detailed, webhook_id, limit=10)``."""
        return unwrap(operation(*args, client=self.api, **kwargs))
