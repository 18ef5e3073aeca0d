"""Two runs of the same partition at once (issue 11: the CLI bypasses Dagster's queue) never double a
line nor make a second object: each record is claimed in the ledger before any write, and the run that
finds it claimed leaves it (`deferred`). Checked against the emulator itself, round after round."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from jde_stripe_pipeline.jde.read import fetch_customers
from jde_stripe_pipeline.ledger import ClaimToken, Intent
from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulatorConfig
from jde_stripe_pipeline.sync import SyncEngine, SyncReport
from jde_stripe_pipeline_tests.sync.changes import change_invoices, reprice_first_line
from jde_stripe_pipeline_tests.sync.conftest import AS_OF, World, assert_stripe_matches_jde, make_world

SLOWED = StripeEmulatorConfig(rate_limit_per_second=1000.0, search_lag_seconds=0.0, latency_ms=4)
"""A few milliseconds per request, so that two runs really interleave on loopback."""
FAILING = StripeEmulatorConfig(
    rate_limit_per_second=1000.0, search_lag_seconds=0.0, latency_ms=4, fail_rate=0.1, fault_seed=4
)
"""Saved 500s as well: the two runs' key attempts diverge, so their keys no longer coincide (without
claims, one run's create and the other's relink then both add the lines)."""


def _at_once(world: World) -> list[tuple[SyncReport, SyncReport]]:
    customers, invoices = world.customers(), world.invoices()
    # more rounds than the default 4: a record meets several saved 500s in a row now and then
    engines = [world.engine(workers=4, max_rounds=8), world.engine(workers=4, max_rounds=8)]
    barrier = threading.Barrier(len(engines))
    reports: list[tuple[SyncReport, SyncReport]] = []
    errors: list[BaseException] = []

    def run(engine: SyncEngine) -> None:
        try:
            with world.session() as session:
                barrier.wait()
                first = engine.sync_customers(customers)
                second = engine.sync_invoices(
                    invoices, fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF)
                )
            reports.append((first, second))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    return reports


def _line_writes_per_invoice(world: World) -> Counter[str]:
    """Executed (not replayed) add_lines per invoice: a new invoice gets exactly one."""
    return Counter(
        entry["path"].split("/")[3]
        for entry in world.emulator.requests_log(method="POST")
        if entry["path"].endswith("/add_lines") and entry["status"] == 200 and not entry["replayed"]
    )


def test_two_runs_of_one_partition_at_once_write_each_record_once(tmp_path: Path) -> None:
    with make_world(tmp_path, customers=10, invoices=24, emulator_config=SLOWED) as world:
        # a ledger in use (the empty-ledger relink's listing is not what this test is about, and a
        # listing page answered by a saved 500 ends a run until the sink retries reads)
        world.ledger().intents.record_relink("setup", 0, 0, 0)
        deferred = 0
        for round_number in range(2):
            if round_number:
                created = sorted(k for k in _invoice_keys(world))
                change_invoices(world, created[::3])
            world.emulator.clear_requests_log()
            world.emulator.update_config(fail_rate=FAILING.fail_rate)
            reports = _at_once(world)
            world.emulator.update_config(fail_rate=0)  # the checks read Stripe without faults
            outcomes = [r for pair in reports for report in pair for r in report.results]
            assert not [r for r in outcomes if r.outcome == "failed"], round_number
            deferred += sum(r.outcome == "deferred" for r in outcomes)
            assert_stripe_matches_jde(world)  # one object per record, exactly JDE's lines and amounts
            if round_number == 0:
                new_invoices = [
                    e
                    for e in world.emulator.requests_log(method="POST", path_prefix="/v1/invoices")
                    if e["path"] == "/v1/invoices" and e["status"] == 200 and not e["replayed"]
                ]
                assert len(new_invoices) == len(_invoice_keys(world))
                assert set(_line_writes_per_invoice(world).values()) == {1}
        assert deferred, "the two runs never met on a record: the test did not test concurrency"

        world.emulator.clear_requests_log()
        customers, _ = world.sync()  # a third run, alone, finds nothing left to repair
        assert world.writes() == []
        assert set(customers.counts()) == {"unchanged"}


def test_two_processes_syncing_one_partition_at_once(tmp_path: Path) -> None:
    """As the issue saw it: two whole runs (processes) started together on a fresh account."""
    with make_world(tmp_path, customers=6, invoices=12, emulator_config=SLOWED) as world:
        command = [sys.executable, "-m", "jde_stripe_pipeline_tests.sync.sync_process"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        processes = [
            subprocess.Popen(
                [*command, world.ais_url, world.stripe_url, world.ledger_url, f"proc-{n}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
            for n in range(2)
        ]
        for process in processes:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0, err.decode()[-2000:]
        assert_stripe_matches_jde(world)
        assert set(_line_writes_per_invoice(world).values()) == {1}


def _invoice_keys(world: World) -> set[str]:
    keys = set()
    for invoice in world.stripe_invoices():
        meta = invoice["metadata"]
        keys.add(f"{meta['jde_kcoo']}/{meta['jde_doco']}/{meta['jde_dcto']}/{meta['jde_sfxo']}")
    return keys


def test_a_record_another_live_run_holds_is_deferred_and_taken_over_once_that_run_is_gone(
    world: World,
) -> None:
    _, first = world.sync()
    key = sorted(r.record_key for r in first.results if r.outcome == "created")[0]
    reprice_first_line(world, key)
    ledger = world.ledger()
    other = ClaimToken.new("other-run")  # a live run (this very process) is writing the record
    assert isinstance(ledger.intents.claim("invoice", key, other), Intent)
    world.emulator.clear_requests_log()

    _, report = world.sync()

    result = report.result(key)
    assert (result.outcome, result.requests) == ("deferred", 0)
    assert result.reason is not None and "run other-run is syncing it" in result.reason
    assert world.writes() == []
    assert ledger.history(key)[-1].outcome == "deferred"

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    killed = ClaimToken("killed-run", f"{socket.gethostname()}/{int(finished.stdout)}/0")
    ledger.intents.release(other)
    assert isinstance(ledger.intents.claim("invoice", key, killed), Intent)
    _, report = world.sync()
    assert report.result(key).outcome == "updated"  # a claim of a dead process is taken over at once
    assert_stripe_matches_jde(world)
