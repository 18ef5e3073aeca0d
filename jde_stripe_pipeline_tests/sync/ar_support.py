"""The `ar_invoice` profile over loopback: extract and sync helpers (the expectations are
`jde/ar_expected.py`'s independent reading of the sandbox)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from jde_stripe_pipeline.jde.profiles import AR_INVOICE
from jde_stripe_pipeline.jde.read import extract_invoices, fetch_customers
from jde_stripe_pipeline.jde.records import JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.mapping import InvoiceMappingConfig
from jde_stripe_pipeline.sync import SyncEngine, SyncReport
from jde_stripe_pipeline_tests.jde.ar_expected import CHICAGO, ExpectedArInvoice, expected_ar
from jde_stripe_pipeline_tests.sync.conftest import AS_OF, EVERYTHING, World

__all__ = ["CHICAGO", "ExpectedArInvoice", "expected_ar"]

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


def stripe_invoices_by_key(world: World) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for invoice in world.stripe_invoices():
        meta = invoice["metadata"]
        if meta.get("jde_profile") == "ar_invoice":
            found[f"{meta['jde_kcoo']}/{meta['jde_doco']}/{meta['jde_dcto']}/{meta['jde_sfxo']}"].append(
                invoice
            )
    return found
