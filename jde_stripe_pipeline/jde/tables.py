"""What the extracts read from each address-book table: key, update-stamp columns and column types.

The key gives every paged read a stable, unique order (what lets a read resume after a lost token);
the column types say how a GRID_DATA value is validated (see `rows.py`). The order tables' specs
are derived from the invoice source profile (`profiles.py`), since they are configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class ColumnType(Enum):
    INT = "int"
    """A whole number (AN8, DOCO); must not have a fractional part."""
    DECIMAL = "decimal"
    """An exact amount or quantity, already scaled by AIS."""
    TEXT = "text"
    """A string, right-trimmed by AIS; kept as it comes (blank allowed)."""
    DATE = "date"
    """`yyyyMMdd` in GRID_DATA, blank → None."""
    TIME = "time"
    """HHMMSS integer."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...]
    columns: Mapping[str, ColumnType]
    date_column: str = "UPMJ"
    time_column: str = "UPMT"

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(self.columns)


_INT, _DEC, _TEXT, _DATE, _TIME = (
    ColumnType.INT,
    ColumnType.DECIMAL,
    ColumnType.TEXT,
    ColumnType.DATE,
    ColumnType.TIME,
)
_STAMP = {"UPMJ": _DATE, "UPMT": _TIME}
F03012 = TableSpec(
    "F03012",
    key=("AN8", "CO"),
    columns={"AN8": _INT, "CO": _TEXT, "CRCD": _TEXT, "TRAR": _TEXT, "ACL": _DEC, "HDAR": _TEXT, **_STAMP},
)
F0101 = TableSpec(
    "F0101",
    key=("AN8",),
    columns={"AN8": _INT, "ALPH": _TEXT, "ALKY": _TEXT, "TAX": _TEXT, "AT1": _TEXT, "LNGP": _TEXT, **_STAMP},
)
F0116 = TableSpec(
    "F0116",
    key=("AN8", "EFTB"),
    columns={
        "AN8": _INT,
        "EFTB": _DATE,
        "ADD1": _TEXT,
        "ADD2": _TEXT,
        "ADD3": _TEXT,
        "ADD4": _TEXT,
        "CTY1": _TEXT,
        "ADDS": _TEXT,
        "ADDZ": _TEXT,
        "CTR": _TEXT,
        "COUN": _TEXT,
        **_STAMP,
    },
)
F0115 = TableSpec(
    "F0115",
    key=("AN8", "IDLN", "RCK7"),
    columns={"AN8": _INT, "IDLN": _INT, "RCK7": _INT, "PHTP": _TEXT, "AR1": _TEXT, "PH1": _TEXT, **_STAMP},
)
F01151 = TableSpec(
    "F01151",
    key=("AN8", "IDLN", "RCK7"),
    columns={"AN8": _INT, "IDLN": _INT, "RCK7": _INT, "ETP": _TEXT, "EMAL": _TEXT, **_STAMP},
)
CUSTOMER_TABLES: tuple[TableSpec, ...] = (F03012, F0101, F0116, F01151, F0115)
"""The tables whose change makes a customer changed."""
PARTY_TABLES: tuple[TableSpec, ...] = (F0101, F0116)
"""What an address-book entry seen from another record (a ship-to) is read from: name and address."""
