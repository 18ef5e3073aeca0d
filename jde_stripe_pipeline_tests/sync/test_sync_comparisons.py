"""The invoice sync compares each invoice as its sync ends; the report reuses that comparison only while
Stripe's state for the invoice is still the one it was made from (a later round replaces the state)."""

from __future__ import annotations

from jde_stripe_pipeline.sync.reconcile import SyncComparisons
from jde_stripe_pipeline_tests.sync.test_decide import by_mapping, invoice_request, line, stripe_invoice, work


def test_a_comparison_is_reused_for_its_own_state_and_made_again_for_a_later_one() -> None:
    request = invoice_request(line("1.000", 1000), line("2.000", 250))
    invoice = work(request)
    draft = by_mapping(stripe_invoice(request))
    one_line_short = by_mapping(stripe_invoice(request, stripe_invoice(request)["lines"]["data"][:1]))
    comparisons = SyncComparisons()

    comparisons.note(invoice, one_line_short)  # the first round ended one line short
    assert comparisons.report([invoice], {invoice.record_key: one_line_short}).invoices[0].mismatches

    later = comparisons.report([invoice], {invoice.record_key: draft})  # a later round completed it
    assert later.stripe_matches_jde and later.invoices[0].matches


def test_only_invoices_stripe_answered_for_are_in_the_report() -> None:
    request = invoice_request(line("1.000", 1000))
    comparisons = SyncComparisons()
    comparisons.note(work(request), None)  # its sync never got an answer (failed before any write)
    assert comparisons.report([work(request)], {}).invoices == ()
