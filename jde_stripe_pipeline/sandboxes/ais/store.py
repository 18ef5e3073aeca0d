"""The sandbox's thread-safe SQLite store of the JDE tables (`tables.py`), and JDE's date and time codes.

Storage choices (the AIS output is what the pipeline sees, storage is the sandbox's own affair):
dates are Julian CYYDDD integers (0 = no date), times HHMMSS integers, numbers exact decimal TEXT
(already at display scale, e.g. "1234.56", LNID "1.000"), strings right-trimmed TEXT.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from jde_stripe_pipeline.sandboxes.ais.tables import TABLES, Column, Kind, Table

_SQL_TYPE = {
    Kind.STRING: "TEXT NOT NULL DEFAULT ''",
    Kind.INTEGER: "INTEGER NOT NULL DEFAULT 0",
    Kind.DECIMAL: "TEXT NOT NULL DEFAULT '0'",
    Kind.DATE: "INTEGER NOT NULL DEFAULT 0",
    Kind.TIME: "INTEGER NOT NULL DEFAULT 0",
}


class StoreError(ValueError):
    """A row that cannot be stored: names the table and the field."""


def to_julian(day: dt.date) -> int:
    return (day.year - 1900) * 1000 + day.timetuple().tm_yday


def day_of(julian: int) -> dt.date:
    """CYYDDD -> the day (0, JDE's blank date, is none: `from_julian`)."""
    return dt.date(1900 + julian // 1000, 1, 1) + dt.timedelta(days=julian % 1000 - 1)


def from_julian(julian: int) -> dt.date | None:
    return day_of(julian) if julian else None


def to_hhmmss(moment: dt.time | dt.datetime) -> int:
    return moment.hour * 10000 + moment.minute * 100 + moment.second


def stored_value(table: Table, column: Column, value: Any) -> str | int:
    """A value as the store keeps it, from a Python/JSON value (dates given as Julian ints or dates)."""
    where = f"{table.name}.{column.alias}"
    if column.kind is Kind.STRING:
        if value is None:
            return ""
        if not isinstance(value, str | int):
            raise StoreError(f"{where}: expected a string, got {value!r}")
        return str(value).rstrip()
    if column.kind is Kind.DECIMAL:
        if isinstance(value, float | bool):
            raise StoreError(f"{where}: give decimals as exact numbers or strings, not {value!r}")
        try:
            number = Decimal(str(value if value is not None else 0))
        except InvalidOperation as error:
            raise StoreError(f"{where}: not a decimal number: {value!r}") from error
        if column.scale is not None:
            number = number.quantize(Decimal(1).scaleb(-column.scale))
        return format(number, "f")
    if column.kind is Kind.DATE and isinstance(value, dt.date):
        return to_julian(value)
    if value is None or value == "":
        return 0
    if column.kind in (Kind.DATE, Kind.TIME):
        return _checked_date_or_time(where, column.kind, value)
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise StoreError(f"{where}: expected an integer, got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation as error:
        raise StoreError(f"{where}: expected an integer, got {value!r}") from error
    if number != number.to_integral_value():
        raise StoreError(f"{where}: expected an integer, got {value!r}")
    return int(number)


def _checked_date_or_time(where: str, kind: Kind, value: Any) -> int:
    """A Julian CYYDDD date or an HHMMSS time; refuses e.g. a yyyyMMdd date given by mistake."""
    expected = "a Julian CYYDDD date (e.g. 126330 = 2026-11-26)" if kind is Kind.DATE else "an HHMMSS time"
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise StoreError(f"{where}: expected {expected}, got {value!r}")
    number = int(value)
    if kind is Kind.DATE:
        valid = number == 0 or (number < 1_000_000 and 1 <= number % 1000 <= (366 if _leap(number) else 365))
    else:
        valid = 0 <= number <= 235959 and number % 100 < 60 and number // 100 % 100 < 60
    if not valid:
        raise StoreError(f"{where}: expected {expected}, got {value!r}")
    return number


def _leap(julian: int) -> bool:
    year = 1900 + julian // 1000
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def python_value(column: Column, stored: Any) -> Any:
    """A stored value for Python callers: Decimal for numbers, ints for dates (Julian) and times."""
    if column.kind is Kind.DECIMAL:
        return Decimal(stored)
    return stored


class Store:
    """SQLite behind one lock: the HTTP server is threaded and SQLite connections are not shared safely."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=OFF")
        self.create_tables()

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._connection.execute("BEGIN")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def create_tables(self) -> None:
        with self.transaction() as connection:
            for table in TABLES.values():
                columns = ", ".join(f'"{c.alias}" {_SQL_TYPE[c.kind]}' for c in table.columns)
                key = ", ".join(f'"{k}"' for k in table.key)
                connection.execute(
                    f'CREATE TABLE IF NOT EXISTS "{table.name}" ({columns}, PRIMARY KEY ({key}))'
                )

    def clear(self) -> None:
        with self.transaction() as connection:
            for table in TABLES.values():
                connection.execute(f'DELETE FROM "{table.name}"')

    def insert_many(
        self, connection: sqlite3.Connection, table: Table, rows: Iterable[Sequence[Any]]
    ) -> None:
        """Rows as tuples in the table's column order, already in stored form (the seeder's fast path)."""
        marks = ", ".join("?" for _ in table.columns)
        connection.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})', rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connection.execute(sql, params).fetchall()

    def rows(self, table: Table, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """Rows in key order, values as stored (Julian dates, HHMMSS times) with decimals as Decimal."""
        names = ", ".join(f'"{a}"' for a in table.aliases)
        order = ", ".join(f'"{k}"' for k in table.key)
        found = self.query(
            f'SELECT {names} FROM "{table.name}" ORDER BY {order} LIMIT ? OFFSET ?',
            (-1 if limit is None else limit, offset),
        )
        return [
            {c.alias: python_value(c, v) for c, v in zip(table.columns, row, strict=True)} for row in found
        ]

    def upsert(
        self, table: Table, changes: Mapping[str, Any], stamp: tuple[int, int]
    ) -> tuple[bool, dict[str, Any]]:
        """Insert or update one row by the table's key; UPMJ/time column stamped unless given.

        Returns (inserted, stored row).
        """
        unknown = sorted(set(changes) - set(table.aliases))
        if unknown:
            raise StoreError(f"{table.name}: unknown column(s) {', '.join(unknown)}")
        missing = [k for k in table.key if k not in changes]
        if missing:
            raise StoreError(f"{table.name}: key field(s) missing: {', '.join(missing)}")
        values = {a: stored_value(table, table.column(a), v) for a, v in changes.items()}  # type: ignore[arg-type]
        values.setdefault("UPMJ", stamp[0])
        values.setdefault(table.time_column, stamp[1])
        where = " AND ".join(f'"{k}" = ?' for k in table.key)
        key_values = [values[k] for k in table.key]
        with self.transaction() as connection:
            exists = connection.execute(f'SELECT 1 FROM "{table.name}" WHERE {where}', key_values).fetchone()
            if exists:
                sets = ", ".join(f'"{a}" = ?' for a in values)
                connection.execute(
                    f'UPDATE "{table.name}" SET {sets} WHERE {where}', [*values.values(), *key_values]
                )
            else:
                names = ", ".join(f'"{a}"' for a in values)
                marks = ", ".join("?" for _ in values)
                connection.execute(
                    f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', list(values.values())
                )
            names = ", ".join(f'"{a}"' for a in table.aliases)
            row = connection.execute(
                f'SELECT {names} FROM "{table.name}" WHERE {where}', key_values
            ).fetchone()
        stored = {c.alias: python_value(c, v) for c, v in zip(table.columns, row, strict=True)}
        return not exists, stored

    def delete(self, table: Table, match: Mapping[str, Any]) -> int:
        """Deletes the rows matching the given key fields (a key prefix deletes e.g. an order's lines)."""
        if not match:
            raise StoreError(f"{table.name}: give at least one key field to delete by")
        not_key = sorted(set(match) - set(table.key))
        if not_key:
            raise StoreError(
                f"{table.name}: delete by key fields only ({', '.join(table.key)}), not {not_key}"
            )
        values = {a: stored_value(table, table.column(a), v) for a, v in match.items()}  # type: ignore[arg-type]
        where = " AND ".join(f'"{a}" = ?' for a in values)
        with self.transaction() as connection:
            cursor = connection.execute(f'DELETE FROM "{table.name}" WHERE {where}', list(values.values()))
            return int(cursor.rowcount)
