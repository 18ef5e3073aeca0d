"""Benchmark of the sync engine over loopback: AIS sandbox + Stripe emulator + official SDK.

python -m jde_stripe_pipeline.bench.sync [--customers 1000] [--invoices 2000] [--workers 8]
                                         [--rate 1000]

Prints Stripe requests per new customer, per new invoice and per unchanged record, and records per
second for a first sync, a rerun with no change, and a run after 10% of the invoices changed.
`--rate` is both the emulator's limit and the sink's pace (Stripe test mode allows 25/s: with
`--rate 25` the figures show the real-world ceiling, ~12 new invoices/s at 2 requests each).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import requests

from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices, fetch_customers
from jde_stripe_pipeline.jde.records import JdeInvoice
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.mapping import CustomerMappingConfig, InvoiceMappingConfig
from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    StripeEmulator,
    StripeEmulatorConfig,
)
from jde_stripe_pipeline.stripe_sink import StaticKeySource, StripeSink, StripeSinkSettings
from jde_stripe_pipeline.sync import SyncEngine, SyncReport

AS_OF = date(2026, 11, 26)
EVERYTHING = UpdateWindow(datetime(2000, 1, 1), datetime(2100, 1, 1))


def _per(report: SyncReport, outcome: str) -> str:
    chosen = [r.requests for r in report.results if r.outcome == outcome]
    return f"{sum(chosen) / len(chosen):.2f} ({len(chosen)} records)" if chosen else "-"


def _line(label: str, report: SyncReport) -> None:
    rate = len(report.results) / report.seconds if report.seconds else 0.0
    print(
        f"{label:34} {len(report.results):5} records {report.seconds:7.2f} s {rate:8.1f} records/s "
        f"{report.requests_sent:6} requests | per created {_per(report, 'created')}, "
        f"per updated {_per(report, 'updated')}, per unchanged {_per(report, 'unchanged')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rate", type=float, default=1000.0)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    sandbox = AisSandbox(seed=7, customers=args.customers, invoices=args.invoices, as_of=AS_OF)
    emulator = StripeEmulator(StripeEmulatorConfig(rate_limit_per_second=args.rate, search_lag_seconds=0))
    with sandbox.serve() as ais, emulator.serve(port=0) as stripe_server:
        settings = AisSettings.from_values(
            url=ais.url, username="JDE", password="JDE", environment="JDV920", timezone="America/Chicago"
        )
        sink_settings = StripeSinkSettings(
            key_source=StaticKeySource(DEFAULT_API_KEY),
            api_base=stripe_server.url,
            rate_per_second=args.rate,
            endpoint_rate_per_second=args.rate,  # the emulator here limits the account, not endpoints
            burst=10,
            backoff_base_seconds=0.05,
        )
        with (
            StripeSink(sink_settings) as sink,
            Ledger.open(f"sqlite:///{workdir / 'state.sqlite'}") as ledger,
            AisSession(settings, page_size=500) as session,
        ):
            runs = 0

            def run() -> tuple[SyncReport, SyncReport]:
                nonlocal runs
                runs += 1
                engine = SyncEngine(
                    stripe=sink,
                    ledger=ledger,
                    customer_config=CustomerMappingConfig(),
                    invoice_config=InvoiceMappingConfig(payment_terms_days={"D10": 10}),
                    run_id=f"bench-{runs}",
                    partition_key=None,
                    workers=args.workers,
                )
                customers = engine.sync_customers(extract_customers(session, EVERYTHING, as_of=AS_OF))
                invoices = engine.sync_invoices(
                    extract_invoices(session, EVERYTHING, PURCHASE_ORDER, as_of=AS_OF),
                    fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF),
                )
                return customers, invoices

            print(
                f"{args.customers} customers, {args.invoices} invoices, {args.workers} workers, {args.rate}/s"
            )
            customers, invoices = run()
            _line("first sync: customers", customers)
            _line("first sync: invoices", invoices)
            customers, invoices = run()
            _line("no change: customers", customers)
            _line("no change: invoices", invoices)
            records = [r for r in extract_invoices(session, EVERYTHING, PURCHASE_ORDER, as_of=AS_OF)]
            changed_keys = [str(r.key) for r in records if isinstance(r, JdeInvoice) and r.lines][::10]
            for key in changed_keys:
                kcoo, doco, dcto, sfxo = key.split("/")
                line = next(
                    row
                    for row in sandbox.rows("F4311")
                    if (row["KCOO"], str(row["DOCO"]), row["DCTO"], row["SFXO"]) == (kcoo, doco, dcto, sfxo)
                )
                row = {"KCOO": kcoo, "DOCO": int(doco), "DCTO": dcto, "SFXO": sfxo, "LNID": line["LNID"]}
                answer = requests.post(
                    f"{ais.url}/_sandbox/tables/F4311/rows",
                    data=json.dumps([{**row, "AEXP": line["AEXP"] + Decimal(1)}], default=str),
                    headers={"Content-Type": "application/json"},
                    timeout=10,
                )
                answer.raise_for_status()
            customers, invoices = run()
            _line("10% changed: invoices", invoices)
    sandbox.close()
    emulator.close()


if __name__ == "__main__":
    main()
