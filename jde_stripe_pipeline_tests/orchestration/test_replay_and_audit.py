"""`jde-stripe replay` re-sends just the failed records of a partition; `jde-stripe audit` tells the story."""

from __future__ import annotations

from urllib.parse import unquote

import dagster as dg
from click.testing import CliRunner

from jde_stripe_pipeline.cli import main
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline_tests.orchestration.conftest import Pipeline


def written_records(entries: list[dict[str, object]]) -> set[tuple[str, str]]:
    """(object type, JDE key) named by each write's idempotency key `jde-stripe:<type>:<key>:<op>:<hash>`
    (the key's `~XX` escapes undone)."""
    found = set()
    for entry in entries:
        key = str(entry["idempotency_key"] or "")
        prefix, kind, record, *_ = key.split(":")
        assert prefix == "jde-stripe", key
        found.add((kind, unquote(record.replace("~", "%"))))
    return found


def test_replay_resends_only_the_failed_records_of_the_partition(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    world = pipeline.world
    assert pipeline.materialize(instance, selection=["jde_customers", "stripe_customers"]).success
    world.emulator.update_config(unavailable_rate=1.0)
    assert not pipeline.materialize(instance, raise_on_error=False).success
    world.emulator.update_config(unavailable_rate=0.0)

    with Ledger.open(world.ledger_url) as ledger:
        failed = {(e.object_type, e.record_key) for e in ledger.failed_for_replay([pipeline.partition])}
    assert ("invoice", sorted(pipeline.expected_invoice_keys())[0]) in failed
    synced_customers = set(pipeline.stripe_customer_an8s())
    assert synced_customers and not {("customer", an8) for an8 in synced_customers} & failed
    world.emulator.clear_requests_log()

    outcome = CliRunner().invoke(main, ["replay", "--partition", pipeline.partition])

    assert outcome.exit_code == 0, outcome.output
    assert "replay run replay-" in outcome.output
    assert written_records(world.writes()) == failed
    assert set(pipeline.stripe_invoices_by_key()) >= pipeline.expected_invoice_keys()
    duplicates = {k: len(v) for k, v in pipeline.stripe_invoices_by_key().items() if len(v) > 1}
    assert duplicates == {}
    with Ledger.open(world.ledger_url) as ledger:
        assert ledger.failed_for_replay([pipeline.partition]) == []

    again = CliRunner().invoke(main, ["replay", "--partition", pipeline.partition])
    assert again.exit_code == 0 and "Nothing to replay" in again.output


def test_audit_shows_the_run_and_partition_of_a_materialization(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    result = pipeline.materialize(instance)
    key = sorted(pipeline.expected_invoice_keys())[0]

    outcome = CliRunner().invoke(main, ["audit", key])

    assert outcome.exit_code == 0, outcome.output
    assert result.run_id in outcome.output
    assert pipeline.partition in outcome.output
    assert "created" in outcome.output
