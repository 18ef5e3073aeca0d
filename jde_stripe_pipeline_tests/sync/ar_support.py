"""The `ar_invoice` profile over loopback: extract and sync helpers, and an independent reading of the
sandbox's A/R tables (plain code over `sandbox.rows`, sharing nothing with the extract or the mapping)
of what Stripe must show for every posted invoice."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from jde_stripe_pipeline.jde.profiles import AR_INVOICE
from jde_stripe_pipeline.jde.read import extract_invoices, fetch_customers
from jde_stripe_pipeline.jde.records import JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.mapping import InvoiceMappingConfig
from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sync import SyncEngine, SyncReport
from jde_stripe_pipeline_tests.sync.conftest import AS_OF, EVERYTHING, World

CHICAGO = ZoneInfo("America/Chicago")
EXPONENT = {"JPY": 0, "KWD": 3}
AR_CONFIG = InvoiceMappingConfig(payment_terms_days={"D10": 10})


def ar_records(world: World, window: UpdateWindow = EVERYTHING) -> list[JdeInvoice | QuarantinedRecord]:
    with world.session() as session:
        return list(extract_invoices(session, window, AR_INVOICE))


def sync_ar(
    world: World,
    *,
    config: InvoiceMappingConfig = AR_CONFIG,
    window: UpdateWindow = EVERYTHING,
    engine: SyncEngine | None = None,
) -> SyncReport:
    engine = engine or world.engine(invoice_config=config)
    with world.session() as session:
        return engine.sync_invoices(
            ar_records(world, window),
            fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF),
        )


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


def stripe_invoices_by_key(world: World) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for invoice in world.stripe_invoices():
        meta = invoice["metadata"]
        if meta.get("jde_profile") == "ar_invoice":
            found[f"{meta['jde_kcoo']}/{meta['jde_doco']}/{meta['jde_dcto']}/{meta['jde_sfxo']}"].append(
                invoice
            )
    return found
