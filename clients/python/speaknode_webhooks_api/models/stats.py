from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.stats_outcomes import StatsOutcomes
    from ..models.stats_point import StatsPoint
    from ..models.stats_totals import StatsTotals


T = TypeVar("T", bound="Stats")


@_attrs_define
class Stats:
    """The statistics of a window.

    Attributes:
        since (datetime.datetime):
        until (datetime.datetime):
        bucket (str): `minute`, `hour` or `day`.
        totals (StatsTotals): Attempts, and how many succeeded (2xx) or failed.
        series (list[StatsPoint]): Every bucket of the window in order, empty ones with zeros; the first holds `since`.
        outcomes (StatsOutcomes): Attempts by HTTP status (`"200"`), or by error when no response came (`"timeout"`).
            Example: {'200': 100, '500': 15, 'timeout': 5}.
    """

    since: datetime.datetime
    until: datetime.datetime
    bucket: str
    totals: StatsTotals
    series: list[StatsPoint]
    outcomes: StatsOutcomes
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        since = self.since.isoformat()

        until = self.until.isoformat()

        bucket = self.bucket

        totals = self.totals.to_dict()

        series = []
        for series_item_data in self.series:
            series_item = series_item_data.to_dict()
            series.append(series_item)

        outcomes = self.outcomes.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "since": since,
                "until": until,
                "bucket": bucket,
                "totals": totals,
                "series": series,
                "outcomes": outcomes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.stats_outcomes import StatsOutcomes
        from ..models.stats_point import StatsPoint
        from ..models.stats_totals import StatsTotals

        d = dict(src_dict)
        since = datetime.datetime.fromisoformat(d.pop("since"))

        until = datetime.datetime.fromisoformat(d.pop("until"))

        bucket = d.pop("bucket")

        totals = StatsTotals.from_dict(d.pop("totals"))

        series = []
        _series = d.pop("series")
        for series_item_data in _series:
            series_item = StatsPoint.from_dict(series_item_data)

            series.append(series_item)

        outcomes = StatsOutcomes.from_dict(d.pop("outcomes"))

        stats = cls(
            since=since,
            until=until,
            bucket=bucket,
            totals=totals,
            series=series,
            outcomes=outcomes,
        )

        stats.additional_properties = d
        return stats

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
