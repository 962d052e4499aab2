from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.webhook_update_filter_type_0 import WebhookUpdateFilterType0
    from ..models.webhook_update_headers_type_0 import WebhookUpdateHeadersType0


T = TypeVar("T", bound="WebhookUpdate")


@_attrs_define
class WebhookUpdate:
    """The body of an update: any of the fields; those left out (or null) stay as they are.

    Attributes:
        url (None | str | Unset): http or https, at most 2048 characters.
        description (None | str | Unset): At most 1000 characters.
        event_types (list[str] | None | Unset): Registered event types, no repeats.
        enabled (bool | None | Unset): Enabling a webhook clears its `disabled_reason`.
        headers (None | Unset | WebhookUpdateHeadersType0): Headers sent with every attempt (at most 20; names are HTTP
            tokens, values at most 1000
            characters). Refused: `Host`, `Content-Type`, `Content-Length`, `Transfer-Encoding`,
            `Connection`, `User-Agent`, `traceparent`, `X-SpeakNode-*`, `webhook-*`. null clears.
        filter_ (None | Unset | WebhookUpdateFilterType0): Dotted path in the event's `data` → accepted values (strings,
            numbers or booleans): the
            webhook gets an event only when every path holds one of its values. null: every event.
        rate_limit (int | None | Unset): At most this many attempts start per second (1 to 10000), across every process;
            the
            deliveries over it wait without an attempt. null: no limit. Example: 5.
        ordered (bool | None | Unset): One attempt at a time, in the order the events were accepted; a delivery waiting
            for a
            retry holds the ones behind it until it succeeds, is exhausted or is cancelled.
        timeout (None | str | Unset): How long one attempt may take, 1s to 60s, instead of the service's setting. null
            clears. Example: 10s.
        retry_schedule (None | str | Unset): Delays before attempts 2, 3, … for deliveries created from now on (at most
            30, each at
            most 7d; "" for a single attempt), instead of the service's schedule. null clears. Example: 5s,1m,10m.
    """

    url: None | str | Unset = UNSET
    description: None | str | Unset = UNSET
    event_types: list[str] | None | Unset = UNSET
    enabled: bool | None | Unset = UNSET
    headers: None | Unset | WebhookUpdateHeadersType0 = UNSET
    filter_: None | Unset | WebhookUpdateFilterType0 = UNSET
    rate_limit: int | None | Unset = UNSET
    ordered: bool | None | Unset = UNSET
    timeout: None | str | Unset = UNSET
    retry_schedule: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.webhook_update_filter_type_0 import WebhookUpdateFilterType0
        from ..models.webhook_update_headers_type_0 import WebhookUpdateHeadersType0

        url: None | str | Unset
        if isinstance(self.url, Unset):
            url = UNSET
        else:
            url = self.url

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        event_types: list[str] | None | Unset
        if isinstance(self.event_types, Unset):
            event_types = UNSET
        elif isinstance(self.event_types, list):
            event_types = self.event_types

        else:
            event_types = self.event_types

        enabled: bool | None | Unset
        if isinstance(self.enabled, Unset):
            enabled = UNSET
        else:
            enabled = self.enabled

        headers: dict[str, Any] | None | Unset
        if isinstance(self.headers, Unset):
            headers = UNSET
        elif isinstance(self.headers, WebhookUpdateHeadersType0):
            headers = self.headers.to_dict()
        else:
            headers = self.headers

        filter_: dict[str, Any] | None | Unset
        if isinstance(self.filter_, Unset):
            filter_ = UNSET
        elif isinstance(self.filter_, WebhookUpdateFilterType0):
            filter_ = self.filter_.to_dict()
        else:
            filter_ = self.filter_

        rate_limit: int | None | Unset
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        else:
            rate_limit = self.rate_limit

        ordered: bool | None | Unset
        if isinstance(self.ordered, Unset):
            ordered = UNSET
        else:
            ordered = self.ordered

        timeout: None | str | Unset
        if isinstance(self.timeout, Unset):
            timeout = UNSET
        else:
            timeout = self.timeout

        retry_schedule: None | str | Unset
        if isinstance(self.retry_schedule, Unset):
            retry_schedule = UNSET
        else:
            retry_schedule = self.retry_schedule

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if url is not UNSET:
            field_dict["url"] = url
        if description is not UNSET:
            field_dict["description"] = description
        if event_types is not UNSET:
            field_dict["event_types"] = event_types
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if headers is not UNSET:
            field_dict["headers"] = headers
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit
        if ordered is not UNSET:
            field_dict["ordered"] = ordered
        if timeout is not UNSET:
            field_dict["timeout"] = timeout
        if retry_schedule is not UNSET:
            field_dict["retry_schedule"] = retry_schedule

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.webhook_update_filter_type_0 import WebhookUpdateFilterType0
        from ..models.webhook_update_headers_type_0 import WebhookUpdateHeadersType0

        d = dict(src_dict)

        def _parse_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        url = _parse_url(d.pop("url", UNSET))

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        def _parse_event_types(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                event_types_type_0 = cast(list[str], data)

                return event_types_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        event_types = _parse_event_types(d.pop("event_types", UNSET))

        def _parse_enabled(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        enabled = _parse_enabled(d.pop("enabled", UNSET))

        def _parse_headers(data: object) -> None | Unset | WebhookUpdateHeadersType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                headers_type_0 = WebhookUpdateHeadersType0.from_dict(data)

                return headers_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | WebhookUpdateHeadersType0, data)

        headers = _parse_headers(d.pop("headers", UNSET))

        def _parse_filter_(data: object) -> None | Unset | WebhookUpdateFilterType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                filter_type_0 = WebhookUpdateFilterType0.from_dict(data)

                return filter_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | WebhookUpdateFilterType0, data)

        filter_ = _parse_filter_(d.pop("filter", UNSET))

        def _parse_rate_limit(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rate_limit = _parse_rate_limit(d.pop("rate_limit", UNSET))

        def _parse_ordered(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        ordered = _parse_ordered(d.pop("ordered", UNSET))

        def _parse_timeout(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        timeout = _parse_timeout(d.pop("timeout", UNSET))

        def _parse_retry_schedule(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        retry_schedule = _parse_retry_schedule(d.pop("retry_schedule", UNSET))

        webhook_update = cls(
            url=url,
            description=description,
            event_types=event_types,
            enabled=enabled,
            headers=headers,
            filter_=filter_,
            rate_limit=rate_limit,
            ordered=ordered,
            timeout=timeout,
            retry_schedule=retry_schedule,
        )

        return webhook_update
