"""Credit memo → credit note decision: finalized originals only; drafts and unknowns wait."""

from __future__ import annotations

from jde_stripe_pipeline.sync.credit_notes import credit_decision, original_key

MEMO = "00001/700001/RM/000"


def test_original_key_from_odoc_and_none_when_blank() -> None:
    assert original_key("00001 ", 900001, "RI") == "00001/900001/RI/000"
    assert original_key("00001", 0, "") is None


def test_finalized_original_gets_a_credit_note() -> None:
    for status in ("open", "paid"):
        assert credit_decision(MEMO, "00001/900001/RI/000", status).kind == "credit_note"
    uncollectible = credit_decision(MEMO, "00001/900001/RI/000", "uncollectible")
    assert uncollectible.kind == "quarantine" and "uncollectible" in uncollectible.reason


def test_draft_missing_or_void_original_is_quarantined_unless_configured() -> None:
    original = "00001/900001/RI/000"
    draft = credit_decision(MEMO, original, "draft")
    assert (draft.kind, "still a draft" in draft.reason) == ("quarantine", True)
    assert credit_decision(MEMO, original, "draft", credit_draft_originals=True).kind == "adjust_draft"
    assert credit_decision(MEMO, original, None).kind == "quarantine"
    assert credit_decision(MEMO, None, None).reason.endswith("RPODOC/RPODCT/RPOKCO")
    assert credit_decision(MEMO, original, "void").kind == "quarantine"
