"""A voided JDE A/R invoice: delete its Stripe draft, never touch a finalized one (conflict)."""

from __future__ import annotations

import pytest

from jde_stripe_pipeline.sync.ar_voids import void_action


def test_draft_is_deleted_and_missing_or_voided_needs_nothing() -> None:
    assert void_action("00001/900001/RI/000", "draft").kind == "delete_draft"
    assert void_action("00001/900001/RI/000", None).kind == "none"
    assert void_action("00001/900001/RI/000", "void").kind == "none"


@pytest.mark.parametrize("status", ["open", "paid", "uncollectible"])
def test_finalized_invoice_is_a_conflict_naming_void_in_stripe(status: str) -> None:
    action = void_action("00001/900001/RI/000", status)
    assert action.kind == "conflict"
    assert "void in Stripe" in action.reason and status in action.reason
