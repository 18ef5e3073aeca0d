"""Validate raw GRID_DATA rows into typed values, naming the `TABLE.ALIAS` that fails.

Each column type is one plain parser in strict-enough form: an INT must be a whole number, a
DECIMAL an int or a `Decimal` (a float means someone parsed JSON wrongly, and is refused), a DATE
the `yyyyMMdd` string AIS writes, a TIME an HHMMSS integer. A failure raises `RowError` carrying the
column id, which the extract turns into a `QuarantinedRecord`. Plain functions, not a pydantic
`TypeAdapter` per value: the adapters added nothing to these parsers' checks and cost ~0.5 s per
50,000 rows of an extract (profiled at 2,000 invoices).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.jde.julian import parse_grid_date, parse_grid_time
from jde_stripe_pipeline.jde.tables import ColumnType, TableSpec


class RowError(ValueError):
    """One column of one row is not what the table spec says."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _whole_number(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(f"expected a whole number, got {value!r}")


def _exact_decimal(value: object) -> Decimal:
    if type(value) is Decimal and value.is_finite():  # the common case, ahead of the checks below
        return value
    if isinstance(value, bool | float):
        raise ValueError(f"expected an exact number, got {type(value).__name__} {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    raise ValueError(f"expected a number, got {value!r}")


def _text(value: object) -> str:
    """Right-trimmed: AIS writes a blank character field as one space, which becomes `""` here."""
    if type(value) is str:  # the common case, ahead of the checks below
        return value.rstrip()
    if value is None:
        return ""
    if isinstance(value, str):
        return value.rstrip()
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text, got {value!r}")


_PARSERS: dict[ColumnType, Callable[[object], Any]] = {
    ColumnType.INT: _whole_number,
    ColumnType.DECIMAL: _exact_decimal,
    ColumnType.TEXT: _text,
    ColumnType.DATE: parse_grid_date,
    ColumnType.TIME: parse_grid_time,
}
_Plan = list[tuple[str, Callable[[object], Any]]]


_plans: dict[int, tuple[TableSpec, _Plan]] = {}
"""Plans by spec object; the spec is kept with its plan, so its id is not reused while cached."""


def _plan(spec: TableSpec) -> _Plan:
    """Each column's alias and parser, worked out once per spec object (a spec is frozen): an
    extract types its rows a few at a time (one order's, one customer's), ~12,000 batches for the
    bench's 2,000 orders, and planning each batch again was ~3% of the extract's CPU."""
    cached = _plans.get(id(spec))
    if cached is None:
        if len(_plans) >= 256:  # specs built on the fly (a probe's, a profile property's) do not pile up
            _plans.clear()
        cached = _plans[id(spec)] = (spec, [(alias, _PARSERS[kind]) for alias, kind in spec.columns.items()])
    return cached[1]


def _typed(spec: TableSpec, plan: _Plan, raw: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for alias, parse in plan:
        if alias not in raw:
            raise RowError(f"{spec.name}.{alias}", "column missing from the AIS response")
        try:
            values[alias] = parse(raw[alias])
        except ValueError as exc:
            raise RowError(f"{spec.name}.{alias}", str(exc)) from None
    return values


def typed_row(spec: TableSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Every column of `spec` from `raw`, validated; a missing or bad column raises `RowError`."""
    return _typed(spec, _plan(spec), raw)


class BadRow(Exception):
    """A row that failed its table spec, kept with its raw values for the quarantine."""

    def __init__(self, error: RowError, raw: Mapping[str, Any]):
        super().__init__(str(error))
        self.error = error
        self.raw = dict(raw)


def typed_rows(spec: TableSpec, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every row typed by its spec; the first that fails raises `BadRow`."""
    typed = []
    plan = _plan(spec)
    for raw in rows:
        try:
            typed.append(_typed(spec, plan, raw))
        except RowError as error:
            raise BadRow(error, raw) from None
    return typed


def row_stamp(spec: TableSpec, row: Mapping[str, Any]) -> datetime | None:
    """The (UPMJ, time) update stamp of a typed row; no date → None."""
    day = row.get(spec.date_column)
    if day is None:
        return None
    return datetime.combine(day, row.get(spec.time_column) or time(0))


def blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None
