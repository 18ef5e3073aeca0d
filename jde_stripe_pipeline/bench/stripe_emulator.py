"""Throughput of the Stripe emulator through the official SDK over loopback.

Prints requests/second for customer creates and for invoices with 20 lines (create + add_lines), each
with 1 and with several client threads. Rate limiting is off: this measures the emulator, not the limit.
Run: `python -m jde_stripe_pipeline.bench.stripe_emulator [--customers N] [--invoices N] [--threads T]`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import stripe

from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    StripeEmulator,
    StripeEmulatorConfig,
)

LINES_PER_INVOICE = 20


def _timed(count: int, threads: int, task: Callable[[int], int]) -> tuple[float, int]:
    """Run `task(i)` for i < count on `threads` threads; returns (seconds, HTTP requests made)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        requests_made = sum(pool.map(task, range(count)))
    return time.perf_counter() - started, requests_made


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)

    emulator = StripeEmulator(
        config=StripeEmulatorConfig(rate_limit_per_second=0, search_rate_limit_per_second=0)
    )
    with emulator.serve() as server:
        client = stripe.StripeClient(
            DEFAULT_API_KEY, base_addresses={"api": server.url}, max_network_retries=2
        )
        customer_id = client.v1.customers.create(params={"name": "bench"}).id

        def create_customer(i: int) -> int:
            client.v1.customers.create(
                params={
                    "name": f"Customer {i}",
                    "email": f"c{i}@bench.test",
                    "metadata": {"jde_an8": str(i)},
                },
                options={"idempotency_key": f"bench-customer-{i}-{time.perf_counter_ns()}"},
            )
            return 1

        def create_invoice(i: int) -> int:
            invoice = client.v1.invoices.create(
                params={"customer": customer_id, "auto_advance": False, "metadata": {"jde_doco": str(i)}}
            )
            lines = [
                {"amount": 100 + n, "description": f"Line {n}", "metadata": {"jde_lnid": f"{n}.000"}}
                for n in range(LINES_PER_INVOICE)
            ]
            client.v1.invoices.add_lines(invoice.id, params={"lines": lines})  # type: ignore[typeddict-item]
            return 2

        print(f"Stripe emulator bench (stripe SDK {stripe.VERSION}, loopback, rate limit off)")
        for threads in sorted({1, args.threads}):
            seconds, made = _timed(args.customers, threads, create_customer)
            print(
                f"  customers.create          threads={threads}: {args.customers / seconds:8.1f} customers/s "
                f"({made / seconds:.1f} requests/s)"
            )
            seconds, made = _timed(args.invoices, threads, create_invoice)
            print(
                f"  invoice + {LINES_PER_INVOICE} lines        threads={threads}: "
                f"{args.invoices / seconds:8.1f} invoices/s ({made / seconds:.1f} requests/s, "
                f"{args.invoices * LINES_PER_INVOICE / seconds:.0f} lines/s)"
            )
    emulator.close()


if __name__ == "__main__":
    main()
