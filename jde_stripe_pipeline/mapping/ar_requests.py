"""The A/R requests that are not a draft invoice: a credit note for a credit memo, and a void.

Like the other requests they carry a `record_key`, a `content_hash` (everything sent, the JDE stamp
included: the idempotency-key input) and a `change_hash` (without the stamp: what the ledger keeps).
What Stripe must hold for them depends on the original invoice's state, so the decision
(`sync/ar_events.py`) finishes the parameters (`CreditNoteRequest.params`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline.mapping.hashing import content_hash
from jde_stripe_pipeline.mapping.requests import VERSION_STAMP_KEY, DocumentGone, DocumentRequest, Params


@dataclass(frozen=True, slots=True)
class CreditLine:
    """One credit note line: amount (positive, without tax), its tax and base, in minor units."""

    key: str
    """The memo's line (`SO 5001 00001 1.000`) or pay item (`SFX 001`)."""
    description: str
    amount: int
    tax: int
    taxable: int
    tax_display_name: str
    tax_percentage: str

    def params(self, tax_rate: str | None) -> list[Params]:
        """`custom_line_item` entries: with the tax as `tax_amounts` on the invoice's own tax rate when
        there is one to name, else the tax as a line of its own (Stripe credits `tax_amounts` only
        against a tax rate it created)."""
        line: Params = {
            "type": "custom_line_item",
            "description": self.description,
            "quantity": 1,
            "unit_amount": self.amount,
            "metadata": {"jde_line": self.key},
        }
        if not self.tax:
            return [line]
        if tax_rate is not None:
            line["tax_amounts"] = [{"amount": self.tax, "taxable_amount": self.taxable, "tax_rate": tax_rate}]
            return [line]
        tax_line: Params = {
            "type": "custom_line_item",
            "description": f"{self.tax_display_name} {self.tax_percentage}% on {self.description}"[:500],
            "quantity": 1,
            "unit_amount": self.tax,
            "metadata": {"jde_line": self.key, "jde_tax": "true"},
        }
        return [line, tax_line]


@dataclass(frozen=True, slots=True)
class CreditNoteRequest(DocumentRequest):
    """A JDE credit memo (RM): a Stripe credit note on the invoice of its original, one per memo."""

    original_key: JdeDocumentKey | None
    """The invoice it credits (ODOC/ODCT/OKCO); None: the memo names none, or the site's link is off."""
    currency: str
    lines: tuple[CreditLine, ...]
    memo: str
    metadata: Mapping[str, str]
    why_no_original: str = ""
    """When `original_key` is None: the reason, for the quarantine."""

    MEMO_KEY: ClassVar[str] = "jde_credit_memo"

    @property
    def total_minor(self) -> int:
        """The credit note's amount: the memo's gross (AG, or ACR), made positive."""
        return sum(line.amount + line.tax for line in self.lines)

    @property
    def tax_minor(self) -> int:
        return sum(line.tax for line in self.lines)

    def params(self, invoice_id: str, *, tax_rate: str | None, out_of_band: bool) -> Params:
        """`POST /v1/credit_notes` on `invoice_id`. `out_of_band`: the invoice is paid, so the credit
        is settled outside Stripe (JDE applies the memo; Stripe refunds or credits nothing)."""
        params: Params = {
            "invoice": invoice_id,
            "lines": [entry for line in self.lines for entry in line.params(tax_rate)],
            "memo": self.memo,
            "metadata": dict(self.metadata),
        }
        if out_of_band:
            params["out_of_band_amount"] = self.total_minor
        return params

    def draft_lines(self) -> list[Params]:
        """The memo as lines on its original's draft (`credit_memo_on_draft = converge`): negative
        amounts, tagged with the memo so the original's own convergence leaves them alone."""
        lines: list[Params] = []
        for line in self.lines:
            entry: Params = {
                "amount": -line.amount,
                "description": f"{self.memo}: {line.description}"[:500],
                "metadata": {self.MEMO_KEY: self.record_key, "jde_line": line.key},
            }
            if line.tax:
                entry["tax_amounts"] = [
                    {
                        "amount": -line.tax,
                        "taxable_amount": -line.taxable,
                        "tax_rate_data": {
                            "display_name": line.tax_display_name,
                            "inclusive": False,
                            "percentage": line.tax_percentage,
                        },
                    }
                ]
            lines.append(entry)
        return lines

    def _content(self) -> dict[str, Any]:
        return {
            "credit_memo": self.record_key,
            "original": str(self.original_key) if self.original_key else None,
            "currency": self.currency,
            "lines": [
                [line.key, line.description, line.amount, line.tax, line.taxable, line.tax_display_name]
                for line in self.lines
            ],
            "memo": self.memo,
            "metadata": dict(self.metadata),
        }

    @property
    def content_hash(self) -> str:
        return content_hash(self._content())

    @property
    def change_hash(self) -> str:
        content = self._content()
        content["metadata"] = {k: v for k, v in self.metadata.items() if k != VERSION_STAMP_KEY}
        return content_hash(content)


@dataclass(frozen=True, slots=True)
class ArVoid(DocumentGone):
    """A voided JDE document: its draft is deleted; a finalized invoice or an issued credit note is a
    conflict for a person (`sync/ar_voids.py` says which Stripe action to take)."""

    credit_memo: bool
    reason: str

    HASH_TAG: ClassVar[str] = "voided"
