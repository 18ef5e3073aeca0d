"""The reconciliation reads the invoices a run did not touch side by side, each once: one read at a
time left a re-sync at Stripe's 1 s latency at 1 read/s (`make bench`, re-sync rows)."""

from __future__ import annotations

from pathlib import Path

from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulatorConfig
from jde_stripe_pipeline_tests.sync.conftest import make_world

SLOW_READS = StripeEmulatorConfig(rate_limit_per_second=1000.0, search_lag_seconds=0.0, latency_ms=150)


def test_the_reconciliation_reads_untouched_invoices_in_parallel_and_each_once(tmp_path: Path) -> None:
    with make_world(tmp_path, customers=6, invoices=16, emulator_config=SLOW_READS) as world:
        world.sync()
        world.emulator.clear_requests_log()
        report = world.engine(workers=4).reconcile_invoices(world.good_invoices())  # a new run: nothing seen
        reads = [e for e in world.emulator.requests_log() if e["method"] == "GET"]
    assert report.stripe_matches_jde
    invoices = [e["path"] for e in reads if e["path"].count("/") == 3]  # GET /v1/invoices/{id}
    assert len(invoices) == len(set(invoices)) == len(report.invoices)
    assert report.requests_sent == len(reads)
    # some read was sent while another was still being answered
    assert any(
        a["received_at"] < b["received_at"] < a["answered_at"] for a in reads for b in reads if a is not b
    )


def test_the_reconciliation_takes_the_syncs_own_comparisons_as_a_fresh_one_would_find_them(
    tmp_path: Path,
) -> None:
    with make_world(tmp_path, customers=6, invoices=16) as world:
        _, synced = world.sync()
        compared = {i.record_key: i for i in synced.reconciliation.invoices} if synced.reconciliation else {}
        invoices = world.good_invoices()
        world.emulator.clear_requests_log()
        handed = world.engine().reconcile_invoices(invoices, compared=compared)
        handed_requests = len(world.emulator.requests_log())
        fresh = world.engine().reconcile_invoices(invoices)  # a new run: reads every invoice
    assert len(compared) == len(invoices)
    assert handed_requests == handed.requests_sent == 0
    assert fresh.requests_sent >= len(fresh.invoices) > 0  # one read each, more pages for long invoices
    assert handed.invoices == fresh.invoices
    assert handed.stripe_matches_jde
