"""The update window of an incremental extract: `[start, end)` of JDE (UPMJ, time) stamps.

Pure: the window type and the AIS query that selects a table's rows stamped in it, exact at both
edges (JDE stamps are whole seconds, in the JDE server's time zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from jde_stripe_pipeline.jde.julian import time_to_hhmmss
from jde_stripe_pipeline.jde.query import (
    AndOr,
    ComplexQuery,
    Condition,
    MatchType,
    Operator,
    Query,
    column_id,
)
from jde_stripe_pipeline.jde.tables import TableSpec


@dataclass(frozen=True)
class UpdateWindow:
    """`[start, end)` of JDE update stamps: naive datetimes in the JDE server's time zone."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("an update window is naive local time in the JDE server's zone")
        if not self.start < self.end:
            raise ValueError(f"empty update window [{self.start}, {self.end})")

    @classmethod
    def days(cls, first: date, end: date) -> UpdateWindow:
        """Whole days `[first, end)` (a Dagster daily partition range)."""
        return cls(datetime.combine(first, time(0)), datetime.combine(end, time(0)))


def _ceil_second(value: datetime) -> datetime:
    """JDE stamps are whole seconds: `stamp >= t` is `stamp >= ceil(t)`."""
    if value.microsecond:
        return value.replace(microsecond=0) + timedelta(seconds=1)
    return value


def window_query(spec: TableSpec, window: UpdateWindow) -> Query:
    """The rows of `spec` whose (UPMJ, time) stamp lies in the window, exact at both edges.

    `UPMJ >= start day AND UPMJ <= end day`, AND `(UPMJ > start day OR time >= start time)` unless
    the window starts at midnight, AND `(UPMJ < end day OR time < end time)` (or `UPMJ < end day`
    when it ends at midnight). Complex queries are only ever ANDed, so no grouping is ambiguous; a
    window of whole days is two plain conditions.
    """
    start, end = _ceil_second(window.start), _ceil_second(window.end)
    day, clock = column_id(spec.name, spec.date_column), column_id(spec.name, spec.time_column)
    conditions = [Condition(day, Operator.GREATER_EQUAL, (start.date(),))]
    complex_parts: list[ComplexQuery] = []
    if start.time() != time(0):
        complex_parts.append(_edge(day, Operator.GREATER, clock, Operator.GREATER_EQUAL, start))
    if end.time() == time(0):
        conditions.append(Condition(day, Operator.LESS, (end.date(),)))
    else:
        conditions.append(Condition(day, Operator.LESS_EQUAL, (end.date(),)))
        complex_parts.append(_edge(day, Operator.LESS, clock, Operator.LESS, end))
    return Query(conditions=tuple(conditions), complex=tuple(complex_parts))


def _edge(day: str, past_day: Operator, clock: str, on_the_day: Operator, at: datetime) -> ComplexQuery:
    """`AND (day past_day at's day OR time on_the_day at's time)`: an edge inside a day."""
    either = Query(
        conditions=(
            Condition(day, past_day, (at.date(),)),
            Condition(clock, on_the_day, (time_to_hhmmss(at.time()),)),
        ),
        match_type=MatchType.MATCH_ANY,
    )
    return ComplexQuery(AndOr.AND, either)
