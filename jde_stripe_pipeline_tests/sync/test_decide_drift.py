"""The pure decisions for a record whose mapping the reconciliation marked drifted (JDE unchanged)."""

from __future__ import annotations

from dataclasses import replace

from jde_stripe_pipeline.sync.decide import (
    ABSENT,
    READ_STRIPE,
    UNREAD,
    StripeState,
    decide_customer,
    decide_invoice,
)
from jde_stripe_pipeline_tests.sync.test_decide import (
    CUS,
    DOC,
    by_mapping,
    customer_request,
    decided,
    invoice_request,
    mapping,
    stripe_invoice,
    work,
    writes,
)


def test_a_drifted_invoice_is_read_not_unchanged_and_unmarked_it_is_unchanged() -> None:
    request = invoice_request()
    clean = mapping("invoice", DOC, "in_1", request.change_hash)
    assert decided(decide_invoice(work(request), clean, UNREAD, customer=CUS)).outcome == "unchanged"
    marked = replace(clean, drift="draft in_1 deleted in Stripe")
    assert decide_invoice(work(request), marked, UNREAD, customer=CUS) == READ_STRIPE


def test_a_deleted_draft_is_created_anew_under_a_new_generation_as_repaired() -> None:
    request = invoice_request()
    marked = replace(
        mapping("invoice", DOC, "in_1", request.change_hash), drift="draft in_1 deleted in Stripe"
    )
    fresh = decided(decide_invoice(work(request), None, ABSENT, customer=CUS))  # how it was first created

    repair = decided(decide_invoice(work(request), marked, ABSENT, customer=CUS))

    assert (repair.outcome, repair.action, repair.replaces) == ("repaired", "create", "in_1")
    assert repair.reason == (
        f"invoice {DOC}: repaired drift (draft in_1 deleted in Stripe): created anew with JDE's lines"
    )
    assert writes(repair) == [("POST", "/v1/invoices"), ("POST", "/v1/invoices/{created#1}/add_lines")]
    assert fresh.create is not None and repair.create is not None
    assert repair.create.idempotency_key != fresh.create.idempotency_key  # the old one replays the deleted
    assert repair.detail["drift"] == "draft in_1 deleted in Stripe"


def test_an_edited_draft_converges_its_jde_lines_and_leaves_a_persons_line() -> None:
    request = invoice_request()
    marked = replace(mapping("invoice", DOC, "in_1", request.change_hash), drift="edited")
    lines = [
        {"id": "il_1", **request.lines[0].params(), "amount": 1500},
        {"id": "il_2", **request.lines[1].params()},
        {"id": "il_9", "amount": 99, "description": "a person's", "metadata": {}},
    ]

    repair = decided(
        decide_invoice(work(request), marked, by_mapping(stripe_invoice(request, lines)), customer=CUS)
    )

    assert (repair.outcome, repair.action) == ("repaired", "converge")
    assert writes(repair) == [("POST", "/v1/invoices/in_1/update_lines")]
    assert repair.operations[0].params["lines"][0]["amount"] == 1000
    assert [line["id"] for line in repair.detail["person_added_lines"]] == ["il_9"]


def test_a_drift_gone_by_itself_is_unchanged_and_a_finalized_one_only_a_conflict() -> None:
    request = invoice_request()
    marked = replace(mapping("invoice", DOC, "in_1", request.change_hash), drift="edited")
    equal = decided(decide_invoice(work(request), marked, by_mapping(stripe_invoice(request)), customer=CUS))
    assert (equal.outcome, equal.operations) == ("unchanged", ())
    assert equal.reason is not None and "drift gone" in equal.reason

    lines = [
        {"id": "il_1", **request.lines[0].params(), "amount": 1},
        {"id": "il_2", **request.lines[1].params()},
    ]
    finalized = stripe_invoice(request, lines, status="open")
    conflict = decided(decide_invoice(work(request), marked, by_mapping(finalized), customer=CUS))
    assert (conflict.outcome, conflict.operations, conflict.detail["drift"]) == ("conflict", (), "edited")


def test_a_customer_gone_from_stripe_is_created_anew_as_repaired() -> None:
    request = customer_request()
    marked = replace(
        mapping("customer", "4242", "cus_1", request.change_hash), drift="customer cus_1 deleted in Stripe"
    )
    blind = decided(decide_customer(work(request), marked, UNREAD))
    assert (blind.outcome, blind.action, blind.blind) == ("repaired", "update", True)

    repair = decided(decide_customer(work(request), marked, ABSENT))
    assert (repair.outcome, repair.action, repair.replaces) == ("repaired", "create", "cus_1")
    assert writes(repair) == [("POST", "/v1/customers")]
    there = decided(decide_customer(work(request), marked, StripeState("mapping", {"id": "cus_1"})))
    assert there.outcome == "repaired"  # an update of the owned fields, keyed by content
