"""The change probe: a cheap read of just the update stamps changed in a window (for the sensor)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.read import browse
from jde_stripe_pipeline.jde.rows import RowError, row_stamp, typed_row
from jde_stripe_pipeline.jde.tables import TableSpec
from jde_stripe_pipeline.jde.window import UpdateWindow, window_query


@dataclass(frozen=True)
class ChangeProbe:
    """What changed in `[since, until)`: per UPMJ date the latest stamp, and rows per table."""

    latest: dict[date, datetime] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def changed_update_dates(
    session: AisSession, since: datetime, until: datetime, tables: Iterable[TableSpec]
) -> ChangeProbe:
    """A cheap sensor probe: read only the stamp (and key) columns of the rows changed in the window.

    `tables` is e.g. `CUSTOMER_TABLES` or `profile.tables`. The window includes `since`, so a row
    written in the same second as the last probe's latest stamp is not missed.
    """
    window = UpdateWindow(since, until)
    latest: dict[date, datetime] = {}
    counts: dict[str, int] = {}
    for spec in tables:
        count = 0
        columns = (spec.date_column, spec.time_column)
        for raw in browse(session, spec, columns, window_query(spec, window)):
            count += 1
            try:
                typed = typed_row(_stamp_spec(spec), raw)
            except RowError:
                continue  # a bad stamp cannot be placed on a day; the extract will quarantine its record
            stamp = row_stamp(spec, typed)
            if stamp is not None and stamp > latest.get(stamp.date(), datetime.min):
                latest[stamp.date()] = stamp
        counts[spec.name] = count
    return ChangeProbe(latest=dict(sorted(latest.items())), rows=counts)


def _stamp_spec(spec: TableSpec) -> TableSpec:
    return TableSpec(
        spec.name,
        key=spec.key,
        columns={
            spec.date_column: spec.columns[spec.date_column],
            spec.time_column: spec.columns[spec.time_column],
        },
        date_column=spec.date_column,
        time_column=spec.time_column,
    )
