"""Drift: drafts deleted or edited in Stripe (through the official SDK) while JDE did not change are found
by the reconciliation, marked in the ledger, and repaired by the next sync; a person's lines and metadata
stay; a finalized invoice is only reported; a customer deleted in Stripe is created anew."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from jde_stripe_pipeline.cli.audit import format_history
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY
from jde_stripe_pipeline_tests.sync.conftest import World, assert_invoices_match_jde, make_world

PERSON_LINE = {"amount": 4321, "description": "Freight agreed by phone", "metadata": {"note": "x"}}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A small world: a few drafts are all these tests need."""
    with make_world(tmp_path, customers=6, invoices=10) as built:
        yield built


def _sdk(world: World) -> stripe.StripeClient:
    return stripe.StripeClient(
        DEFAULT_API_KEY, base_addresses={"api": world.stripe_url}, max_network_retries=0
    )


def _jde_lines(world: World, invoice_id: str) -> list[dict[str, Any]]:
    return [line for line in world.stripe_lines(invoice_id) if line["metadata"].get("jde_lnid")]


def test_drafts_deleted_or_edited_in_stripe_are_found_then_repaired_and_a_person_keeps_their_line(
    world: World,
) -> None:
    _, first = world.sync()
    created = sorted((r.record_key, r.stripe_id) for r in first.results if r.outcome == "created")
    (deleted_key, deleted_id), (edited_key, edited_id), (person_key, person_id), (final_key, final_id) = (
        created[:4]
    )
    first_creates = {e["idempotency_key"] for e in world.emulator.requests_log(endpoint="POST /v1/invoices")}
    sdk = _sdk(world)
    # with no JDE change: a person deletes one draft…
    sdk.v1.invoices.delete(deleted_id)
    # …edits another's JDE line amount and an owned header field, and adds a metadata key of their own…
    line = _jde_lines(world, edited_id)[0]
    sdk.v1.invoices.update_lines(
        edited_id, params={"lines": [{"id": line["id"], "amount": line["amount"] + 500}]}
    )
    sdk.v1.invoices.update(edited_id, params={"days_until_due": 7, "metadata": {"po_note": "call first"}})
    # …adds a line of their own to a third…
    sdk.v1.invoices.add_lines(person_id, params={"lines": [PERSON_LINE]})
    # …and edits a fourth's line, then finalizes it.
    final_line = _jde_lines(world, final_id)[0]
    sdk.v1.invoices.update_lines(final_id, params={"lines": [{"id": final_line["id"], "amount": 1}]})
    sdk.v1.invoices.finalize_invoice(final_id)
    world.emulator.clear_requests_log()

    # The sync alone does not see it: JDE did not change, so it reads nothing.
    _, blind = world.sync()
    assert blind.counts() == {"unchanged": len(created)} and world.writes() == []

    report = world.engine().reconcile_invoices(world.good_invoices())

    assert world.writes() == []  # the reconciliation reports and marks; it writes nothing to Stripe
    drifted = {item.record_key: item for item in report.drifted()}
    assert sorted(drifted) == sorted([deleted_key, edited_key])
    assert drifted[deleted_key].drift == f"draft {deleted_id} deleted in Stripe"
    assert drifted[deleted_key].mismatches == ("missing",)
    edited = drifted[edited_key]
    assert edited.drift is not None and edited.drift.startswith(f"draft {edited_id} edited in Stripe: ")
    assert set(edited.differences) == {"days_until_due", f"line {line['metadata']['jde_lnid']}: amount"}
    person = next(item for item in report.invoices if item.record_key == person_key)
    assert person.matches and person.drift is None
    assert [added["amount"] for added in person.person_added_lines] == [4321]
    assert [(c.record_key, c.status, c.drift) for c in report.conflicts] == [(final_key, "open", None)]
    ledger = world.ledger()
    assert sorted(m.jde_key for m in ledger.drift.marked("invoice")) == sorted([deleted_key, edited_key])
    assert [e.outcome for e in ledger.history(deleted_key)] == ["created", "unchanged", "drifted"]

    plan = world.engine().plan_invoices(world.invoices())  # what `jde-stripe plan` shows, writing nothing
    planned = {c.record_key: (c.outcome, c.action) for c in plan.changes if c.operations}
    assert planned == {deleted_key: ("repaired", "create"), edited_key: ("repaired", "converge")}

    _, repair = world.sync()

    assert repair.counts() == {"repaired": 2, "unchanged": len(created) - 2}
    recreated = repair.result(deleted_key)
    assert (recreated.outcome, recreated.action) == ("repaired", "create")
    assert recreated.stripe_id not in (None, deleted_id)
    assert recreated.reason is not None and "repaired drift (draft" in recreated.reason
    [new_create] = [e for e in world.emulator.requests_log(endpoint="POST /v1/invoices")]
    assert new_create["idempotency_key"] not in first_creates and not new_create["replayed"]
    converged = repair.result(edited_key)
    assert (converged.outcome, converged.action, converged.stripe_id) == ("repaired", "converge", edited_id)
    assert converged.detail["fields"] == ["days_until_due"]
    assert converged.detail["lines_updated"] == [line["metadata"]["jde_lnid"]]
    assert converged.detail["person_added_metadata"] == ["po_note"]
    assert (repair.result(person_key).requests, repair.result(final_key).requests) == (0, 0)
    assert repair.stripe_matches_jde
    assert recreated.stripe_id is not None
    assert_invoices_match_jde(world, {deleted_key: recreated.stripe_id})
    restored = sdk.v1.invoices.retrieve(edited_id)
    assert _jde_lines(world, edited_id)[0]["amount"] == line["amount"]
    assert (restored.due_date - restored.created) // 86400 != 7
    assert restored.metadata["po_note"] == "call first"  # a person's key: never the mapping's
    assert PERSON_LINE["description"] in [ln["description"] for ln in world.stripe_lines(person_id)]
    assert sdk.v1.invoices.retrieve(final_id).status == "open"
    assert ledger.drift.marked() == []
    assert [e.outcome for e in ledger.history(deleted_key)][-2:] == ["drifted", "repaired"]
    story = format_history(deleted_key, ledger.history(deleted_key), [])  # what `jde-stripe audit` prints
    assert f"draft {deleted_id} deleted in Stripe" in story and "repaired drift" in story

    world.emulator.clear_requests_log()
    _, third = world.sync()
    assert third.counts() == {"unchanged": len(created)} and world.writes() == []
    again = world.engine().reconcile_invoices(world.good_invoices())
    assert again.drifted() == [] and [c.record_key for c in again.conflicts] == [final_key]
    assert [item.record_key for item in again.mismatched()] == [final_key]


def test_a_customer_deleted_in_stripe_is_created_anew_by_the_run_after_the_one_that_finds_it(
    world: World,
) -> None:
    """A person deletes a draft and its customer. The reconciliation finds the draft's drift; the sync
    that re-creates it finds the customer gone (Stripe refuses the create), marks the customer and fails
    the invoice naming it; the next run creates the customer anew, then the invoice."""
    _, first = world.sync()
    key, invoice_id = sorted((r.record_key, r.stripe_id) for r in first.results if r.outcome == "created")[0]
    sdk = _sdk(world)
    customer_id = sdk.v1.invoices.retrieve(invoice_id).customer
    assert isinstance(customer_id, str)
    an8 = sdk.v1.customers.retrieve(customer_id).metadata["jde_an8"]
    sdk.v1.invoices.delete(invoice_id)
    sdk.v1.customers.delete(customer_id)

    assert [i.record_key for i in world.engine().reconcile_invoices(world.good_invoices()).drifted()] == [key]
    _, found = world.sync()

    failed = found.result(key)
    assert failed.outcome == "failed" and failed.reason is not None
    assert f"customer AN8 {an8} ({customer_id}) is gone from Stripe" in failed.reason
    ledger = world.ledger()
    assert [(m.object_type, m.jde_key) for m in ledger.drift.marked()] == [
        ("customer", an8),
        ("invoice", key),
    ]

    customers, repaired = world.sync()

    customer = customers.result(an8)
    assert (customer.outcome, customer.action) == ("repaired", "create")
    assert customer.stripe_id not in (None, customer_id)
    invoice = repaired.result(key)
    assert (invoice.outcome, invoice.action) == ("repaired", "create")
    assert invoice.stripe_id is not None
    assert sdk.v1.invoices.retrieve(invoice.stripe_id).customer == customer.stripe_id
    assert_invoices_match_jde(world, {key: invoice.stripe_id})
    assert ledger.drift.marked() == []
    world.emulator.clear_requests_log()
    world.sync()
    assert world.writes() == []
