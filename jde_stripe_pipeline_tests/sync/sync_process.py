"""A whole sync in its own process, so a test can SIGKILL it at any moment and start it again.

python -m jde_stripe_pipeline_tests.sync.sync_process AIS_URL STRIPE_URL LEDGER_URL RUN_ID
"""

from __future__ import annotations

import sys

from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline_tests.stripe_sink.support import loopback_sink
from jde_stripe_pipeline_tests.sync.conftest import ais_session, sync_engine, sync_extracted


def main(ais_url: str, stripe_url: str, ledger_url: str, run_id: str) -> int:
    sink = loopback_sink(
        stripe_url,
        rate_per_second=300.0,
        endpoint_rate_per_second=None,
        max_retries=10,
        backoff_max_seconds=0.2,
    )
    with (
        sink,
        Ledger.open(ledger_url) as ledger,
        ais_session(ais_url) as session,
    ):
        customers, invoices = sync_extracted(sync_engine(sink, ledger, run_id), session)
    failed = [r for r in (*customers.results, *invoices.results) if r.outcome == "failed"]
    for result in failed:
        print(f"FAILED {result.object_type} {result.record_key}: {result.reason}", file=sys.stderr)
    print(f"customers {customers.counts()} invoices {invoices.counts()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
