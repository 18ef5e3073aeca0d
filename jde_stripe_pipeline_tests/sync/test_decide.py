"""The pure decision core, state by state, without a server: outcome, action and the exact operations."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from jde_stripe_pipeline.jde.records import JdeDocumentKey, QuarantinedRecord
from jde_stripe_pipeline.ledger import ObjectMapping
from jde_stripe_pipeline.mapping import (
    CustomerRequest,
    DeleteDraftInvoice,
    InvoiceLineRequest,
    InvoiceRequest,
)
from jde_stripe_pipeline.sync.decide import (
    ABSENT,
    READ_STRIPE,
    UNREAD,
    BlockedCustomer,
    Decision,
    Known,
    PendingCustomer,
    ReadStripe,
    StripeState,
    decide_customer,
    decide_invoice,
)
from jde_stripe_pipeline.sync.operations import Created
from jde_stripe_pipeline.sync.work import Work

KEY = re.compile(r"^jde-stripe:(customer|invoice):[^:]+:[a-z_]+:[0-9a-f]{64}$")
DOC = "00070/1001/OP/000"
CUS = "cus_1"


def customer_request(name: str = "Acme") -> CustomerRequest:
    return CustomerRequest(
        an8=4242,
        name=name,
        email="ap@acme.test",
        phone=None,
        address=None,
        shipping=None,
        preferred_locales=(),
        metadata={"jde_an8": "4242", "jde_company": "00070", "jde_updated_at": "2026-11-20T10:00:00"},
    )


def line(lnid: str, amount: int) -> InvoiceLineRequest:
    return InvoiceLineRequest(lnid, amount, f"item {lnid}", {"jde_lnid": lnid, "jde_item": "X"})


def invoice_request(*lines: InvoiceLineRequest, stamp: str = "2026-11-20T10:00:00") -> InvoiceRequest:
    return InvoiceRequest(
        profile="purchase_order",
        document_key=JdeDocumentKey(kcoo="00070", doco=1001, dcto="OP", sfxo="000"),
        customer_an8=4242,
        currency="usd",
        collection_method="send_invoice",
        days_until_due=30,
        number="OP-1001",
        effective_at=1764000000,
        shipping_details=None,
        custom_fields=(),
        metadata={
            "jde_kcoo": "00070",
            "jde_doco": "1001",
            "jde_dcto": "OP",
            "jde_sfxo": "000",
            "jde_an8": "4242",
            "jde_updated_at": stamp,
            "jde_profile": "purchase_order",
        },
        lines=lines or (line("1.000", 1000), line("2.000", 2000)),
    )


def mapping(kind: str, key: str, stripe_id: str, content_hash: str = "old") -> ObjectMapping:
    at = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    return ObjectMapping(kind, key, stripe_id, content_hash, None, "run-1", at, at)  # type: ignore[arg-type]


def work(request: Any, attempt: int = 1) -> Work:
    return Work(request.record_key, None, request, attempt=attempt)


def stripe_invoice(
    request: InvoiceRequest, lines: list[dict[str, Any]] | None = None, *, status: str = "draft"
) -> dict[str, Any]:
    """The draft exactly as the request makes it (lines `il_1`, `il_2`, …), or with the given lines."""
    found = (
        lines
        if lines is not None
        else [{"id": f"il_{n}", **ln.params()} for n, ln in enumerate(request.lines, start=1)]
    )
    return {
        "id": "in_1",
        "status": status,
        "customer": CUS,
        "currency": request.currency,
        "collection_method": request.collection_method,
        "effective_at": request.effective_at,
        "number": request.number,
        "metadata": dict(request.metadata),
        "custom_fields": None,
        "shipping_details": None,
        "lines": {"data": found, "has_more": False},
    }


def by_mapping(invoice: dict[str, Any]) -> StripeState:
    return StripeState("mapping", invoice, tuple(invoice["lines"]["data"]))


def decided(answer: Decision | ReadStripe) -> Decision:
    assert isinstance(answer, Decision), answer
    return answer


def writes(decision: Decision) -> list[tuple[str, str]]:
    for operation in decision.operations:
        assert KEY.match(operation.idempotency_key), operation.idempotency_key
    return [(operation.verb, operation.path) for operation in decision.operations]


# ------------------------------------------------------------------------------------ customers


def test_a_quarantined_record_sends_nothing() -> None:
    record = QuarantinedRecord(kind="customer", record_key="7", field="F0101.ALPH", reason="blank", raw={})
    decision = decided(decide_customer(Work("7", None, None, record), None, UNREAD))
    assert (decision.outcome, decision.action, decision.reason) == (
        "quarantined",
        "quarantine",
        "F0101.ALPH: blank",
    )
    assert decision.operations == ()


def test_an_unchanged_customer_needs_no_read_and_no_write() -> None:
    request = customer_request()
    decision = decided(
        decide_customer(work(request), mapping("customer", "4242", CUS, request.change_hash), UNREAD)
    )
    assert (decision.outcome, decision.action, decision.stripe_id, decision.operations) == (
        "unchanged",
        "nothing",
        CUS,
        (),
    )


def test_a_new_customer_is_created_without_a_read_unless_the_ledger_knows_of_it() -> None:
    """O(change): a record the ledger never created is not looked up; one with a known Stripe id, or a
    create whose outcome was never recorded and that Stripe can no longer replay, is read first."""
    request = customer_request()
    blind = decided(decide_customer(work(request), None, UNREAD))
    assert writes(blind) == [("POST", "/v1/customers")]
    key = blind.operations[0].idempotency_key
    assert decide_customer(work(request), None, UNREAD, Known(stripe_id="cus_9")) is READ_STRIPE
    replay = decide_customer(work(request), None, UNREAD, Known(pending_key=key, replayable=True))
    assert decided(replay).operations == blind.operations  # Stripe answers a create that happened
    assert decide_customer(work(request), None, UNREAD, Known(pending_key=key)) is READ_STRIPE  # > 23 h
    other = Known(pending_key="jde-stripe:customer:4242:create:" + "0" * 64, replayable=True)
    assert decide_customer(work(request), None, UNREAD, other) is READ_STRIPE  # content or attempt moved
    decision = decided(decide_customer(work(request), None, ABSENT))
    assert (decision.outcome, decision.action, decision.stripe_id) == ("created", "create", Created(0))
    assert writes(decision) == [("POST", "/v1/customers")]
    assert decision.operations[0].params == request.params()
    again = decided(decide_customer(work(request), None, ABSENT))
    assert again.operations == decision.operations  # deterministic keys
    retried = decided(decide_customer(work(request, attempt=2), None, ABSENT))
    assert retried.operations[0].idempotency_key != decision.operations[0].idempotency_key


def test_a_changed_mapped_customer_is_updated_blind_and_the_read_only_adds_the_fields() -> None:
    request = customer_request("Acme Corp")
    mapped = mapping("customer", "4242", CUS)
    blind = decided(decide_customer(work(request), mapped, UNREAD))
    assert blind.blind and (blind.outcome, blind.action) == ("updated", "update")
    assert writes(blind) == [("POST", f"/v1/customers/{CUS}")]
    assert blind.operations[0].params == request.update_params()
    seen = decided(
        decide_customer(work(request), mapped, StripeState("mapping", {"id": CUS, "name": "Acme"}))
    )
    assert not seen.blind and seen.operations == blind.operations
    assert "name" in seen.detail["fields"]  # type: ignore[operator]


def test_a_customer_deleted_in_stripe_is_created_anew_replacing_the_old_id() -> None:
    request = customer_request()
    decision = decided(decide_customer(work(request), mapping("customer", "4242", CUS), ABSENT))
    assert (decision.outcome, decision.action, decision.replaces) == ("created", "create", CUS)
    assert writes(decision) == [("POST", "/v1/customers")]
    new = decided(decide_customer(work(request), None, ABSENT))
    assert new.operations[0].idempotency_key != decision.operations[0].idempotency_key
    stale = decided(decide_customer(work(request), None, StripeState("absent", stale_replay="cus_gone")))
    assert stale.operations[0].idempotency_key not in (
        new.operations[0].idempotency_key,
        decision.operations[0].idempotency_key,
    )


def test_a_lost_mapping_relinks_and_updates_only_when_stripe_differs() -> None:
    request = customer_request()
    same = {"id": "cus_9", **request.params()}
    relinked = decided(
        decide_customer(work(request), None, StripeState("relink", same, duplicates=("cus_8",)))
    )
    assert (relinked.outcome, relinked.action, relinked.stripe_id) == ("unchanged", "relink", "cus_9")
    assert relinked.operations == () and relinked.detail["duplicates_in_stripe"] == ["cus_8"]
    differs = decided(decide_customer(work(request), None, StripeState("relink", {**same, "name": "Old"})))
    assert (differs.outcome, differs.action) == ("updated", "relink")
    assert writes(differs) == [("POST", "/v1/customers/cus_9")]


# ------------------------------------------------------------------------------------- invoices


def test_an_unchanged_invoice_needs_no_read() -> None:
    request = invoice_request()
    decision = decided(
        decide_invoice(work(request), mapping("invoice", DOC, "in_1", request.change_hash), UNREAD)
    )
    assert (decision.outcome, decision.action, decision.operations) == ("unchanged", "nothing", ())


def test_an_invoice_whose_customer_is_quarantined_is_quarantined_naming_the_customer() -> None:
    """A data problem no retry fixes: not `failed` (which would fail and retry the Dagster step)."""
    blocked = BlockedCustomer(4242, "F0101.ALPH", "the name is blank")
    decision = decided(decide_invoice(work(invoice_request()), None, UNREAD, customer=blocked))
    assert (decision.outcome, decision.action, decision.operations) == ("quarantined", "quarantine", ())
    assert decision.reason == "customer_an8: customer AN8 4242 is quarantined (F0101.ALPH: the name is blank)"
    assert decision.quarantine is not None and decision.quarantine.field == "customer_an8"


def test_an_invoice_whose_customer_is_not_in_stripe_fails_without_a_request() -> None:
    decision = decided(decide_invoice(work(invoice_request()), None, UNREAD, customer=None))
    assert (decision.outcome, decision.action) == ("failed", "create")
    assert decision.reason is not None and "AN8 4242" in decision.reason and DOC in decision.reason


def test_a_new_invoice_is_one_create_and_one_add_lines_on_the_created_draft() -> None:
    request = invoice_request()
    unread = decided(decide_invoice(work(request), None, UNREAD, customer=CUS))
    assert decide_invoice(work(request), None, UNREAD, Known(stripe_id="in_9"), customer=CUS) is READ_STRIPE
    decision = decided(decide_invoice(work(request), None, ABSENT, customer=CUS))
    assert unread.operations == decision.operations
    assert (decision.outcome, decision.action, decision.stripe_id) == ("created", "create", Created(0))
    assert writes(decision) == [("POST", "/v1/invoices"), ("POST", "/v1/invoices/{created#1}/add_lines")]
    create, add = decision.operations
    assert create.params["customer"] == CUS and add.target == Created(0)
    assert add.params == {"lines": [ln.params() for ln in request.lines]}
    assert decision.detail == {"lines_added": 2}
    pending = decided(decide_invoice(work(request), None, ABSENT, customer=PendingCustomer(4242)))
    assert [op.idempotency_key for op in pending.operations] == [
        op.idempotency_key for op in decision.operations
    ]
    assert "synced first" in str(pending.detail["customer"])


def test_changed_lines_converge_by_line_and_the_header_only_for_a_header_field() -> None:
    """JDE's version stamp moved with the line: no header write for the stamp alone."""
    old = invoice_request()
    new = invoice_request(line("1.000", 1001), line("2.000", 2000), stamp="2026-11-22T09:00:00")
    decision = decided(
        decide_invoice(
            work(new), mapping("invoice", DOC, "in_1"), by_mapping(stripe_invoice(old)), customer=CUS
        )
    )
    assert (decision.outcome, decision.action, decision.stripe_id) == ("updated", "converge", "in_1")
    assert writes(decision) == [("POST", "/v1/invoices/in_1/update_lines")]
    assert decision.detail["fields"] == [] and decision.detail["lines_updated"] == ["1.000"]
    assert decision.operations[0].params["lines"][0]["id"] == "il_1"
    redated = replace(new, effective_at=new.effective_at + 86400)
    both = decided(
        decide_invoice(
            work(redated), mapping("invoice", DOC, "in_1"), by_mapping(stripe_invoice(old)), customer=CUS
        )
    )
    assert writes(both) == [("POST", "/v1/invoices/in_1/update_lines"), ("POST", "/v1/invoices/in_1")]
    assert both.detail["fields"] == ["effective_at"]
    assert both.operations[1].params["metadata"]["jde_updated_at"] == "2026-11-22T09:00:00"


def test_a_persons_line_is_left_alone_and_reported_while_a_jde_line_is_added_and_one_removed() -> None:
    old = invoice_request(line("1.000", 1000), line("2.000", 2000))
    new = invoice_request(line("1.000", 1000), line("3.000", 3000))
    lines = [
        {"id": "il_1", **old.lines[0].params()},
        {"id": "il_2", **old.lines[1].params()},
        {"id": "il_p", "amount": 1234, "description": "Freight", "metadata": {"note": "x"}},
    ]
    state = by_mapping(stripe_invoice(old, lines))
    decision = decided(decide_invoice(work(new), mapping("invoice", DOC, "in_1"), state, customer=CUS))
    assert writes(decision) == [
        ("POST", "/v1/invoices/in_1/remove_lines"),
        ("POST", "/v1/invoices/in_1/add_lines"),
    ]
    assert decision.operations[0].params == {"lines": [{"id": "il_2", "behavior": "delete"}]}
    assert decision.detail["person_added_lines"] == [{"id": "il_p", "amount": 1234, "description": "Freight"}]


def test_a_draft_deleted_in_stripe_is_created_anew_under_the_old_id_as_generation() -> None:
    request = invoice_request()
    decision = decided(decide_invoice(work(request), mapping("invoice", DOC, "in_old"), ABSENT, customer=CUS))
    assert (decision.outcome, decision.action, decision.replaces) == ("created", "create", "in_old")
    assert decision.detail["replaced"] == "in_old"
    fresh = decided(decide_invoice(work(request), None, ABSENT, customer=CUS))
    assert {op.idempotency_key for op in decision.operations}.isdisjoint(
        op.idempotency_key for op in fresh.operations
    )


def test_a_finalized_invoice_is_a_conflict_when_jde_changed_it_and_untouched_otherwise() -> None:
    old = invoice_request()
    new = invoice_request(line("1.000", 999), line("2.000", 2000))
    state = by_mapping(stripe_invoice(old, status="open"))
    conflict = decided(decide_invoice(work(new), mapping("invoice", DOC, "in_1"), state, customer=CUS))
    assert (conflict.outcome, conflict.action, conflict.operations) == ("conflict", "conflict", ())
    assert conflict.reason is not None and "open" in conflict.reason
    same = decided(decide_invoice(work(old), mapping("invoice", DOC, "in_1"), state, customer=CUS))
    assert (same.outcome, same.action, same.operations) == ("unchanged", "converge", ())


def test_a_draft_in_another_currency_is_a_conflict() -> None:
    request = invoice_request()
    state = by_mapping({**stripe_invoice(request), "currency": "eur"})
    decision = decided(decide_invoice(work(request), mapping("invoice", DOC, "in_1"), state, customer=CUS))
    assert (decision.outcome, decision.operations) == ("conflict", ())
    assert decision.reason is not None and "currency" in decision.reason


def test_a_change_already_in_stripe_is_recorded_without_a_write() -> None:
    request = invoice_request()
    state = by_mapping(stripe_invoice(request))
    decision = decided(decide_invoice(work(request), mapping("invoice", DOC, "in_1"), state, customer=CUS))
    assert (decision.outcome, decision.action, decision.operations) == ("updated", "converge", ())
    assert decision.detail["already_applied"] is True


def test_a_lost_mapping_relinks_and_converges_under_a_relink_generation() -> None:
    old = invoice_request()
    relinked = StripeState("relink", stripe_invoice(old), tuple(stripe_invoice(old)["lines"]["data"]))
    same = decided(decide_invoice(work(old), None, relinked, customer=CUS))
    assert (same.outcome, same.action, same.operations) == ("unchanged", "relink", ())
    new = invoice_request(line("1.000", 1001), line("2.000", 2000))
    changed = decided(decide_invoice(work(new), None, relinked, customer=CUS))
    mapped = decided(
        decide_invoice(
            work(new), mapping("invoice", DOC, "in_1"), by_mapping(stripe_invoice(old)), customer=CUS
        )
    )
    assert (changed.outcome, changed.action) == ("updated", "relink")
    assert writes(changed) == writes(mapped) == [("POST", "/v1/invoices/in_1/update_lines")]
    assert changed.operations[0].idempotency_key != mapped.operations[0].idempotency_key


def test_nothing_left_to_bill_deletes_the_draft_once() -> None:
    request = DeleteDraftInvoice(
        profile="purchase_order",
        document_key=JdeDocumentKey(kcoo="00070", doco=1001, dcto="OP", sfxo="000"),
        customer_an8=4242,
        reason="every line is cancelled",
    )
    done = decided(decide_invoice(work(request), None, UNREAD, already_deleted=True))
    assert (done.outcome, done.action, done.operations) == ("deleted", "nothing", ())
    never = decided(decide_invoice(work(request), None, UNREAD))  # the ledger never made a draft
    assert (never.outcome, never.action, never.operations) == ("deleted", "nothing", ())
    assert decide_invoice(work(request), None, UNREAD, Known(stripe_id="in_1")) is READ_STRIPE
    mapped = mapping("invoice", DOC, "in_1")
    assert decide_invoice(work(request), mapped, UNREAD) is READ_STRIPE
    draft = by_mapping(stripe_invoice(invoice_request()))
    delete = decided(decide_invoice(work(request), mapped, draft))
    assert (delete.outcome, delete.action, delete.stripe_id) == ("deleted", "delete", "in_1")
    assert writes(delete) == [("DELETE", "/v1/invoices/in_1")]
    gone = decided(decide_invoice(work(request), mapped, ABSENT))
    assert (gone.outcome, gone.action, gone.operations) == ("deleted", "nothing", ())
    finalized = by_mapping(stripe_invoice(invoice_request(), status="paid"))
    conflict = decided(decide_invoice(work(request), mapped, finalized))
    assert (conflict.outcome, conflict.operations) == ("conflict", ())
