"""The sandbox's JDE tables: their columns, keys and a thread-safe SQLite store.

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
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any


class Kind(Enum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    """Julian CYYDDD integer, 0 = blank."""
    TIME = "time"
    """HHMMSS integer."""


@dataclass(frozen=True)
class Column:
    alias: str
    label: str
    kind: Kind
    scale: int | None = None
    """Fixed display decimals (LNID 3, unit prices 4); amounts take their currency's decimals instead."""


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    time_column: str
    """UPMT, or TDAY in the order tables: stamped with UPMJ on every admin write."""

    def column(self, alias: str) -> Column | None:
        return _COLUMN_INDEX[self.name].get(alias)

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(c.alias for c in self.columns)


_S, _I, _N, _D, _T = Kind.STRING, Kind.INTEGER, Kind.DECIMAL, Kind.DATE, Kind.TIME

_LABELS: dict[str, tuple[str, Kind]] = {
    "AN8": ("Address Number", _I),
    "CO": ("Company", _S),
    "CRCD": ("Currency Code", _S),
    "TRAR": ("Payment Terms - A/R", _S),
    "ACL": ("Credit Limit", _N),
    "HDAR": ("Hold Orders Code", _S),
    "UPMJ": ("Date Updated", _D),
    "UPMT": ("Time Last Updated", _T),
    "USER": ("User ID", _S),
    "PID": ("Program ID", _S),
    "JOBN": ("Work Station ID", _S),
    "ALPH": ("Alpha Name", _S),
    "ALKY": ("Long Address Number", _S),
    "TAX": ("Tax ID", _S),
    "AT1": ("Search Type", _S),
    "LNGP": ("Language", _S),
    "EFTB": ("Beginning Effective Date", _D),
    "ADD1": ("Address Line 1", _S),
    "ADD2": ("Address Line 2", _S),
    "ADD3": ("Address Line 3", _S),
    "ADD4": ("Address Line 4", _S),
    "CTY1": ("City", _S),
    "ADDS": ("State", _S),
    "ADDZ": ("Postal Code", _S),
    "CTR": ("Country", _S),
    "COUN": ("County", _S),
    "IDLN": ("Who's Who Line Number - ID", _I),
    "RCK7": ("Line Number", _I),
    "PHTP": ("Phone Number Type", _S),
    "AR1": ("Prefix", _S),
    "PH1": ("Phone Number", _S),
    "ETP": ("Electronic Address Type", _S),
    "EMAL": ("Electronic Address", _S),
    "KCOO": ("Order Company", _S),
    "DOCO": ("Document (Order No, Invoice, etc.)", _I),
    "DCTO": ("Order Type", _S),
    "SFXO": ("Order Suffix", _S),
    "SHAN": ("Address Number - Ship To", _I),
    "TRDJ": ("Order/Transaction Date", _D),
    "DRQJ": ("Date - Requested", _D),
    "OTOT": ("Amount - Order Gross", _N),
    "PTC": ("Payment Terms Code", _S),
    "TDAY": ("Time of Day", _T),
    "LNID": ("Line Number", _N),
    "LITM": ("2nd Item Number", _S),
    "DSC1": ("Description", _S),
    "DSC2": ("Description Line 2", _S),
    "UORG": ("Units - Order/Transaction Quantity", _N),
    "UOM": ("Unit of Measure as Input", _S),
    "PRRC": ("Unit Cost - Purchasing", _N),
    "UPRC": ("Amount - Price per Unit", _N),
    "AEXP": ("Amount - Extended Price", _N),
    "LTTR": ("Status Code - Last", _S),
    "NXTR": ("Status Code - Next", _S),
    "IVD": ("Date - Invoice", _D),
    "DOC": ("Document Number", _I),
    "DCT": ("Document Type", _S),
    "KCO": ("Document Company", _S),
    "SFX": ("Document Pay Item", _S),
    "DIVJ": ("Date - Invoice", _D),
    "DDJ": ("Date - Net Due", _D),
    "AG": ("Amount - Gross", _N),
    "AAP": ("Amount Open", _N),
    "POST": ("G/L Posted Code", _S),
    "PST": ("Pay Status Code", _S),
    "STAM": ("Amount - Tax", _N),
    "ATXA": ("Amount - Taxable", _N),
    "BCRC": ("Currency Code - Base", _S),
    "CRRM": ("Currency Mode", _S),
    "ACR": ("Amount - Currency", _N),
    "CTAM": ("Amount - Foreign Tax", _N),
    "CTXA": ("Amount - Foreign Taxable", _N),
    "TXA1": ("Tax Rate/Area", _S),
    "EXR1": ("Tax Expl Code 1", _S),
    "RMK": ("Name - Remark", _S),
    "ODOC": ("Document - Original", _I),
    "ODCT": ("Document Type - Original", _S),
    "OKCO": ("Document Company (Original Order)", _S),
    "ISTR": ("A/R Post Status", _S),
    "VOD": ("Void Flag", _S),
    "VDGJ": ("Void Date - For G/L - Julian", _D),
    "FUP": ("Amount - Foreign Price per Unit", _N),
    "FEA": ("Amount - Foreign Extended Price", _N),
    "TAX1": ("Sales Taxable", _S),
    **{f"TXR{n}": (f"Tax Rate {n}", _N) for n in range(1, 6)},
    **{f"STA{n}": (f"Amount - Tax {n}", _N) for n in range(1, 6)},
}


_SCALES = {"LNID": 3, "PRRC": 4, "UPRC": 4, "FUP": 4, **{f"TXR{n}": 3 for n in range(1, 6)}}


def _table(name: str, description: str, aliases: str, key: str) -> Table:
    columns = tuple(Column(a, _LABELS[a][0], _LABELS[a][1], _SCALES.get(a)) for a in aliases.split())
    time_column = "TDAY" if "TDAY" in aliases.split() else "UPMT"
    return Table(name, description, columns, tuple(key.split()), time_column)


_ORDER_HEADER = "KCOO DOCO DCTO SFXO AN8 SHAN TRDJ DRQJ OTOT CRCD PTC UPMJ TDAY"
_ORDER_KEY = "KCOO DOCO DCTO SFXO"
_SALES_LINE = "LITM DSC1 DSC2 UORG UOM UPRC AEXP"
_SALES_INVOICE = "FUP FEA LTTR NXTR CRCD IVD DOC DCT KCO TAX1 TXA1 EXR1 UPMJ TDAY"
_LEDGER = (
    "DOC DCT KCO SFX AN8 DIVJ DDJ AG AAP STAM ATXA BCRC CRCD CRRM ACR CTAM CTXA TXA1 EXR1 RMK "
    "ODOC ODCT OKCO POST PST ISTR VOD VDGJ UPMJ UPMT"
)
_TAXES = (
    "DOCO DCTO KCOO SFXO LNID TXA1 EXR1 " + " ".join(f"TXR{n} STA{n}" for n in range(1, 6)) + " UPMJ UPMT"
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _table(
            "F03012",
            "Customer Master by Line of Business",
            "AN8 CO CRCD TRAR ACL HDAR UPMJ UPMT USER PID JOBN",
            "AN8 CO",
        ),
        _table("F0101", "Address Book Master", "AN8 ALPH ALKY TAX AT1 LNGP UPMJ UPMT", "AN8"),
        _table(
            "F0116",
            "Address by Date",
            "AN8 EFTB ADD1 ADD2 ADD3 ADD4 CTY1 ADDS ADDZ CTR COUN UPMJ UPMT",
            "AN8 EFTB",
        ),
        _table(
            "F0115",
            "Address Book - Contact Phone Numbers",
            "AN8 IDLN RCK7 PHTP AR1 PH1 UPMJ UPMT",
            "AN8 IDLN RCK7",
        ),
        _table("F01151", "Electronic Address", "AN8 IDLN RCK7 ETP EMAL UPMJ UPMT", "AN8 IDLN RCK7"),
        _table("F4301", "Purchase Order Header", _ORDER_HEADER, _ORDER_KEY),
        _table(
            "F4311",
            "Purchase Order Detail File",
            "KCOO DOCO DCTO SFXO LNID LITM DSC1 DSC2 UORG UOM PRRC AEXP LTTR NXTR CRCD UPMJ TDAY",
            _ORDER_KEY + " LNID",
        ),
        _table("F4201", "Sales Order Header File", _ORDER_HEADER, _ORDER_KEY),
        _table(
            "F4211",
            "Sales Order Detail File",
            f"KCOO DOCO DCTO SFXO LNID {_SALES_LINE} {_SALES_INVOICE}",
            _ORDER_KEY + " LNID",
        ),
        _table(
            "F42119",
            "Sales Order History File",
            f"KCOO DOCO DCTO LNID {_SALES_LINE} {_SALES_INVOICE}",
            "KCOO DOCO DCTO LNID",
        ),
        _table("F03B11", "Customer Ledger", _LEDGER, "DOC DCT KCO SFX"),
        _table("F0018", "Taxes", _TAXES, "DOCO DCTO KCOO SFXO LNID"),
    )
}

_COLUMN_INDEX: dict[str, dict[str, Column]] = {
    t.name: {c.alias: c for c in t.columns} for t in TABLES.values()
}

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


def from_julian(julian: int) -> dt.date | None:
    if not julian:
        return None
    return dt.date(1900 + julian // 1000, 1, 1) + dt.timedelta(days=julian % 1000 - 1)


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
