"""An independent reading of the sandbox's A/R tables: what the `ar_invoice` profile must yield and
Stripe must show for each document (plain code over `sandbox.rows`, sharing nothing with the extract
or the mapping, so a test comparing the two can fail)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from jde_stripe_pipeline.sandboxes.ais import AisSandbox

CHICAGO = ZoneInfo("America/Chicago")
EXPONENT = {"JPY": 0, "KWD": 3}


def minor(amount: Decimal, currency: str) -> int:
    return int(amount * 10 ** EXPONENT.get(currency, 2))


def midnight(julian: int) -> int:
    day = date(1900 + julian // 1000, 1, 1) + timedelta(days=julian % 1000 - 1)
    return int(datetime.combine(day, time(0), tzinfo=CHICAGO).timestamp())


@dataclass(frozen=True)
class ExpectedArInvoice:
    key: str
    kind: str
    state: str
    """`posted`, `unposted` or `voided`."""
    number: str
    effective_at: int
    due_date: int
    currency: str
    foreign: bool
    total: int
    tax: int
    lines: tuple[tuple[str, int], ...]
    """(line key, amount before tax) of the billable sales lines, or of the pay items."""
    pay_items: int
    original: str | None

    @property
    def subtotal(self) -> int:
        return self.total - self.tax


def expected_ar(sandbox: AisSandbox) -> dict[str, ExpectedArInvoice]:
    """Every RI/RM document by ledger key `KCO/DOC/DCT/000`, read straight from the tables."""
    documents: dict[tuple[int, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in sandbox.rows("F03B11"):
        documents[(row["DOC"], row["DCT"], row["KCO"])].append(row)
    lines: dict[tuple[int, str, str], dict[tuple[str, int, str, Decimal], dict[str, Any]]] = defaultdict(dict)
    for table in ("F42119", "F4211"):
        for line in sandbox.rows(table):
            if line["DOC"]:
                position = (line["KCOO"], line["DOCO"], line["DCTO"], line["LNID"])
                lines[(line["DOC"], line["DCT"], line["KCO"])].setdefault(position, line)
    expected = {}
    for (doc, dct, kco), rows in documents.items():
        if dct not in ("RI", "RM"):
            continue
        live = [r for r in rows if r["ISTR"] != "1" and r["VOD"] != "V"]
        state = "voided" if not live else "posted" if all(r["POST"] == "D" for r in live) else "unposted"
        first = rows[0]
        foreign = first["CRRM"] == "F"
        currency = first["CRCD"] if foreign else first["BCRC"]
        gross = sum((r["ACR" if foreign else "AG"] for r in live), Decimal(0))
        tax = sum((r["CTAM" if foreign else "STAM"] for r in live), Decimal(0))
        billable = [ln for ln in lines[(doc, dct, kco)].values() if ln["LTTR"] != "980"]
        if billable:
            built = tuple(
                sorted(
                    (
                        f"{ln['DCTO']} {ln['DOCO']} {ln['KCOO']} {ln['LNID']:.3f}",
                        minor(ln["FEA" if foreign else "AEXP"], currency),
                    )
                    for ln in billable
                )
            )
        else:
            built = tuple(
                sorted(
                    (
                        f"SFX {r['SFX']}",
                        minor(r["ACR" if foreign else "AG"] - r["CTAM" if foreign else "STAM"], currency),
                    )
                    for r in live
                )
            )
        original = f"{first['OKCO']}/{first['ODOC']}/{first['ODCT']}/000" if first["ODOC"] else None
        expected[f"{kco}/{doc}/{dct}/000"] = ExpectedArInvoice(
            key=f"{kco}/{doc}/{dct}/000",
            kind="credit_memo" if dct == "RM" else "invoice",
            state=state,
            number=f"{dct}-{doc}-{kco}",
            effective_at=midnight(first["DIVJ"]),
            due_date=midnight(min(r["DDJ"] for r in live)) if live else 0,
            currency=currency.lower(),
            foreign=foreign,
            total=minor(gross, currency),
            tax=minor(tax, currency),
            lines=built,
            pay_items=len(live),
            original=original,
        )
    return expected


def changed_documents(sandbox: AisSandbox, start: datetime, end: datetime) -> set[str]:
    """Keys of the RI/RM documents with a row (ledger, sales line, F0018) stamped in `[start, end)`."""

    def stamped(row: dict[str, Any], time_column: str) -> bool:
        if not row["UPMJ"]:
            return False
        day = date(1900 + row["UPMJ"] // 1000, 1, 1) + timedelta(days=row["UPMJ"] % 1000 - 1)
        clock = row[time_column]
        moment = datetime.combine(day, time(clock // 10000, clock // 100 % 100, clock % 100))
        return start <= moment < end

    keys = {f"{r['KCO']}/{r['DOC']}/{r['DCT']}/000" for r in sandbox.rows("F03B11") if stamped(r, "UPMT")}
    for table in ("F42119", "F4211"):
        keys |= {
            f"{r['KCO']}/{r['DOC']}/{r['DCT']}/000"
            for r in sandbox.rows(table)
            if r["DOC"] and stamped(r, "TDAY")
        }
    keys |= {f"{r['KCOO']}/{r['DOCO']}/{r['DCTO']}/000" for r in sandbox.rows("F0018") if stamped(r, "UPMT")}
    return {key for key in keys if key.split("/")[2] in ("RI", "RM")}
