"""A draft read by its line listing alone (issue 10: one read for a draft of any length): the pure
decisions, without a server. The engine's side (Stripe's refusal, the header from the answer) is in
`test_request_counts.py`, `test_edge_cases.py` and `test_plan_is_what_sync_sends.py`."""

from __future__ import annotations

from dataclasses import replace

from jde_stripe_pipeline.sync.converge import then_header
from jde_stripe_pipeline.sync.decide import READ_STRIPE, StripeState, decide_invoice
from jde_stripe_pipeline.sync.stripe_state import reads_lines_first
from jde_stripe_pipeline_tests.sync.test_decide import (
    CUS,
    DOC,
    by_mapping,
    decided,
    invoice_request,
    line,
    mapping,
    stripe_invoice,
    work,
    writes,
)

LONG = tuple(line(f"{n}.000", 1000 * n) for n in range(1, 13))


def _lines_only(invoice: dict[str, object]) -> StripeState:
    lines = invoice["lines"]
    assert isinstance(lines, dict)
    return StripeState("mapping", lines=tuple(lines["data"]), lines_only=True)


def test_only_a_mapped_long_undrifted_draft_is_read_by_its_lines_alone() -> None:
    mapped = mapping("invoice", DOC, "in_1")
    assert reads_lines_first(invoice_request(*LONG), mapped)
    assert not reads_lines_first(invoice_request(*LONG[:9]), mapped)
    assert not reads_lines_first(invoice_request(*LONG), None)
    assert not reads_lines_first(invoice_request(*LONG), replace(mapped, drift="edited"))


def test_the_line_calls_are_a_full_reads_without_the_header_and_the_header_follows_on_the_answer() -> None:
    old = invoice_request(*LONG)
    new = invoice_request(line("1.000", 999), *LONG[1:], stamp="2026-11-22T09:00:00")
    redated = replace(new, effective_at=new.effective_at + 86400)
    mapped = mapping("invoice", DOC, "in_1")
    full = decided(decide_invoice(work(redated), mapped, by_mapping(stripe_invoice(old)), customer=CUS))
    lines = decided(decide_invoice(work(redated), mapped, _lines_only(stripe_invoice(old)), customer=CUS))
    assert writes(lines) == [("POST", "/v1/invoices/in_1/update_lines")]
    assert lines.operations == full.operations[:1] and lines.detail["fields"] == []
    # the line call answered with the draft: the header is decided on it, and both are one outcome
    answered = by_mapping(stripe_invoice(new))
    header = decided(decide_invoice(work(redated), mapped, answered, customer=CUS))
    both = then_header(lines, header)
    assert both.operations == full.operations  # the same calls, keys and order as a full read's
    assert (both.outcome, both.detail["fields"], both.detail["lines_updated"]) == (
        "updated",
        ["effective_at"],
        ["1.000"],
    )
    unchanged_header = decided(decide_invoice(work(new), mapped, answered, customer=CUS))
    assert unchanged_header.detail.get("already_applied")
    alone = then_header(lines, unchanged_header)
    assert alone.operations == lines.operations and "already_applied" not in alone.detail


def test_the_header_is_read_first_when_the_lines_need_nothing_or_show_another_currency() -> None:
    old = invoice_request(*LONG)
    mapped = mapping("invoice", DOC, "in_1")
    redated = replace(old, effective_at=old.effective_at + 86400)
    assert (
        decide_invoice(work(redated), mapped, _lines_only(stripe_invoice(old)), customer=CUS) == READ_STRIPE
    )
    euros = [{**ln, "currency": "eur"} for ln in stripe_invoice(old)["lines"]["data"]]
    repriced = invoice_request(line("1.000", 999), *LONG[1:])
    state = _lines_only(stripe_invoice(old, euros))
    assert decide_invoice(work(repriced), mapped, state, customer=CUS) == READ_STRIPE


def test_a_conflict_found_on_the_answer_stands_with_the_line_calls_sent() -> None:
    old = invoice_request(*LONG)
    new = invoice_request(line("1.000", 999), *LONG[1:])
    mapped = mapping("invoice", DOC, "in_1")
    lines = decided(decide_invoice(work(new), mapped, _lines_only(stripe_invoice(old)), customer=CUS))
    moved = {**stripe_invoice(new), "customer": "cus_other"}
    header = decided(decide_invoice(work(new), mapped, by_mapping(moved), customer=CUS))
    both = then_header(lines, header)
    assert (both.outcome, both.operations) == ("conflict", lines.operations)
    assert both.detail["lines_updated"] == ["1.000"]
