"""The AGGREGATION data service: group, aggregate and order the matching rows, exactly.

Request: `"aggregation": {"aggregations": [{"aggregation": "SUM", "column": "F4311.AEXP"}],
"groupBy": [{"column": "F4311.CRCD"}], "orderBy": [{"column": "F4311.CRCD", "direction": "ASC"}]}`.
Answer (as the reference has it, under `ds_<TABLE>.output[]`): one entry per group,
`{"groupBy": {"F4311.CRCD": "USD"}, "F4311.AEXP_SUM": 1234.56}` (no `groupBy` key without grouping).
Sums and averages are computed in Python with Decimal, never through SQLite's REAL arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.sandboxes.ais.query import QueryError, grid_value, resolve_column
from jde_stripe_pipeline.sandboxes.ais.store import python_value
from jde_stripe_pipeline.sandboxes.ais.tables import Column, Kind, Table

AGGREGATIONS = ("SUM", "AVG", "MIN", "MAX", "COUNT", "COUNT_DISTINCT", "SUM_DISTINCT", "AVG_DISTINCT")
_NUMERIC_ONLY = ("SUM", "AVG", "SUM_DISTINCT", "AVG_DISTINCT")


@dataclass(frozen=True)
class AggregatePlan:
    table: Table
    aggregates: tuple[tuple[str, Column], ...]
    group_by: tuple[Column, ...]
    order_by: tuple[tuple[Column, bool], ...]
    """(column, descending), each one of the group_by columns."""

    @property
    def columns(self) -> tuple[Column, ...]:
        """The stored columns to read: groups first, then the aggregated ones."""
        return self.group_by + tuple(column for _, column in self.aggregates)


def plan_aggregate(aggregation: Any, table: Table) -> AggregatePlan:
    if not isinstance(aggregation, Mapping):
        raise QueryError("an AGGREGATION request needs aggregation: {aggregations, groupBy?, orderBy?}")
    unknown = sorted(set(aggregation) - {"aggregations", "groupBy", "orderBy"})
    if unknown:
        raise QueryError(f"aggregation.{unknown[0]} is not supported by the sandbox")
    entries = aggregation.get("aggregations")
    if not isinstance(entries, list) or not entries:
        raise QueryError("aggregation.aggregations must be a non-empty list for an AGGREGATION request")
    aggregates = []
    for index, entry in enumerate(entries):
        field = f"aggregation.aggregations[{index}]"
        if not isinstance(entry, Mapping):
            raise QueryError(f"{field} must be an object with aggregation and column")
        kind = entry.get("aggregation")
        if kind not in AGGREGATIONS:
            raise QueryError(f"{field}.aggregation must be one of {', '.join(AGGREGATIONS)}, got {kind!r}")
        column = resolve_column(table, entry.get("column"), f"{field}.column")
        if kind in _NUMERIC_ONLY and column.kind not in (Kind.DECIMAL, Kind.INTEGER):
            raise QueryError(f"{field}: {kind} needs a numeric column, {table.name}.{column.alias} is not")
        aggregates.append((str(kind), column))
    field = "aggregation.groupBy"
    group_by = tuple(
        resolve_column(table, _column_of(entry, f"{field}[{i}]"), f"{field}[{i}].column")
        for i, entry in enumerate(_list(aggregation.get("groupBy"), "aggregation.groupBy"))
    )
    order_by = []
    for index, entry in enumerate(_list(aggregation.get("orderBy"), "aggregation.orderBy")):
        field = f"aggregation.orderBy[{index}]"
        column = resolve_column(table, _column_of(entry, field), f"{field}.column")
        if column not in group_by:
            raise QueryError(f"{field}: an AGGREGATION can only order by its groupBy columns")
        direction = str(entry.get("direction", "ASC")).upper()
        if direction not in ("ASC", "DESC"):
            raise QueryError(f"{field}.direction must be ASC or DESC, got {entry.get('direction')!r}")
        order_by.append((column, direction == "DESC"))
    return AggregatePlan(table, tuple(aggregates), group_by, tuple(order_by))


def _list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise QueryError(f"{field} must be a list")
    return value


def _column_of(entry: Any, field: str) -> Any:
    if not isinstance(entry, Mapping):
        raise QueryError(f"{field} must be an object with column")
    return entry.get("column")


def aggregate_output(plan: AggregatePlan, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """`output[]` for the stored `rows` (values in `plan.columns` order)."""
    width = len(plan.group_by)
    groups: dict[tuple[Any, ...], list[Sequence[Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[:width]), []).append(row[width:])
    if not plan.group_by and not groups:
        groups[()] = []
    keys = list(groups)
    for column, descending in reversed(plan.order_by or tuple((c, False) for c in plan.group_by)):
        keys.sort(key=_group_sort_key(column, plan.group_by.index(column)), reverse=descending)
    name = plan.table.name
    output = []
    for key in keys:
        entry: dict[str, Any] = {}
        if plan.group_by:
            entry["groupBy"] = {
                f"{name}.{c.alias}": grid_value(c, v) for c, v in zip(plan.group_by, key, strict=True)
            }
        for position, (kind, column) in enumerate(plan.aggregates):
            values = [python_value(column, row[position]) for row in groups[key]]
            entry[f"{name}.{column.alias}_{kind}"] = _aggregate(kind, column, values)
        output.append(entry)
    return output


def _group_sort_key(column: Column, position: int) -> Callable[[tuple[Any, ...]], Any]:
    def key(group: tuple[Any, ...]) -> Any:
        value = python_value(column, group[position])
        return "" if value is None else value

    return key


def _aggregate(kind: str, column: Column, values: list[Any]) -> Any:
    if kind.endswith("_DISTINCT"):
        values = list(dict.fromkeys(values))
        kind = kind.removesuffix("_DISTINCT")
    if kind == "COUNT":
        return len(values)
    if not values:
        return None
    if kind in ("MIN", "MAX"):
        pick: Callable[..., Any] = min if kind == "MIN" else max
        chosen = pick(values, key=lambda v: "" if v is None else v)
        return grid_value(column, _stored_form(column, chosen))
    total = sum((Decimal(v) for v in values), Decimal(0))
    return total if kind == "SUM" else total / len(values)


def _stored_form(column: Column, value: Any) -> Any:
    """Back from `python_value` to what `grid_value` expects (dates stay Julian ints there)."""
    return str(value) if column.kind is Kind.DECIMAL else value
