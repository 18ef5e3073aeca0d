"""A whole sync in its own process, so a test can SIGKILL it at any moment and start it again.

python -m jde_stripe_pipeline_tests.sync.sync_process AIS_URL STRIPE_URL LEDGER_URL RUN_ID
"""

from __future__ import annotations

import sys

from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices, fetch_customers
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY
from jde_stripe_pipeline.stripe_sink import StaticKeySource, StripeSink, StripeSinkSettings
from jde_stripe_pipeline.sync import SyncEngine
from jde_stripe_pipeline_tests.jde.support import FAST_RETRY
from jde_stripe_pipeline_tests.sync.conftest import AS_OF, CUSTOMER_CONFIG, EVERYTHING, INVOICE_CONFIG


def main(ais_url: str, stripe_url: str, ledger_url: str, run_id: str) -> int:
    settings = AisSettings.from_values(
        url=ais_url, username="JDE", password="JDE", environment="JDV920", timezone="America/Chicago"
    )
    sink_settings = StripeSinkSettings(
        key_source=StaticKeySource(DEFAULT_API_KEY),
        api_base=stripe_url,
        rate_per_second=300.0,
        burst=50,
        max_retries=10,
        backoff_base_seconds=0.01,
        backoff_max_seconds=0.2,
        timeout_seconds=10.0,
    )
    with (
        StripeSink(sink_settings) as sink,
        Ledger.open(ledger_url) as ledger,
        AisSession(settings, retry=FAST_RETRY, page_size=500) as session,
    ):
        engine = SyncEngine(
            stripe=sink,
            ledger=ledger,
            customer_config=CUSTOMER_CONFIG,
            invoice_config=INVOICE_CONFIG,
            run_id=run_id,
            partition_key="2026-11-26",
            workers=4,
        )
        customers = engine.sync_customers(extract_customers(session, EVERYTHING, as_of=AS_OF))
        invoices = engine.sync_invoices(
            extract_invoices(session, EVERYTHING, PURCHASE_ORDER, as_of=AS_OF),
            fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF),
        )
    failed = [r for r in (*customers.results, *invoices.results) if r.outcome == "failed"]
    for result in failed:
        print(f"FAILED {result.object_type} {result.record_key}: {result.reason}", file=sys.stderr)
    print(f"customers {customers.counts()} invoices {invoices.counts()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
