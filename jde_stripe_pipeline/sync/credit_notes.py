"""JDE credit memos (RM) → Stripe credit notes: which original, and whether it can be credited now.

Why: a credit memo is an A/R document with a negative gross (jde-ar.md §Credit memos); Stripe
credits only a finalized invoice (a credit note on a draft is refused), so the memo waits in
quarantine while its original is a draft (unless `credit_draft_originals` says to apply it to the
draft's lines instead) or unknown. The link to the original is ODOC/ODCT/OKCO (unconfirmed per
site, hence configurable by the caller). Pure; the engine hook comes later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CreditDecisionKind = Literal["credit_note", "quarantine", "adjust_draft"]


@dataclass(frozen=True)
class CreditDecision:
    kind: CreditDecisionKind
    reason: str


def original_key(kco: str, doc: int, dct: str) -> str | None:
    """The original invoice's record key from OKCO/ODOC/ODCT; None when the memo names none."""
    if not doc or not dct.strip():
        return None
    return f"{kco.strip()}/{doc}/{dct.strip()}/000"


def credit_decision(
    memo: str, original: str | None, stripe_status: str | None, *, credit_draft_originals: bool = False
) -> CreditDecision:
    """Finalized original → credit note; draft → quarantine (or adjust); unknown → quarantine."""
    if original is None:
        return CreditDecision("quarantine", f"{memo}: no original invoice in F03B11.RPODOC/RPODCT/RPOKCO")
    if stripe_status is None:
        return CreditDecision("quarantine", f"{memo}: original {original} is not in Stripe yet")
    if stripe_status == "draft":
        if credit_draft_originals:
            return CreditDecision("adjust_draft", f"{memo}: credited on the draft of {original}")
        return CreditDecision(
            "quarantine", f"{memo}: original {original} is still a draft; finalize it in Stripe first"
        )
    if stripe_status in {"open", "paid"}:  # Stripe credits finalized invoices that are open or paid
        return CreditDecision("credit_note", f"{memo}: credit note on {original} ({stripe_status})")
    return CreditDecision("quarantine", f"{memo}: original {original} is {stripe_status} in Stripe")
