"""Drift through the Dagster assets: drafts deleted or edited in Stripe while JDE did not change are found
by the reconciliation (its blocking check fails the run, naming them) and repaired by the next
materialization of the partition (the sync alone reads nothing for a record JDE did not change)."""

from __future__ import annotations

import dagster as dg
import stripe

from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY
from jde_stripe_pipeline_tests.orchestration.conftest import Pipeline, check_outcomes, metadata_values


def test_drafts_deleted_or_edited_in_stripe_are_repaired_by_the_next_materialization(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    assert pipeline.materialize(instance).success
    expected = len(pipeline.expected_invoice_keys())
    (deleted_key, [deleted]), (edited_key, [edited]), *_ = sorted(pipeline.stripe_invoices_by_key().items())
    sdk = stripe.StripeClient(
        DEFAULT_API_KEY, base_addresses={"api": pipeline.world.stripe_url}, max_network_retries=0
    )
    sdk.v1.invoices.delete(deleted["id"])
    line = next(ln for ln in pipeline.world.stripe_lines(edited["id"]) if ln["metadata"].get("jde_lnid"))
    sdk.v1.invoices.update_lines(
        edited["id"], params={"lines": [{"id": line["id"], "amount": line["amount"] + 100}]}
    )

    # the partition's reconciliation (as part of any run of it) finds them
    found = pipeline.materialize(instance, selection="billing_reconciliation", raise_on_error=False)

    assert not found.success  # the blocking check: drafts differ from JDE
    assert check_outcomes(found) == {"stripe_matches_jde": False}
    reconciliation = metadata_values(found, "billing_reconciliation")
    assert (reconciliation["drifted"], reconciliation["mismatches"]) == (2, 2)
    assert deleted_key in reconciliation["differences"] and edited_key in reconciliation["differences"]

    repaired = pipeline.materialize(instance)

    assert repaired.success
    invoices = metadata_values(repaired, "stripe_invoices")
    assert (invoices["repaired"], invoices["unchanged"], invoices["created"]) == (2, expected - 2, 0)
    assert metadata_values(repaired, "billing_reconciliation")["drifted"] == 0
    assert set(check_outcomes(repaired).values()) == {True}
    in_stripe = pipeline.stripe_invoices_by_key()
    assert len(in_stripe[deleted_key]) == 1 and in_stripe[deleted_key][0]["id"] != deleted["id"]
    restored = next(ln for ln in pipeline.world.stripe_lines(edited["id"]) if ln["id"] == line["id"])
    assert restored["amount"] == line["amount"]
