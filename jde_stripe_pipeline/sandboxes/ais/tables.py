"""The sandbox's JDE tables: their columns (alias, label, kind, display scale) and keys, as AIS names them.

The labels and kinds are what a data browser answers for each column; `store.py` keeps the rows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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
