from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.new_event_data import NewEventData


T = TypeVar("T", bound="NewEvent")


@_attrs_define
class NewEvent:
    """An event to emit. Fields are optional here only so that a missing one is answered 422 naming
    it, rather than 400 from the JSON parser.

        Attributes:
            type_ (str): A registered event type. Example: SessionStarted.
            data (NewEventData): Valid against the type's JSON Schema (see `GET /api/v1/event-types`).
    """

    type_: str
    data: NewEventData

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        data = self.data.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.new_event_data import NewEventData

        d = dict(src_dict)
        type_ = d.pop("type")

        data = NewEventData.from_dict(d.pop("data"))

        new_event = cls(
            type_=type_,
            data=data,
        )

        return new_event
