"""What a voided JDE A/R invoice means for its Stripe invoice (pure; the engine hooks it in later).

Why: JDE voids a posted invoice instead of deleting it (jde-ar.md §Voided invoices: AG 0, ISTR `1`,
POST blank until re-posted). A Stripe draft can simply be deleted; a finalized Stripe invoice is
a legal document the pipeline must not void on its own, so it is a conflict for a person, named
as the action to take in Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

VoidActionKind = Literal["none", "delete_draft", "conflict"]


@dataclass(frozen=True)
class VoidAction:
    """The action for one voided document, with the reason shown to the operator."""

    kind: VoidActionKind
    reason: str


def void_action(document: str, stripe_status: str | None) -> VoidAction:
    """Voided in JDE: no Stripe invoice → nothing; draft → delete it; otherwise → conflict."""
    if stripe_status is None or stripe_status in {"void", "deleted"}:
        return VoidAction("none", f"{document} is voided in JDE and has no live Stripe invoice")
    if stripe_status == "draft":
        return VoidAction("delete_draft", f"{document} is voided in JDE: its Stripe draft is deleted")
    return VoidAction(
        "conflict",
        f"{document} is voided in JDE but its Stripe invoice is {stripe_status}: void in Stripe "
        "(or issue a credit note) by hand",
    )
