from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.new_webhook_filter_type_0 import NewWebhookFilterType0
    from ..models.new_webhook_headers_type_0 import NewWebhookHeadersType0


T = TypeVar("T", bound="NewWebhook")


@_attrs_define
class NewWebhook:
    """The body of a create. Fields are optional here only so that a missing one is answered 422
    naming it, as the contract asks, rather than 400 from the JSON parser.

        Attributes:
            url (str): http or https, at most 2048 characters.
            event_types (list[str]): Registered event types, no repeats.
            description (str | Unset): At most 1000 characters. Default: ''.
            enabled (bool | Unset):  Default: True.
            headers (NewWebhookHeadersType0 | None | Unset): As in an update.
            filter_ (NewWebhookFilterType0 | None | Unset): As in an update.
            rate_limit (int | None | Unset): As in an update.
            ordered (bool | Unset): As in an update. Default: False.
            timeout (None | str | Unset): As in an update.
            retry_schedule (None | str | Unset): As in an update.
    """

    url: str
    event_types: list[str]
    description: str | Unset = ""
    enabled: bool | Unset = True
    headers: NewWebhookHeadersType0 | None | Unset = UNSET
    filter_: NewWebhookFilterType0 | None | Unset = UNSET
    rate_limit: int | None | Unset = UNSET
    ordered: bool | Unset = False
    timeout: None | str | Unset = UNSET
    retry_schedule: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.new_webhook_filter_type_0 import NewWebhookFilterType0
        from ..models.new_webhook_headers_type_0 import NewWebhookHeadersType0

        url = self.url

        event_types = self.event_types

        description = self.description

        enabled = self.enabled

        headers: dict[str, Any] | None | Unset
        if isinstance(self.headers, Unset):
            headers = UNSET
        elif isinstance(self.headers, NewWebhookHeadersType0):
            headers = self.headers.to_dict()
        else:
            headers = self.headers

        filter_: dict[str, Any] | None | Unset
        if isinstance(self.filter_, Unset):
            filter_ = UNSET
        elif isinstance(self.filter_, NewWebhookFilterType0):
            filter_ = self.filter_.to_dict()
        else:
            filter_ = self.filter_

        rate_limit: int | None | Unset
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        else:
            rate_limit = self.rate_limit

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

        field_dict.update(
            {
                "url": url,
                "event_types": event_types,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
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
        from ..models.new_webhook_filter_type_0 import NewWebhookFilterType0
        from ..models.new_webhook_headers_type_0 import NewWebhookHeadersType0

        d = dict(src_dict)
        url = d.pop("url")

        event_types = cast(list[str], d.pop("event_types"))

        description = d.pop("description", UNSET)

        enabled = d.pop("enabled", UNSET)

        def _parse_headers(data: object) -> NewWebhookHeadersType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                headers_type_0 = NewWebhookHeadersType0.from_dict(data)

                return headers_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(NewWebhookHeadersType0 | None | Unset, data)

        headers = _parse_headers(d.pop("headers", UNSET))

        def _parse_filter_(data: object) -> NewWebhookFilterType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                filter_type_0 = NewWebhookFilterType0.from_dict(data)

                return filter_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(NewWebhookFilterType0 | None | Unset, data)

        filter_ = _parse_filter_(d.pop("filter", UNSET))

        def _parse_rate_limit(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rate_limit = _parse_rate_limit(d.pop("rate_limit", UNSET))

        ordered = d.pop("ordered", UNSET)

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

        new_webhook = cls(
            url=url,
            event_types=event_types,
            description=description,
            enabled=enabled,
            headers=headers,
            filter_=filter_,
            rate_limit=rate_limit,
            ordered=ordered,
            timeout=timeout,
            retry_schedule=retry_schedule,
        )

        return new_webhook
