"""Materializing a partition syncs it to Stripe, with metadata and checks; a rerun writes nothing."""

from __future__ import annotations

import dagster as dg
import pytest

from jde_stripe_pipeline_tests.orchestration.conftest import Pipeline, check_outcomes, metadata_values
from jde_stripe_pipeline_tests.postgres import PG_SERVER


def assert_partition_synced(pipeline: Pipeline, result: dg.ExecuteInProcessResult) -> None:
    expected = pipeline.expected_invoice_keys()
    assert expected, "the busiest seeded day has invoices"
    in_stripe = pipeline.stripe_invoices_by_key()
    assert expected <= set(in_stripe)
    assert {key: len(found) for key, found in in_stripe.items() if len(found) > 1} == {}
    an8s = pipeline.stripe_customer_an8s()
    assert len(an8s) == len(set(an8s))
    invoices = metadata_values(result, "stripe_invoices")
    assert invoices["created"] == len(expected)
    assert invoices["failed"] == 0
    assert invoices["run_id"] == result.run_id
    reconciliation = metadata_values(result, "billing_reconciliation")
    assert reconciliation["mismatches"] == 0 and reconciliation["invoices"] >= len(expected)
    assert check_outcomes(result) == {
        "no_quarantined_or_failed_customers": True,
        "no_quarantined_or_failed_invoices": True,
        "stripe_matches_jde": True,
    }


def test_a_partition_materializes_into_stripe_and_a_second_run_writes_nothing(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    result = pipeline.materialize(instance)
    assert result.success
    assert_partition_synced(pipeline, result)
    writes = len(pipeline.world.writes())
    # a first load: the invoice step's lane wrote every new customer, those its invoices name and the
    # day's others, so the customer step after it found the day's customers as they are
    lane = metadata_values(result, "stripe_invoices")["customers_written_with_invoices"]
    assert lane.get("created") == len(pipeline.stripe_customer_an8s()) > 0
    customers = metadata_values(result, "stripe_customers")
    assert customers["stripe_requests"] == customers["created"] == 0 and customers["unchanged"] > 0

    again = pipeline.materialize(instance)
    assert again.success
    assert len(pipeline.world.writes()) == writes
    invoices = metadata_values(again, "stripe_invoices")
    assert invoices["created"] == invoices["updated"] == 0
    assert invoices["unchanged"] == len(pipeline.expected_invoice_keys())


def step_attempts(result: dg.ExecuteInProcessResult, step: str) -> int:
    starts = [e for e in result.all_events if e.step_key == step and e.event_type_value == "STEP_START"]
    restarts = [e for e in result.all_events if e.step_key == step and e.event_type_value == "STEP_RESTARTED"]
    return len(starts) + len(restarts)


def test_a_partition_whose_sync_failed_is_repaired_by_running_it_again(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    """Stripe answers every request 503 (not saved for idempotency): the invoice step (the first Stripe
    step) records its failures, is retried once by Dagster, then fails the run, which skips the customer
    step after it. Re-running the partition repairs it."""
    pipeline.world.emulator.update_config(unavailable_rate=1.0)
    failed = pipeline.materialize(instance, raise_on_error=False, step_retries=1)
    assert not failed.success
    assert step_attempts(failed, "stripe_invoices") == 2
    assert step_attempts(failed, "stripe_customers") == 0

    pipeline.world.emulator.update_config(unavailable_rate=0.0)
    assert pipeline.stripe_customer_an8s() == []
    repaired = pipeline.materialize(instance)
    assert repaired.success
    assert_partition_synced(pipeline, repaired)


def test_saved_500s_on_every_key_do_not_block_the_rerun(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    """Stripe saves a 500 under its idempotency key: the rerun must not be answered by those replays."""
    pipeline.world.emulator.update_config(fail_rate=1.0)
    assert not pipeline.materialize(instance, raise_on_error=False).success
    pipeline.world.emulator.update_config(fail_rate=0.0)
    repaired = pipeline.materialize(instance)
    assert repaired.success
    assert_partition_synced(pipeline, repaired)


@pytest.mark.postgres
def test_the_same_on_postgresql_storage_and_ledger(
    pipeline: Pipeline, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{PG_SERVER}/{pg_database}"
    monkeypatch.setenv("JDE_STRIPE_STATE_URL", url)
    with dg.instance_for_test(overrides={"storage": {"postgres": {"postgres_url": url}}}) as instance:
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        result = pipeline.materialize(instance)
        assert result.success
        assert_partition_synced(pipeline, result)
        writes = len(pipeline.world.writes())
        assert pipeline.materialize(instance).success
        assert len(pipeline.world.writes()) == writes
        [event] = instance.fetch_materializations(dg.AssetKey("stripe_invoices"), limit=1).records
        assert event.asset_materialization is not None
        assert event.asset_materialization.partition == pipeline.partition


def test_a_draft_that_no_longer_matches_jde_fails_the_run(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    """The reconciliation check blocks: a draft differing from JDE (here: a JDE line's amount edited in
    Stripe) fails the run, so a scheduler notices; it is not a silent red check on a green run."""
    assert pipeline.materialize(instance).success
    [invoice, *_] = [i for found in pipeline.stripe_invoices_by_key().values() for i in found]
    line = pipeline.world.stripe_lines(invoice["id"])[0]
    sink = pipeline.world.sink()
    sink.update_invoice_lines(
        invoice["id"],
        {"lines": [{"id": line["id"], "amount": int(line["amount"]) + 100}]},
        idempotency_key="a-person-edits-a-line",
    )
    result = pipeline.materialize(instance, selection="billing_reconciliation", raise_on_error=False)
    assert not result.success
    assert check_outcomes(result) == {"stripe_matches_jde": False}


def test_the_extract_shows_what_reading_jde_cost_renewed_tokens_included(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    """A token AIS expires mid-read (444) is renewed and counted in the extract's metadata, so a data
    engineer sees it in the UI; the counts agree with what the AIS server itself saw."""
    pipeline.world.sandbox.update_config(token_max_calls=3)
    before = pipeline.world.sandbox.stats()
    result = pipeline.materialize(instance, selection="jde_invoices")
    after = pipeline.world.sandbox.stats()
    extract = metadata_values(result, "jde_invoices")
    renewals = after["reauthentications"] - before["reauthentications"]
    assert extract["ais_token_renewals"] == renewals > 0
    assert after["tokens_issued"] - before["tokens_issued"] == 1 + renewals  # the login, then each renewal
    assert extract["ais_requests"] >= 3 * renewals and extract["ais_retries"] == 0
    assert extract["ais_rows"] >= extract["records"] == len(pipeline.expected_invoice_keys()) > 0
    counts = ("requests", "rows", "retries", "token_renewals", "resumed_reads", "expired_result_sets")
    assert all(type(extract[f"ais_{name}"]) is int for name in counts)


def test_the_stripe_steps_show_what_stripes_limits_cost(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    """A client paced far above what the account allows (another client taking the rest, say) is
    answered 429s; each is retried, no record fails, and the step's metadata counts exactly the 429s
    Stripe sent, so a data engineer sees them in the UI."""
    pipeline.world.emulator.update_config(rate_limit_per_second=4.0)
    steps = ["jde_customers", "jde_invoices", "stripe_invoices", "stripe_customers"]  # no reconciliation
    result = pipeline.materialize(instance, selection=steps)
    log = pipeline.world.emulator.requests_log(path_prefix="/v1/")  # before the test's own reads below
    figures = [metadata_values(result, node) for node in ("stripe_invoices", "stripe_customers")]
    throttled = sum(step["stripe_throttled"] for step in figures)
    assert throttled == len([entry for entry in log if entry["status"] == 429]) > 0
    assert all(step["stripe_retries"] >= step["stripe_throttled"] for step in figures)
    assert figures[0]["stripe_pace_cuts"] > 0 and figures[0]["stripe_peak_in_flight"] > 1
    assert figures[0]["stripe_replays"] == 0  # a 429 ran nothing at Stripe: its retry is a first run
    assert figures[0]["failed"] == figures[1]["failed"] == 0
    assert result.success and pipeline.expected_invoice_keys() <= set(pipeline.stripe_invoices_by_key())
