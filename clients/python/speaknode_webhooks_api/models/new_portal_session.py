from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="NewPortalSession")


@_attrs_define
class NewPortalSession:
    """The link to mint. The body may be left out entirely.

    Attributes:
        read_only (bool | Unset): A read-only session shows every page but changes nothing and shows no secret (for
            support staff). Default: False.
    """

    read_only: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        read_only = self.read_only

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if read_only is not UNSET:
            field_dict["read_only"] = read_only

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        read_only = d.pop("read_only", UNSET)

        new_portal_session = cls(
            read_only=read_only,
        )

        return new_portal_session
