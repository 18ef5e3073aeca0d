"""Materializing a partition syncs it to Stripe, with metadata and checks; a rerun writes nothing."""

from __future__ import annotations

import dagster as dg

from jde_stripe_pipeline_tests.orchestration.conftest import Pipeline, check_outcomes, metadata_values


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

    again = pipeline.materialize(instance)
    assert again.success
    assert len(pipeline.world.writes()) == writes
    invoices = metadata_values(again, "stripe_invoices")
    assert invoices["created"] == invoices["updated"] == 0
    assert invoices["unchanged"] == len(pipeline.expected_invoice_keys())
