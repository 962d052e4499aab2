from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_disabled_reason_type_1 import WebhookDisabledReasonType1
from ..models.webhook_disabled_reason_type_2_type_1 import (
    WebhookDisabledReasonType2Type1,
)
from ..models.webhook_disabled_reason_type_3_type_1 import (
    WebhookDisabledReasonType3Type1,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.webhook_filter_type_0 import WebhookFilterType0
    from ..models.webhook_headers import WebhookHeaders


T = TypeVar("T", bound="Webhook")


@_attrs_define
class Webhook:
    """A webhook: where to send which event types.

    Attributes:
        id (str):  Example: wh_2Vb8kQ4hN1xZ.
        url (str):  Example: https://example.com/hooks.
        description (str):
        event_types (list[str]):  Example: ['ConversationComplete'].
        enabled (bool):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        headers (WebhookHeaders): Sent with every attempt; `{}` when none.
        ordered (bool): One attempt at a time, in the order the events were accepted.
        disabled_reason (None | Unset | WebhookDisabledReasonType1 | WebhookDisabledReasonType2Type1 |
            WebhookDisabledReasonType3Type1): Null while enabled; else why not.
        secret (str | Unset): The signing secret (`whsec_…`): only in the answer to create.
        filter_ (None | Unset | WebhookFilterType0): Dotted path in `data` → accepted values; null: every event of its
            types.
        rate_limit (int | None | Unset): Attempts per second that may start; null: no limit.
        timeout (None | str | Unset): The attempt timeout of this webhook; null: the service's setting. Example: 10s.
        retry_schedule (None | str | Unset): The retry schedule of deliveries created from now on; null: the service's.
            Example: 5s,1m,10m.
    """

    id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
    headers: WebhookHeaders
    ordered: bool
    disabled_reason: (
        None
        | Unset
        | WebhookDisabledReasonType1
        | WebhookDisabledReasonType2Type1
        | WebhookDisabledReasonType3Type1
    ) = UNSET
    secret: str | Unset = UNSET
    filter_: None | Unset | WebhookFilterType0 = UNSET
    rate_limit: int | None | Unset = UNSET
    timeout: None | str | Unset = UNSET
    retry_schedule: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.webhook_filter_type_0 import WebhookFilterType0

        id = self.id

        url = self.url

        description = self.description

        event_types = self.event_types

        enabled = self.enabled

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        headers = self.headers.to_dict()

        ordered = self.ordered

        disabled_reason: None | str | Unset
        if isinstance(self.disabled_reason, Unset):
            disabled_reason = UNSET
        elif (
            isinstance(self.disabled_reason, WebhookDisabledReasonType1)
            or isinstance(self.disabled_reason, WebhookDisabledReasonType2Type1)
            or isinstance(self.disabled_reason, WebhookDisabledReasonType3Type1)
        ):
            disabled_reason = self.disabled_reason.value
        else:
            disabled_reason = self.disabled_reason

        secret = self.secret

        filter_: dict[str, Any] | None | Unset
        if isinstance(self.filter_, Unset):
            filter_ = UNSET
        elif isinstance(self.filter_, WebhookFilterType0):
            filter_ = self.filter_.to_dict()
        else:
            filter_ = self.filter_

        rate_limit: int | None | Unset
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        else:
            rate_limit = self.rate_limit

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
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "url": url,
                "description": description,
                "event_types": event_types,
                "enabled": enabled,
                "created_at": created_at,
                "updated_at": updated_at,
                "headers": headers,
                "ordered": ordered,
            }
        )
        if disabled_reason is not UNSET:
            field_dict["disabled_reason"] = disabled_reason
        if secret is not UNSET:
            field_dict["secret"] = secret
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit
        if timeout is not UNSET:
            field_dict["timeout"] = timeout
        if retry_schedule is not UNSET:
            field_dict["retry_schedule"] = retry_schedule

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.webhook_filter_type_0 import WebhookFilterType0
        from ..models.webhook_headers import WebhookHeaders

        d = dict(src_dict)
        id = d.pop("id")

        url = d.pop("url")

        description = d.pop("description")

        event_types = cast(list[str], d.pop("event_types"))

        enabled = d.pop("enabled")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        headers = WebhookHeaders.from_dict(d.pop("headers"))

        ordered = d.pop("ordered")

        def _parse_disabled_reason(
            data: object,
        ) -> (
            None
            | Unset
            | WebhookDisabledReasonType1
            | WebhookDisabledReasonType2Type1
            | WebhookDisabledReasonType3Type1
        ):
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disabled_reason_type_1 = WebhookDisabledReasonType1(data)

                return disabled_reason_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disabled_reason_type_2_type_1 = WebhookDisabledReasonType2Type1(data)

                return disabled_reason_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disabled_reason_type_3_type_1 = WebhookDisabledReasonType3Type1(data)

                return disabled_reason_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                None
                | Unset
                | WebhookDisabledReasonType1
                | WebhookDisabledReasonType2Type1
                | WebhookDisabledReasonType3Type1,
                data,
            )

        disabled_reason = _parse_disabled_reason(d.pop("disabled_reason", UNSET))

        secret = d.pop("secret", UNSET)

        def _parse_filter_(data: object) -> None | Unset | WebhookFilterType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                filter_type_0 = WebhookFilterType0.from_dict(data)

                return filter_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | WebhookFilterType0, data)

        filter_ = _parse_filter_(d.pop("filter", UNSET))

        def _parse_rate_limit(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rate_limit = _parse_rate_limit(d.pop("rate_limit", UNSET))

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

        webhook = cls(
            id=id,
            url=url,
            description=description,
            event_types=event_types,
            enabled=enabled,
            created_at=created_at,
            updated_at=updated_at,
            headers=headers,
            ordered=ordered,
            disabled_reason=disabled_reason,
            secret=secret,
            filter_=filter_,
            rate_limit=rate_limit,
            timeout=timeout,
            retry_schedule=retry_schedule,
        )

        webhook.additional_properties = d
        return webhook

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
