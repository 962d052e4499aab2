from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="NewEventType")


@_attrs_define
class NewEventType:
    """An event type to register. Fields are optional here only so that a missing one is a 422.

    Attributes:
        name (str):  Example: CallTransferred.
        schema (Any): The JSON Schema that events' `data` must follow.
        example (Any): Must be valid against `schema`.
        description (str | Unset): At most 1000 characters. Default: ''.
    """

    name: str
    schema: Any
    example: Any
    description: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        schema = self.schema

        example = self.example

        description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "schema": schema,
                "example": example,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        schema = d.pop("schema")

        example = d.pop("example")

        description = d.pop("description", UNSET)

        new_event_type = cls(
            name=name,
            schema=schema,
            example=example,
            description=description,
        )

        return new_event_type
