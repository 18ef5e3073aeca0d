"""Typed A/R records: an invoice or credit memo posted to the G/L, as the `ar_invoice` extract yields it.

`JdeArInvoice` *is* a `JdeInvoice` (profile `ar_invoice`, key DOC/DCT/KCO with SFXO `000`, date DIVJ,
total = JDE's gross), so every step that carries invoices (assets, replay, the engine) carries it
unchanged; what the mapping needs beyond an order — the pay items (`document`), the due date, the
kind (invoice or credit memo), the original a memo credits, F0018's tax — rides along. Its `lines`
are the sales lines (`JdeArLine`: a line of an order, so keyed by the order too).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from jde_stripe_pipeline.jde.ar_documents import ArDocument, ArStatus
from jde_stripe_pipeline.jde.records import JdeDocumentKey, JdeInvoice, JdeInvoiceLine, _Record

ArKind = Literal["invoice", "credit_memo"]


class JdeArLine(JdeInvoiceLine):
    """A sales line Sales Update linked to the invoice: amounts domestic (AEXP/UPRC) or, for a
    foreign-mode invoice, foreign (FEA/FUP)."""

    table: str
    """F42119 (history) or F4211 (not moved yet)."""
    order: JdeDocumentKey
    """The sales order the line belongs to (KCOO, DOCO, DCTO; SFXO 000)."""
    taxable: bool
    """TAX1 = Y."""
    tax_area: str | None = None
    tax_explanation: str | None = None

    @property
    def line_key(self) -> str:
        """Unique within an invoice that may cover several orders: `SO 5001 00001 1.000`."""
        return f"{self.order.dcto} {self.order.doco} {self.order.kcoo} {self.lnid.quantize(Decimal('0.001'))}"


class JdeArTax(_Record):
    """F0018's current row for one pay item: the tax by authority summed (STA1..5), and the rate
    (TXR1..5 summed, percent) where JDE recorded one."""

    sfx: str
    tax: Decimal
    rate: Decimal | None = None
    tax_area: str | None = None
    tax_explanation: str | None = None


class JdeArInvoice(JdeInvoice):
    kind: ArKind
    status: ArStatus
    """`posted` or `voided` (an unposted document is not extracted: nothing to bill yet)."""
    document: ArDocument
    """The pay items with their amounts in the document's currency (domestic or foreign by CRRM)."""
    original: JdeDocumentKey | None = None
    """A credit memo's original invoice (ODOC/ODCT/OKCO), when the memo names one."""
    taxes: tuple[JdeArTax, ...] = ()
    """F0018 by pay item (domestic amounts), when the G/L post wrote it."""
