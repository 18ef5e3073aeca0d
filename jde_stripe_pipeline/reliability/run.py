"""One run of a partition, in its own process, doing what the Dagster assets do, in their order.

python -m jde_stripe_pipeline.reliability.run --run-id ID --partition KEY [--start ISO --end ISO]

`jde_customers` → `stripe_customers` → `jde_invoices` → `stripe_invoices` (the invoices' missing
customers first) → `billing_reconciliation`, each step with the resources' own wiring: the JDE login
and the Stripe key resolved when the step runs (`credentials`, environment first, then the encrypted
store, the key re-read after a 401), the sink's settings from `JDE_STRIPE_*`, the mappings from the
environment, the ledger from `JDE_STRIPE_STATE_URL`. Dagster itself is left out (it costs seconds to
import and its run storage is not what is under test); its step retries are the harness's reruns.

Prints one JSON line (`SUMMARY {...}`): outcome counts, failed records, reconciliation mismatches. Exit
0 when nothing failed and Stripe matched JDE, 1 when records failed or reconciliation did not match, 3
when a step raised (the error is in the summary), -9 when the harness killed it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from jde_stripe_pipeline.credentials import resolve_jde_credentials, resolve_stripe_key
from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.profiles import invoice_profile
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices, fetch_customers
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.mapping import CustomerMappingConfig, InvoiceMappingConfig
from jde_stripe_pipeline.stripe_sink import StripeSink, StripeSinkSettings
from jde_stripe_pipeline.sync import SyncEngine, SyncReport

EVERYTHING = UpdateWindow(datetime(2000, 1, 1), datetime(2100, 1, 1))
SUMMARY_PREFIX = "SUMMARY "


def _current_stripe_key() -> str:
    """As `orchestration.resources.current_stripe_key`: re-read on every call (a rotated key is used)."""
    return resolve_stripe_key().api_key.get_secret_value()


@contextmanager
def _session() -> Iterator[AisSession]:
    """As `JdeAisResource.session`: the login resolved now, the product's default retry policy."""
    login = resolve_jde_credentials()
    settings = AisSettings.from_values(
        **login.settings_values(),
        timezone=os.environ["JDE_TIMEZONE"],
        invoice_source=os.environ.get("JDE_INVOICE_SOURCE") or "purchase_order",
    )
    with AisSession(settings, page_size=int(os.environ.get("RELIABILITY_AIS_PAGE_SIZE", "500"))) as session:
        yield session


@contextmanager
def _sink() -> Iterator[StripeSink]:
    """As `StripeResource.sink`."""
    credentials = resolve_stripe_key()
    settings = StripeSinkSettings.from_env(key_source=_current_stripe_key)
    if credentials.api_base:
        settings = dataclasses.replace(settings, api_base=credentials.api_base)
    with StripeSink(settings) as client:
        yield client


def _engine(sink: StripeSink, ledger: Ledger, run_id: str, partition: str) -> SyncEngine:
    """As `assets.build_engine`."""
    return SyncEngine(
        stripe=sink,
        ledger=ledger,
        customer_config=CustomerMappingConfig.from_env(os.environ),
        invoice_config=InvoiceMappingConfig.from_env(os.environ),
        run_id=run_id,
        partition_key=partition,
        workers=sink.settings.workers,
    )


def _report(report: SyncReport) -> dict[str, Any]:
    failed = [f"{r.record_key}: {r.reason}" for r in report.results if r.outcome == "failed"]
    if report.customers is not None:
        failed += [f"{r.record_key}: {r.reason}" for r in report.customers.results if r.outcome == "failed"]
    return {"counts": report.counts(), "failed": failed}


def sync_partition(run_id: str, partition: str, window: UpdateWindow, summary: dict[str, Any]) -> int:
    """The five assets in order; fills `summary` as it goes (so a failure still shows what ran)."""
    ship_to_source = CustomerMappingConfig.from_env(os.environ).ship_to_source
    ledger_url = os.environ.get("JDE_STRIPE_STATE_URL")
    with _session() as session:  # jde_customers
        customers = tuple(extract_customers(session, window, ship_to_source=ship_to_source))
    summary["step"] = "stripe_customers"
    with _sink() as sink, Ledger.open(ledger_url) as ledger:
        records = [r for r in customers if isinstance(r, JdeCustomer | QuarantinedRecord)]
        summary["customers"] = _report(_engine(sink, ledger, run_id, partition).sync_customers(records))
    summary["step"] = "jde_invoices"
    profile = invoice_profile(os.environ.get("JDE_INVOICE_SOURCE") or "purchase_order")
    with _session() as session:
        invoices = tuple(extract_invoices(session, window, profile))
    summary["step"] = "stripe_invoices"
    with _session() as session, _sink() as sink, Ledger.open(ledger_url) as ledger:
        report = _engine(sink, ledger, run_id, partition).sync_invoices(
            [r for r in invoices if isinstance(r, JdeInvoice | QuarantinedRecord)],
            fetch_customers=lambda an8s: fetch_customers(session, an8s, ship_to_source=ship_to_source),
        )
        summary["invoices"] = _report(report)
    summary["step"] = "billing_reconciliation"
    with _sink() as sink, Ledger.open(ledger_url) as ledger:
        reconciliation = _engine(sink, ledger, run_id, partition).reconcile_invoices(
            [r for r in invoices if isinstance(r, JdeInvoice)]
        )
    summary["mismatched"] = [
        f"{m.record_key}: {', '.join(m.mismatches)}" for m in reconciliation.mismatched()
    ]
    summary["step"] = "done"
    failed = summary["customers"]["failed"] + summary["invoices"]["failed"]
    return 1 if failed or summary["mismatched"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--partition", required=True)
    parser.add_argument("--start", type=datetime.fromisoformat, default=EVERYTHING.start)
    parser.add_argument("--end", type=datetime.fromisoformat, default=EVERYTHING.end)
    args = parser.parse_args(argv)
    summary: dict[str, Any] = {"run_id": args.run_id, "step": "jde_customers"}
    try:
        code = sync_partition(args.run_id, args.partition, UpdateWindow(args.start, args.end), summary)
    except Exception as error:  # the harness records what stopped the run, and reruns it
        summary["error"] = f"{type(error).__name__}: {error}"
        summary["traceback"] = traceback.format_exc()[-4000:]
        code = 3
    print(SUMMARY_PREFIX + json.dumps(summary, default=str), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
