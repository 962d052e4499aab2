from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="TestSend")


@_attrs_define
class TestSend:
    """Which event type's example to send. Optional here only so that a missing one is a 422.

    Attributes:
        event_type (str): A registered event type; the webhook need not subscribe to it. Example: ConversationComplete.
    """

    event_type: str

    def to_dict(self) -> dict[str, Any]:
        event_type = self.event_type

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "event_type": event_type,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        event_type = d.pop("event_type")

        test_send = cls(
            event_type=event_type,
        )

        return test_send
