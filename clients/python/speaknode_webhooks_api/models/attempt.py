from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.attempt_error_type_1 import AttemptErrorType1
from ..models.attempt_error_type_2_type_1 import AttemptErrorType2Type1
from ..models.attempt_error_type_3_type_1 import AttemptErrorType3Type1
from ..models.attempt_trigger import AttemptTrigger
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.attempt_payload import AttemptPayload


T = TypeVar("T", bound="Attempt")


@_attrs_define
class Attempt:
    """One HTTP request of a delivery: an entry of the Request History.

    Attributes:
        id (str):
        webhook_id (str):
        delivery_id (str):
        event_id (str):
        event_type (str):
        attempt (int): 1 for the first attempt of the delivery.
        trigger (AttemptTrigger): `scheduled` (first attempt), `retry`, `manual` or `test`.
        timestamp (datetime.datetime):
        duration_ms (int):
        payload (AttemptPayload): The JSON body that was sent.
        response (str): The first 64 KiB of the body that came back.
        response_truncated (bool):
        http_status (int | None | Unset): Null when no response came; then `error` says why.
        error (AttemptErrorType1 | AttemptErrorType2Type1 | AttemptErrorType3Type1 | None | Unset): Why no response
            came; null when one did.
        next_attempt_at (datetime.datetime | None | Unset): When the follow-up attempt was scheduled, if one was.
    """

    id: str
    webhook_id: str
    delivery_id: str
    event_id: str
    event_type: str
    attempt: int
    trigger: AttemptTrigger
    timestamp: datetime.datetime
    duration_ms: int
    payload: AttemptPayload
    response: str
    response_truncated: bool
    http_status: int | None | Unset = UNSET
    error: (
        AttemptErrorType1
        | AttemptErrorType2Type1
        | AttemptErrorType3Type1
        | None
        | Unset
    ) = UNSET
    next_attempt_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        webhook_id = self.webhook_id

        delivery_id = self.delivery_id

        event_id = self.event_id

        event_type = self.event_type

        attempt = self.attempt

        trigger = self.trigger.value

        timestamp = self.timestamp.isoformat()

        duration_ms = self.duration_ms

        payload = self.payload.to_dict()

        response = self.response

        response_truncated = self.response_truncated

        http_status: int | None | Unset
        if isinstance(self.http_status, Unset):
            http_status = UNSET
        else:
            http_status = self.http_status

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        elif (
            isinstance(self.error, AttemptErrorType1)
            or isinstance(self.error, AttemptErrorType2Type1)
            or isinstance(self.error, AttemptErrorType3Type1)
        ):
            error = self.error.value
        else:
            error = self.error

        next_attempt_at: None | str | Unset
        if isinstance(self.next_attempt_at, Unset):
            next_attempt_at = UNSET
        elif isinstance(self.next_attempt_at, datetime.datetime):
            next_attempt_at = self.next_attempt_at.isoformat()
        else:
            next_attempt_at = self.next_attempt_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "webhook_id": webhook_id,
                "delivery_id": delivery_id,
                "event_id": event_id,
                "event_type": event_type,
                "attempt": attempt,
                "trigger": trigger,
                "timestamp": timestamp,
                "duration_ms": duration_ms,
                "payload": payload,
                "response": response,
                "response_truncated": response_truncated,
            }
        )
        if http_status is not UNSET:
            field_dict["http_status"] = http_status
        if error is not UNSET:
            field_dict["error"] = error
        if next_attempt_at is not UNSET:
            field_dict["next_attempt_at"] = next_attempt_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attempt_payload import AttemptPayload

        d = dict(src_dict)
        id = d.pop("id")

        webhook_id = d.pop("webhook_id")

        delivery_id = d.pop("delivery_id")

        event_id = d.pop("event_id")

        event_type = d.pop("event_type")

        attempt = d.pop("attempt")

        trigger = AttemptTrigger(d.pop("trigger"))

        timestamp = datetime.datetime.fromisoformat(d.pop("timestamp"))

        duration_ms = d.pop("duration_ms")

        payload = AttemptPayload.from_dict(d.pop("payload"))

        response = d.pop("response")

        response_truncated = d.pop("response_truncated")

        def _parse_http_status(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        http_status = _parse_http_status(d.pop("http_status", UNSET))

        def _parse_error(
            data: object,
        ) -> (
            AttemptErrorType1
            | AttemptErrorType2Type1
            | AttemptErrorType3Type1
            | None
            | Unset
        ):
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                error_type_1 = AttemptErrorType1(data)

                return error_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                error_type_2_type_1 = AttemptErrorType2Type1(data)

                return error_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                error_type_3_type_1 = AttemptErrorType3Type1(data)

                return error_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                AttemptErrorType1
                | AttemptErrorType2Type1
                | AttemptErrorType3Type1
                | None
                | Unset,
                data,
            )

        error = _parse_error(d.pop("error", UNSET))

        def _parse_next_attempt_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("next_attempt_at", UNSET))

        attempt = cls(
            id=id,
            webhook_id=webhook_id,
            delivery_id=delivery_id,
            event_id=event_id,
            event_type=event_type,
            attempt=attempt,
            trigger=trigger,
            timestamp=timestamp,
            duration_ms=duration_ms,
            payload=payload,
            response=response,
            response_truncated=response_truncated,
            http_status=http_status,
            error=error,
            next_attempt_at=next_attempt_at,
        )

        attempt.additional_properties = d
        return attempt

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
