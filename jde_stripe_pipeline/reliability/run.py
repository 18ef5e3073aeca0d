"""One run of a partition, in its own process, doing what the Dagster assets do, in their order.

python -m jde_stripe_pipeline.reliability.run --run-id ID --partition KEY [--start ISO --end ISO]

`jde_customers` → `jde_invoices` (with the customers the invoices name) → `stripe_invoices` (creating
the missing ones from those while it writes the invoices) → `stripe_customers` →
`billing_reconciliation`, each step opening
its clients the one way the resources do (`runtime`: settings parsed once from the environment here, at
the edge; the JDE login and the Stripe key resolved by `CredentialSource` when a client opens, the key
re-read after a 401). Dagster itself is left out (it costs seconds to import and its run storage is
not under test); its step retries are the harness's reruns. `RELIABILITY_AIS_PAGE_SIZE` stands for
the JDE resource's `page_size` field.

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
from datetime import datetime
from typing import Any

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.credentials import CredentialSource
from jde_stripe_pipeline.jde.profiles import invoice_profile
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices, fetch_customers
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.settings import Settings
from jde_stripe_pipeline.stripe_sink import StripeSink
from jde_stripe_pipeline.sync import SyncEngine, SyncReport

EVERYTHING = UpdateWindow(datetime(2000, 1, 1), datetime(2100, 1, 1))
SUMMARY_PREFIX = "SUMMARY "


def _report(report: SyncReport) -> dict[str, Any]:
    failed = [f"{r.record_key}: {r.reason}" for r in report.results if r.outcome == "failed"]
    if report.customers is not None:
        failed += [f"{r.record_key}: {r.reason}" for r in report.customers.results if r.outcome == "failed"]
    return {"counts": report.counts(), "failed": failed}


def _key(record: JdeCustomer | QuarantinedRecord) -> str:
    return record.record_key if isinstance(record, QuarantinedRecord) else str(record.an8)


def sync_partition(
    settings: Settings, run_id: str, partition: str, window: UpdateWindow, summary: dict[str, Any]
) -> int:
    """The five assets in order; fills `summary` as it goes (so a failure still shows what ran)."""
    credentials = CredentialSource()
    jde, ship_to = settings.jde, settings.jde.ship_to_source

    def engine(sink: StripeSink, ledger: Any) -> SyncEngine:
        return runtime.sync_engine(
            settings.customer_mapping,
            settings.invoice_mapping,
            sink,
            ledger,
            run_id=run_id,
            partition_key=partition,
        )

    with runtime.ais_session(jde, credentials) as session:  # jde_customers
        customers = tuple(extract_customers(session, window, ship_to_source=ship_to))
    summary["step"] = "jde_invoices"
    with runtime.ais_session(jde, credentials) as session:
        invoices = tuple(extract_invoices(session, window, invoice_profile(jde.invoice_source)))
        an8s = sorted({r.an8 for r in invoices if isinstance(r, JdeInvoice)})
        named = tuple(fetch_customers(session, an8s, ship_to_source=ship_to)) if an8s else ()
    summary["step"] = "stripe_invoices"
    with runtime.stripe_sink(settings.stripe, credentials) as sink, runtime.open_ledger() as ledger:
        report = engine(sink, ledger).sync_invoices(
            [r for r in invoices if isinstance(r, JdeInvoice | QuarantinedRecord)],
            fetch_customers=lambda wanted: [c for c in named if _key(c) in {str(a) for a in wanted}],
        )
        summary["invoices"] = _report(report)
    summary["step"] = "stripe_customers"
    with runtime.stripe_sink(settings.stripe, credentials) as sink, runtime.open_ledger() as ledger:
        records = [r for r in customers if isinstance(r, JdeCustomer | QuarantinedRecord)]
        summary["customers"] = _report(engine(sink, ledger).sync_customers(records))
    summary["step"] = "billing_reconciliation"
    with runtime.stripe_sink(settings.stripe, credentials) as sink, runtime.open_ledger() as ledger:
        reconciliation = engine(sink, ledger).reconcile_invoices(
            [r for r in invoices if isinstance(r, JdeInvoice)]
        )
    mismatched = reconciliation.mismatched()
    summary["mismatched"] = [f"{m.record_key}: {', '.join(m.mismatches)}" for m in mismatched]
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
        settings = Settings.from_env(os.environ)  # the edge: every setting parsed once, here
        page_size = os.environ.get("RELIABILITY_AIS_PAGE_SIZE")
        if page_size:
            settings = dataclasses.replace(
                settings, jde=dataclasses.replace(settings.jde, page_size=int(page_size))
            )
        window = UpdateWindow(args.start, args.end)
        code = sync_partition(settings, args.run_id, args.partition, window, summary)
    except Exception as error:  # the harness records what stopped the run, and reruns it
        summary["error"] = f"{type(error).__name__}: {error}"
        summary["traceback"] = traceback.format_exc()[-4000:]
        code = 3
    print(SUMMARY_PREFIX + json.dumps(summary, default=str), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
