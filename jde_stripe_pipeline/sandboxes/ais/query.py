"""Pure translation of an AIS data-service request into SQL over the sandbox store, of rows into GRID_DATA.

Strict like a real server: an unknown table, column, operator or a date literal not in the user's
`simpleDateFormat` is a `QueryError` (HTTP 400) naming the offending field.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from jde_stripe_pipeline.sandboxes.ais.store import from_julian, to_julian
from jde_stripe_pipeline.sandboxes.ais.tables import TABLES, Column, Kind, Table


class QueryError(ValueError):
    """The request cannot be run as given (HTTP 400)."""


OPERATORS = (
    "EQUAL",
    "NOT_EQUAL",
    "LESS",
    "LESS_EQUAL",
    "GREATER",
    "GREATER_EQUAL",
    "BETWEEN",
    "LIST",
    "STR_START_WITH",
    "STR_END_WITH",
    "STR_CONTAIN",
    "STR_BLANK",
    "STR_NOT_BLANK",
)
_COMPARISONS = {
    "EQUAL": "=",
    "NOT_EQUAL": "<>",
    "LESS": "<",
    "LESS_EQUAL": "<=",
    "GREATER": ">",
    "GREATER_EQUAL": ">=",
}
_DIRECTIONS = {"ASC": "ASC", "DESC": "DESC"}


@dataclass(frozen=True)
class DateFormat:
    """A user's date format, e.g. `MM/dd/yyyy` -> dateFormat `MDE`, separator `/`."""

    pattern: str

    def __post_init__(self) -> None:
        match = re.fullmatch(r"(dd|MM|yyyy)([/.\-])(dd|MM|yyyy)\2(dd|MM|yyyy)", self.pattern)
        if not match or sorted([match[1], match[3], match[4]]) != ["MM", "dd", "yyyy"]:
            raise ValueError(f"unsupported date format {self.pattern!r}: use e.g. MM/dd/yyyy or dd/MM/yyyy")

    @property
    def parts(self) -> tuple[str, str, str]:
        first, _, second, _, third = re.split(r"([/.\-])", self.pattern)
        return first, second, third

    @property
    def separator(self) -> str:
        return self.pattern[2] if self.pattern[2] in "/.-" else self.pattern[4]

    @property
    def jde_code(self) -> str:
        """JDE's dateFormat: M month, D day, E four-digit year."""
        return "".join({"MM": "M", "dd": "D", "yyyy": "E"}[p] for p in self.parts)

    def parse(self, literal: str) -> dt.date:
        pieces = {"MM": r"(?P<MM>\d{1,2})", "dd": r"(?P<dd>\d{1,2})", "yyyy": r"(?P<yyyy>\d{4})"}
        regex = re.escape(self.separator).join(pieces[p] for p in self.parts)
        match = re.fullmatch(regex, literal.strip())
        if not match:
            raise ValueError(f"expected {self.pattern}")
        try:
            return dt.date(int(match["yyyy"]), int(match["MM"]), int(match["dd"]))
        except ValueError as error:
            raise ValueError(f"not a valid date in {self.pattern}: {error}") from error

    def format(self, day: dt.date) -> str:
        values = {"MM": f"{day.month:02d}", "dd": f"{day.day:02d}", "yyyy": f"{day.year:04d}"}
        return self.separator.join(values[p] for p in self.parts)


@dataclass(frozen=True)
class SelectPlan:
    """A BROWSE/COUNT as SQL: `SELECT rowid ... WHERE where ORDER BY order`; columns are the returned ones."""

    table: Table
    columns: tuple[Column, ...]
    where: str
    params: tuple[Any, ...]
    order: str
    max_page_size: int | None
    """None = "No Max"."""
    next_page: bool


def resolve_table(target_name: Any, target_type: Any) -> Table:
    if target_type not in ("table", "view"):
        raise QueryError(f"targetType must be 'table' or 'view', got {target_type!r}")
    if target_type == "view":
        raise QueryError(
            f"targetType 'view' is not available in the AIS sandbox (no business views): {target_name!r}"
        )
    if not isinstance(target_name, str) or target_name.upper() not in TABLES:
        raise QueryError(
            f"Invalid targetName {target_name!r}: table not found (the sandbox serves {', '.join(TABLES)})"
        )
    return TABLES[target_name.upper()]


def resolve_column(table: Table, control_id: Any, field: str) -> Column:
    if not isinstance(control_id, str) or "." not in control_id:
        raise QueryError(f"{field}: expected '{table.name}.<ALIAS>', got {control_id!r}")
    table_name, alias = control_id.split(".", 1)
    column = table.column(alias.upper()) if table_name.upper() == table.name else None
    if column is None:
        raise QueryError(f"{field}: unknown column {control_id!r} for {table.name}")
    return column


def parse_page_size(value: Any, default: int) -> int | None:
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.strip().lower() == "no max":
        return None
    try:
        size = int(str(value).strip())
    except ValueError:
        raise QueryError(f"maxPageSize must be a number or 'No Max', got {value!r}") from None
    if size <= 0:
        raise QueryError(f"maxPageSize must be positive, got {value!r}")
    return size


def plan_select(
    body: Mapping[str, Any], table: Table, date_format: DateFormat, default_page_size: int
) -> SelectPlan:
    columns = _returned_columns(body.get("returnControlIDs"), table)
    where: str = "1=1"
    params: list[Any] = []
    query = body.get("query")
    if query is not None:
        if not isinstance(query, Mapping):
            raise QueryError("query must be an object")
        where, params = _query_sql(query, table, date_format, "query")
    order = _order_sql(body.get("aggregation"), table)
    next_page = body.get("enableNextPageProcessing") in (True, "true", "TRUE", "True")
    size = parse_page_size(body.get("maxPageSize"), default_page_size)
    return SelectPlan(table, columns, where, tuple(params), order, size, next_page)


def _returned_columns(value: Any, table: Table) -> tuple[Column, ...]:
    if value is None or value == "":
        return table.columns
    if not isinstance(value, str):
        raise QueryError(f"returnControlIDs must be a pipe-separated string, got {value!r}")
    columns = tuple(
        resolve_column(table, part.strip(), "returnControlIDs") for part in value.split("|") if part.strip()
    )
    return tuple(dict.fromkeys(columns))


def _order_sql(aggregation: Any, table: Table) -> str:
    terms: list[str] = []
    if aggregation is not None:
        if not isinstance(aggregation, Mapping):
            raise QueryError("aggregation must be an object")
        for index, entry in enumerate(aggregation.get("orderBy") or []):
            field = f"aggregation.orderBy[{index}]"
            if not isinstance(entry, Mapping):
                raise QueryError(f"{field} must be an object with column and direction")
            column = resolve_column(table, entry.get("column"), f"{field}.column")
            direction = _DIRECTIONS.get(str(entry.get("direction", "ASC")).upper())
            if direction is None:
                raise QueryError(f"{field}.direction must be ASC or DESC, got {entry.get('direction')!r}")
            terms.append(f"{_sql_column(column)} {direction}")
    # The key last, so pages are stable whatever the requested order.
    terms.extend(f'"{k}" ASC' for k in table.key)
    return ", ".join(terms)


def _sql_column(column: Column) -> str:
    if column.kind is Kind.DECIMAL:
        return f'CAST("{column.alias}" AS REAL)'
    return f'"{column.alias}"'


def _query_sql(
    query: Mapping[str, Any], table: Table, date_format: DateFormat, field: str
) -> tuple[str, list[Any]]:
    match_type = query.get("matchType", "MATCH_ALL")
    if match_type not in ("MATCH_ALL", "MATCH_ANY"):
        raise QueryError(f"{field}.matchType must be MATCH_ALL or MATCH_ANY, got {match_type!r}")
    joiner = " AND " if match_type == "MATCH_ALL" else " OR "
    parts: list[str] = []
    params: list[Any] = []
    conditions = query.get("condition") or []
    if not isinstance(conditions, list):
        raise QueryError(f"{field}.condition must be a list")
    for index, condition in enumerate(conditions):
        sql, values = _condition_sql(condition, table, date_format, f"{field}.condition[{index}]")
        parts.append(sql)
        params.extend(values)
    expression = f"({joiner.join(parts)})" if parts else ""
    complex_query = query.get("complexQuery") or []
    if not isinstance(complex_query, list):
        raise QueryError(f"{field}.complexQuery must be a list")
    for index, entry in enumerate(complex_query):
        where = f"{field}.complexQuery[{index}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("query"), Mapping):
            raise QueryError(f"{where} must be an object with andOr and query")
        and_or = str(entry.get("andOr", "AND")).upper()
        if and_or not in ("AND", "OR"):
            raise QueryError(f"{where}.andOr must be AND or OR, got {entry.get('andOr')!r}")
        sql, values = _query_sql(entry["query"], table, date_format, f"{where}.query")
        expression = f"({expression} {and_or} {sql})" if expression else sql
        params.extend(values)
    return (expression or "1=1"), params


def _condition_sql(
    condition: Any, table: Table, date_format: DateFormat, field: str
) -> tuple[str, list[Any]]:
    if not isinstance(condition, Mapping):
        raise QueryError(f"{field} must be an object")
    column = resolve_column(table, condition.get("controlId"), f"{field}.controlId")
    operator = condition.get("operator")
    if operator not in OPERATORS:
        raise QueryError(f"{field}.operator: unknown operator {operator!r}")
    name = f'"{column.alias}"'
    if operator == "STR_BLANK":
        return (f"TRIM({name}) = ''" if column.kind is Kind.STRING else f"{name} = 0"), []
    if operator == "STR_NOT_BLANK":
        return (f"TRIM({name}) <> ''" if column.kind is Kind.STRING else f"{name} <> 0"), []
    values = [
        _literal(v, column, table, date_format, f"{field}.value[{i}]")
        for i, v in enumerate(_values(condition, field))
    ]
    target = _sql_column(column)
    mark = "CAST(? AS REAL)" if column.kind is Kind.DECIMAL else "?"
    if operator in _COMPARISONS:
        _expect_count(values, 1, operator, field)
        return f"{target} {_COMPARISONS[operator]} {mark}", values
    if operator == "BETWEEN":
        _expect_count(values, 2, operator, field)
        return f"{target} BETWEEN {mark} AND {mark}", values
    if operator == "LIST":
        if not values:
            raise QueryError(f"{field}: LIST needs at least one value")
        return f"{target} IN ({', '.join(mark for _ in values)})", values
    _expect_count(values, 1, operator, field)
    text = f"CAST({name} AS TEXT)"
    if operator == "STR_START_WITH":
        return f"substr({text}, 1, length(?)) = ?", [values[0], values[0]]
    if operator == "STR_END_WITH":
        return f"(length(?) <= length({text}) AND substr({text}, -length(?)) = ?)", [values[0]] * 3
    return f"instr({text}, ?) > 0", values  # STR_CONTAIN (case-sensitive, like the database under JDE)


def _values(condition: Mapping[str, Any], field: str) -> list[Any]:
    raw = condition.get("value")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise QueryError(f"{field}.value must be a list of {{content, specialValueId}}")
    contents = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping) or "content" not in entry:
            raise QueryError(f"{field}.value[{index}] must be an object with content")
        special = entry.get("specialValueId", "LITERAL")
        if special != "LITERAL":
            raise QueryError(
                f"{field}.value[{index}].specialValueId {special!r} is not supported (use LITERAL)"
            )
        contents.append(entry["content"])
    return contents


def _expect_count(values: Sequence[Any], count: int, operator: str, field: str) -> None:
    if len(values) != count:
        raise QueryError(f"{field}: {operator} needs {count} value(s), got {len(values)}")


def _literal(content: Any, column: Column, table: Table, date_format: DateFormat, field: str) -> Any:
    where = f"{field} for {table.name}.{column.alias}"
    if isinstance(content, bool) or not isinstance(content, str | int | Decimal):
        raise QueryError(f"{where}: content must be a string, got {content!r}")
    text = str(content)
    if column.kind is Kind.STRING:
        return text.rstrip()
    if column.kind is Kind.DATE:
        if text.strip() == "":
            return 0
        try:
            return to_julian(date_format.parse(text))
        except ValueError as error:
            raise QueryError(f"Invalid date literal {text!r} ({where}): {error}") from None
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise QueryError(f"{where}: {text!r} is not a number") from None
    if column.kind is Kind.DECIMAL:
        return format(number, "f")
    if number != number.to_integral_value():
        raise QueryError(f"{where}: {text!r} is not an integer")
    return int(number)


def grid_value(column: Column, stored: Any) -> Any:
    """A stored value as AIS shows it: dates yyyyMMdd ('' when blank), times HHMMSS ints, exact decimals,
    strings right-trimmed, a blank string as a single space (AIS never answers `""` for a character field)."""
    return grid_converter(column)(stored)


def grid_converter(column: Column) -> Callable[[Any], Any]:
    """`grid_value` of one column, chosen once: a page renders thousands of cells."""
    if column.kind is Kind.DATE:
        return _grid_date
    if column.kind is Kind.DECIMAL:
        return Decimal
    if column.kind is Kind.STRING:
        return _grid_text
    return _grid_int


def _grid_date(stored: Any) -> str:
    return _grid_date_of(int(stored or 0))


@functools.lru_cache(maxsize=8192)
def _grid_date_of(julian: int) -> str:
    day = from_julian(julian)
    return day.strftime("%Y%m%d") if day else ""


def _grid_text(stored: Any) -> str:
    return (stored or "").rstrip() or " "


def _grid_int(stored: Any) -> int:
    return int(stored or 0)
