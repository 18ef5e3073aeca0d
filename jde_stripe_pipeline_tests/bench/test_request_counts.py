"""The small bench of CI: issue 10's request-count targets, on the path Dagster runs.

`make bench` measures times; this guards the counts, which are stable. One module-scoped fixture
builds the bench's account small (60 customers and 150 invoices already synced, pre-populated as the
bench does; 3 new customers, 4 new invoices, 4% changed: each kind of invoice change), materializes
the real sync job for the day's partition twice (the incremental day, then the same partition with
nothing changed) against the Stripe emulator with its limits off, and attributes every request to its
record (`bench.cells.project_counts`).

Checks the engine does not meet yet are `xfail(strict=True)`: when the engine lands they pass, the
strict mark turns that into a failure, and the mark must come off — so a target met stays met.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from jde_stripe_pipeline.bench.account import prepopulate
from jde_stripe_pipeline.bench.cells import BENCH_ENV, RECONCILIATION_STEP, ProjectCounts, project_counts
from jde_stripe_pipeline.bench.project import RUN, materialize
from jde_stripe_pipeline.bench.world import (
    TIMEZONE,
    UPDATE_INVOICE,
    InvoiceFacts,
    World,
    account_world,
    apply_changes,
    minimum_requests,
    rename_customer,
)
from jde_stripe_pipeline.sandboxes.ais.cli import ais_environment
from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    StripeEmulator,
    StripeEmulatorConfig,
)

SEED = 7


@dataclass(frozen=True)
class Day:
    world: World
    scenario: str
    counts: ProjectCounts

    def requests(self, kind: str, key: str) -> int:
        return self.counts.per_record.get((kind, key), 0)


def _env(world: World, ais_url: str, stripe_url: str, ledger: Path) -> dict[str, str]:
    return {
        **ais_environment(ais_url, world.sandbox.config),
        **BENCH_ENV,
        "JDE_TIMEZONE": TIMEZONE,
        "STRIPE_API_KEY": DEFAULT_API_KEY,
        "STRIPE_API_BASE": stripe_url,
        "JDE_STRIPE_STATE_URL": f"sqlite:///{ledger}",
        "JDE_STRIPE_RATE_PER_SECOND": "1000",
        "JDE_STRIPE_ENDPOINT_RATE_PER_SECOND": "1000",
        "JDE_STRIPE_BURST": "50",
    }


def _run(
    world: World, scenario: str, emulator: StripeEmulator, env: dict[str, str], instance: dg.DagsterInstance
) -> Day:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        emulator.clear_requests_log()
        success, phases, _counts, errors = materialize(world.partition_key, instance)
    assert success, errors
    reconciliation = phases.get(RECONCILIATION_STEP, (phases[RUN][1], phases[RUN][1]))
    return Day(
        world, scenario, project_counts(emulator.requests_log(), reconciliation, env["JDE_STRIPE_STATE_URL"])
    )


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Day]]:
    """The account's incremental day, then the same partition again (`resync`: nothing changed)."""
    folder = tmp_path_factory.mktemp("bench")
    account = account_world(SEED, 60, 150, 3, 4)
    try:
        with dg.DagsterInstance.ephemeral() as instance, account.sandbox.serve() as ais:
            assert account.old_day is not None
            old_day = dt.datetime.combine(account.old_day, dt.time())
            mapping_env = {"JDE_TIMEZONE": TIMEZONE, **BENCH_ENV}
            snapshot = prepopulate(folder / "account", ais.url, old_day, mapping_env, DEFAULT_API_KEY)
            apply_changes(account, 0.04)
            rename_customer(account, _ship_to_of_a_repriced_invoice(account))
            emulator = StripeEmulator(StripeEmulatorConfig(profile="off"), db_path=snapshot.stripe_db)
            try:
                with emulator.serve() as stripe:
                    env = _env(account, ais.url, stripe.url, snapshot.ledger_db)
                    yield {
                        "incremental": _run(account, "incremental", emulator, env, instance),
                        "resync": _run(account, "resync", emulator, env, instance),
                    }
            finally:
                emulator.close()
    finally:
        account.close()
        shutil.rmtree(folder, ignore_errors=True)


def _ship_to_of_a_repriced_invoice(world: World) -> str:
    """The ship-to party (an old customer) of the first re-priced invoice: renamed the same day, it
    changes that invoice's header too (its shipping name)."""
    for facts in world.invoices.values():
        if facts.change == "reprice" and facts.ship_to and world.customers.get(facts.ship_to) == "old":
            return facts.ship_to
    raise AssertionError("no re-priced invoice ships to an old customer")


def _keys(day: Day, kind: str, category: str) -> list[str]:
    if kind == "customer":
        return [k for k, c in day.world.customers.items() if c == category]
    return [k for k, f in day.world.invoices.items() if f.category == category and f.billable_lines]


def test_a_new_customer_costs_one_request(days: dict[str, Day]) -> None:
    day = days["incremental"]
    assert {key: day.requests("customer", key) for key in _keys(day, "customer", "new")} == dict.fromkeys(
        _keys(day, "customer", "new"), 1
    )


def test_a_new_invoice_costs_at_most_two_requests(days: dict[str, Day]) -> None:
    day = days["incremental"]
    costs = {key: day.requests("invoice", key) for key in _keys(day, "invoice", "new")}
    assert costs and max(costs.values()) <= 2, costs


def test_a_changed_customer_costs_one_request(days: dict[str, Day]) -> None:
    day = days["incremental"]
    changed = _keys(day, "customer", "changed")
    assert changed and {key: day.requests("customer", key) for key in changed} == dict.fromkeys(changed, 1)


@pytest.mark.parametrize(
    "kind",
    ["reprice", "add_line", "cancel_line", "redate"],
)
def test_a_changed_invoice_costs_one_read_and_one_request_per_kind_of_change(
    days: dict[str, Day], kind: str
) -> None:
    """1 read + 1 request per kind of line change (+1 header update when a header field changed)."""
    day = days["incremental"]
    changed = {k: f for k, f in day.world.invoices.items() if f.change == kind}
    costs = {key: day.requests("invoice", key) for key in changed}
    assert changed and costs == {key: 2 + _header_changed(day, facts) for key, facts in changed.items()}


def _header_changed(day: Day, facts: InvoiceFacts) -> bool:
    return facts.change == "redate" or day.world.customers.get(facts.ship_to or "") == "changed"


def test_a_changed_invoice_whose_ship_to_was_renamed_also_updates_its_header(days: dict[str, Day]) -> None:
    """The shipping name is a header field: one header update more, and the minimum counts it."""
    day = days["incremental"]
    renamed = [
        key
        for key, facts in day.world.invoices.items()
        if facts.change == "reprice" and _header_changed(day, facts)
    ]
    assert renamed and {key: day.requests("invoice", key) for key in renamed} == dict.fromkeys(renamed, 3)
    header_updates = sum(1 for f in day.world.invoices.values() if f.change and _header_changed(day, f))
    assert header_updates > sum(1 for f in day.world.invoices.values() if f.change == "redate")
    assert minimum_requests(day.world, "incremental")[UPDATE_INVOICE] == header_updates
    assert day.counts.sync[UPDATE_INVOICE] == header_updates


def test_an_unchanged_record_costs_no_write(days: dict[str, Day]) -> None:
    assert days["resync"].counts.sync == {}
    assert days["resync"].counts.per_record == {}


def test_the_reconciliation_reads_each_untouched_invoice_once(days: dict[str, Day]) -> None:
    day = days["resync"]
    assert day.counts.reconcile == minimum_requests(day.world, "resync")


def test_the_reconciliation_reuses_what_the_run_wrote(days: dict[str, Day]) -> None:
    assert days["incremental"].counts.reconcile == {}


def test_no_whole_account_listing(days: dict[str, Day]) -> None:
    assert days["incremental"].counts.listing == 0


def test_the_incremental_day_sends_at_most_1_1_times_its_minimum(days: dict[str, Day]) -> None:
    day = days["incremental"]
    sent = sum(day.counts.sync.values()) + sum(day.counts.reconcile.values())
    assert sent <= 1.1 * sum(minimum_requests(day.world, "incremental").values())


def test_every_request_is_for_a_record_or_an_account_listing(days: dict[str, Day]) -> None:
    """The attribution the bench relies on sees every request of the sync steps, and nothing is throttled."""
    for day in days.values():
        assert day.counts.unattributed == 0, day.scenario
        assert day.counts.throttled == 0, day.scenario
