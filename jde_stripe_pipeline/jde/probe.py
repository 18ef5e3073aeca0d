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

COMPANY_COLUMNS = ("KCOO", "KCO", "CO")
"""The column naming a row's JDE company, by preference (a table has at most one of them read here)."""


def company_column(spec: TableSpec) -> str | None:
    """The company column of a table (F4301 KCOO, F03B11 KCO, F03012 CO), None for the address book's."""
    return next((column for column in COMPANY_COLUMNS if column in spec.columns), None)


@dataclass(frozen=True)
class ChangeProbe:
    """What changed in `[since, until)`: per UPMJ date the latest stamp, and rows per table; per date the
    JDE companies of the changed rows, None when a table without a company column changed that day (the
    address book: any company's records may be affected)."""

    latest: dict[date, datetime] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    companies: dict[date, frozenset[str] | None] = field(default_factory=dict)

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
    companies: dict[date, frozenset[str] | None] = {}
    for spec in tables:
        count = 0
        company = company_column(spec)
        columns = (spec.date_column, spec.time_column, *((company,) if company else ()))
        for raw in browse(session, spec, columns, window_query(spec, window)):
            count += 1
            try:
                typed = typed_row(_stamp_spec(spec), raw)
            except RowError:
                continue  # a bad stamp cannot be placed on a day; the extract will quarantine its record
            stamp = row_stamp(spec, typed)
            if stamp is None:
                continue
            if stamp > latest.get(stamp.date(), datetime.min):
                latest[stamp.date()] = stamp
            day = stamp.date()
            if company is None or raw.get(company) is None:
                companies[day] = None
            elif day not in companies or companies[day] is not None:
                companies[day] = frozenset({*(companies.get(day) or ()), str(raw[company]).strip()})
        counts[spec.name] = count
    return ChangeProbe(latest=dict(sorted(latest.items())), rows=counts, companies=companies)


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
