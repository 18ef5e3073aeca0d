"""Benchmark the customer (and invoice) extract + mapping against the AIS sandbox over loopback.

    python -m jde_stripe_pipeline.bench.extract --customers 100000

The sandbox is seeded and served in this process; the extract runs in a child process so that its
peak RSS is its own (what a Dagster run would need), not the sandbox's. Each record is mapped to its
Stripe request as the engine maps it (`--no-map` to measure the extract alone) and then dropped.
Prints records/s, rows/s and peak RSS (issue 10: extract + map of 100,000 customers under 1 GiB).
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from datetime import date, datetime, timedelta
from typing import Any

from jde_stripe_pipeline.bench.child import peak_rss_mib
from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.mapping import map_customer, map_invoice
from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline.settings import Settings


def _extract(url: str, kind: str, as_of: date, page_size: int, map_records: bool, results: Any) -> None:
    """Child process: run one extract to the end, mapping and counting records without keeping them."""
    settings = AisSettings.from_values(
        url=url, username="JDE", password="JDE", environment="JDV920", timezone="America/Chicago"
    )
    parsed = Settings.from_env({"JDE_TIMEZONE": "America/Chicago"})
    customer_config, invoice_config = parsed.customer_mapping, parsed.invoice_mapping
    window = UpdateWindow(datetime.combine(as_of - timedelta(days=60), datetime.min.time()), datetime.now())
    good = quarantined = 0
    started = time.perf_counter()
    with AisSession(settings, page_size=page_size) as session:
        if kind == "customers":
            records: Any = extract_customers(session, window, as_of=as_of)
        else:
            records = extract_invoices(session, window, PURCHASE_ORDER, as_of=as_of)
        for record in records:
            if isinstance(record, QuarantinedRecord):
                quarantined += 1
                continue
            good += 1
            if map_records and isinstance(record, JdeCustomer):
                map_customer(record, customer_config)
            elif map_records and isinstance(record, JdeInvoice):
                map_invoice(record, invoice_config)
        stats = session.stats
    elapsed = time.perf_counter() - started
    results.put(
        {
            "kind": kind,
            "mapped": map_records,
            "records": good,
            "quarantined": quarantined,
            "rows": stats.rows,
            "requests": stats.requests,
            "reauthentications": stats.reauthentications,
            "seconds": elapsed,
            "peak_rss_mib": peak_rss_mib(),
        }
    )


def measure(
    customers: int,
    invoices: int = 0,
    *,
    page_size: int = 500,
    seed: int = 1,
    token_max_calls: int | None = None,
    map_records: bool = True,
) -> list[dict[str, Any]]:
    """Seed, serve, and run each extract in a child process; their figures (see `_summary`)."""
    as_of = date.today()
    started = time.perf_counter()
    sandbox = AisSandbox(
        seed=seed,
        customers=customers,
        invoices=invoices,
        config=AisSandboxConfig(token_max_calls=token_max_calls),
        as_of=as_of,
    )
    seeding = time.perf_counter() - started
    context = multiprocessing.get_context("spawn")
    kinds = ["customers"] + (["invoices"] if invoices else [])
    found: list[dict[str, Any]] = []
    try:
        with sandbox.serve() as server:
            for kind in kinds:
                results = context.Queue()
                job = (server.url, kind, as_of, page_size, map_records, results)
                child = context.Process(target=_extract, args=job)
                child.start()
                figures = results.get()
                child.join()
                found.append({**figures, "seeding_seconds": seeding})
    finally:
        sandbox.close()
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=0, help="also extract this many purchase orders")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--token-max-calls", type=int, default=None, help="expire tokens every N calls")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-map", action="store_true", help="extract only, without the mapping")
    args = parser.parse_args(argv)
    for figures in measure(
        args.customers,
        args.invoices,
        page_size=args.page_size,
        seed=args.seed,
        token_max_calls=args.token_max_calls,
        map_records=not args.no_map,
    ):
        print(
            f"seeded {args.customers} customers, {args.invoices} orders in {figures['seeding_seconds']:.1f} s"
        )
        print(_summary(figures))


def _summary(figures: dict[str, Any]) -> str:
    seconds = figures["seconds"]
    mapped = " (extract + map)" if figures.get("mapped") else ""
    return (
        f"{figures['kind']}{mapped}: {figures['records']} records ({figures['quarantined']} quarantined)"
        f" from {figures['rows']} AIS rows in {seconds:.1f} s"
        f" = {figures['records'] / seconds:.0f} records/s, {figures['rows'] / seconds:.0f} rows/s;"
        f" {figures['requests']} requests, {figures['reauthentications']} re-authentications;"
        f" peak RSS of the extract process {figures['peak_rss_mib']:.0f} MiB"
    )


if __name__ == "__main__":
    main()
