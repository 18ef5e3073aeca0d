"""Month-end reconciliation of the `ar_invoice` profile: JDE's invoices and credit memos next to Stripe's.

Per posted invoice: number, invoice date (`effective_at`), due date, currency, subtotal, tax and
total of the Stripe invoice against JDE's (figures from the mapping: lines, JDE's tax, gross AG or
ACR); per credit memo: its credit note's amount (or, converged onto a draft, the lines it added)
against the memo's gross; a voided document must have no live Stripe invoice. Stripe's figures are
summed over the lines JDE owns (`jde_lnid`), so a memo converged onto a draft is its own row, not a
difference on the invoice. `month_end_csv` writes the table a billing team opens: one row per JDE
document with both sides, the status, the difference in the currency's units and what differs.
Reads only; comparing is pure (`compare_invoice`, `compare_credit_note`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.jde.records import JdeInvoice
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.mapping import InvoiceMappingConfig, InvoiceRequest, MappingFailure, map_invoice
from jde_stripe_pipeline.mapping.ar_map import ArFigures, ar_figures
from jde_stripe_pipeline.mapping.ar_requests import ArVoid, CreditNoteRequest
from jde_stripe_pipeline.mapping.money import from_minor_units
from jde_stripe_pipeline.stripe_sink import StripeSink
from jde_stripe_pipeline.sync.diff import CREDIT_MEMO_KEY, LINE_KEY
from jde_stripe_pipeline.sync.stripe_state import Meter, StripeReader

FIGURES = ("number", "date", "due_date", "currency", "subtotal", "tax", "total")
COLUMNS = (
    "jde_document",
    "jde_key",
    "kind",
    "stripe_id",
    "stripe_status",
    "currency",
    "jde_date",
    "stripe_date",
    "jde_due_date",
    "stripe_due_date",
    "jde_subtotal",
    "stripe_subtotal",
    "jde_tax",
    "stripe_tax",
    "jde_total",
    "stripe_total",
    "difference",
    "mismatches",
)


@dataclass(frozen=True)
class ArReconciliationRow:
    """One JDE document and what Stripe holds for it; amounts in minor units, dates Unix time."""

    jde_key: str
    kind: str
    """`invoice`, `credit_memo` or `void`."""
    jde: Mapping[str, Any]
    stripe: Mapping[str, Any]
    stripe_id: str | None
    status: str | None
    mismatches: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not self.mismatches

    @property
    def difference(self) -> int:
        """Stripe's total minus JDE's, in minor units (0 when Stripe has nothing and JDE expects nothing)."""
        return int(self.stripe.get("total") or 0) - int(self.jde.get("total") or 0)


@dataclass(frozen=True)
class ArReconciliation:
    rows: tuple[ArReconciliationRow, ...]
    skipped: tuple[str, ...] = ()
    """Documents the mapping refuses (quarantined), as `key: reason`."""
    requests_sent: int = 0

    def mismatched(self) -> list[ArReconciliationRow]:
        return [row for row in self.rows if not row.matches]


def _jde_figures(figures: ArFigures) -> dict[str, Any]:
    return {
        "number": figures.number,
        "date": figures.effective_at,
        "due_date": figures.due_date,
        "currency": figures.currency,
        "subtotal": figures.subtotal,
        "tax": figures.tax,
        "total": figures.total,
    }


def stripe_figures(invoice: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An invoice's figures over the lines JDE owns (exclusive tax added, as Stripe totals)."""
    owned = [line for line in lines if (line.get("metadata") or {}).get(LINE_KEY)]
    subtotal = sum(int(line.get("amount") or 0) for line in owned)
    tax = sum(
        int(tax["amount"])
        for line in owned
        for tax in line.get("taxes") or []
        if tax.get("tax_behavior") != "inclusive"
    )
    return {
        "number": invoice.get("number"),
        "date": invoice.get("effective_at"),
        "due_date": invoice.get("due_date"),
        "currency": invoice.get("currency"),
        "subtotal": subtotal,
        "tax": tax,
        "total": subtotal + tax,
    }


def compare_invoice(
    key: str, figures: ArFigures, invoice: Mapping[str, Any] | None, lines: Sequence[Mapping[str, Any]]
) -> ArReconciliationRow:
    want = _jde_figures(figures)
    if invoice is None:
        return ArReconciliationRow(key, "invoice", want, {}, None, None, ("missing",))
    have = stripe_figures(invoice, lines)
    names = [name for name in FIGURES if name != "due_date" or figures.due_date is not None]
    mismatches = tuple(name for name in names if want[name] != have[name])
    return ArReconciliationRow(
        key, "invoice", want, have, str(invoice["id"]), str(invoice.get("status")), mismatches
    )


def compare_credit_note(
    key: str, request: CreditNoteRequest, credit: Mapping[str, Any] | None, status: str | None
) -> ArReconciliationRow:
    """A memo's gross (negative, as JDE shows it) against its credit (`credit`: subtotal, tax, total
    already made negative: a credit note, or the lines a converged memo added to a draft)."""
    want = {
        "number": None,
        "currency": request.currency,
        "subtotal": -(request.total_minor - request.tax_minor),
        "tax": -request.tax_minor,
        "total": -request.total_minor,
    }
    if credit is None:
        return ArReconciliationRow(key, "credit_memo", want, {}, None, None, ("missing",))
    have = {name: credit.get(name) for name in want}
    have["number"] = None
    mismatches = tuple(name for name in want if want[name] != have[name])
    return ArReconciliationRow(key, "credit_memo", want, have, str(credit["id"]), status, mismatches)


def compare_void(key: str, invoice: Mapping[str, Any] | None) -> ArReconciliationRow:
    """A voided document expects no live Stripe invoice (a finalized one is a conflict to void by hand)."""
    if invoice is None or invoice.get("status") == "void":
        stripe_id = str(invoice["id"]) if invoice else None
        return ArReconciliationRow(
            key, "void", {"total": 0}, {"total": 0}, stripe_id, "void" if invoice else None, ()
        )
    have = {"total": int(invoice.get("total") or 0), "currency": invoice.get("currency")}
    return ArReconciliationRow(
        key, "void", {"total": 0}, have, str(invoice["id"]), str(invoice["status"]), ("unexpected",)
    )


def reconcile_ar(
    records: Iterable[JdeInvoice], *, stripe: StripeSink, ledger: Ledger, config: InvoiceMappingConfig
) -> ArReconciliation:
    """Every A/R document of `records` (others are ignored) against what Stripe holds now."""
    records = [r for r in records if r.profile == "ar_invoice"]
    reader, meter = StripeReader(), Meter(stripe)
    mapped: dict[str, Any] = {}
    skipped: list[str] = []
    for record in records:
        request = map_invoice(record, config)
        if isinstance(request, MappingFailure):
            skipped.append(f"{request.record_key}: {request.field}: {request.reason}")
        else:
            mapped[str(record.key)] = request
    originals = {
        str(r.original_key) for r in mapped.values() if isinstance(r, CreditNoteRequest) and r.original_key
    }
    mappings = ledger.get_mappings("invoice", [*mapped, *originals])
    rows: list[ArReconciliationRow] = []
    for key, request in sorted(mapped.items()):
        if isinstance(request, InvoiceRequest):
            state = reader.invoice(key, mappings.get(key), meter)
            rows.append(compare_invoice(key, ar_figures(request), state.object, state.lines))
        elif isinstance(request, ArVoid):
            state = reader.invoice(key, mappings.get(key), meter)
            rows.append(compare_void(key, state.object))
        else:
            rows.append(_credit_row(key, request, reader, meter, mappings))
    requests = meter.count
    return ArReconciliation(tuple(rows), tuple(skipped), requests)


def _credit_row(
    key: str, request: CreditNoteRequest, reader: StripeReader, meter: Meter, mappings: Mapping[str, Any]
) -> ArReconciliationRow:
    if request.original_key is None:
        return compare_credit_note(key, request, None, None)
    original = str(request.original_key)
    state = reader.invoice(original, mappings.get(original), meter)
    if state.object is None:
        return compare_credit_note(key, request, None, None)
    status = str(state.object.get("status"))
    added = [line for line in state.lines if (line.get("metadata") or {}).get(CREDIT_MEMO_KEY) == key]
    if added:
        subtotal = sum(int(line["amount"]) for line in added)
        tax = sum(int(t["amount"]) for line in added for t in line.get("taxes") or [])
        credit = {"id": added[0]["id"], "currency": state.object.get("currency")}
        credit |= {"subtotal": subtotal, "tax": tax, "total": subtotal + tax}
        return compare_credit_note(key, request, credit, f"on {status} {state.object['id']}")
    notes = [
        note
        for note in meter.pages(meter.sink.list_credit_notes(invoice=str(state.object["id"])))
        if (note.get("metadata") or {}).get(CREDIT_MEMO_KEY) == key and note.get("status") == "issued"
    ]
    if not notes:
        return compare_credit_note(key, request, None, None)
    note = notes[0]
    credit = {
        "id": note["id"],
        "currency": note["currency"],
        "subtotal": -int(note["subtotal"]),
        "tax": -(int(note["total"]) - int(note["subtotal"])),
        "total": -int(note["total"]),
    }
    return compare_credit_note(key, request, credit, str(note.get("status")))


def month_end_csv(reconciliation: ArReconciliation, zone: tzinfo = UTC) -> str:
    """The table a billing team opens: both sides per JDE document, amounts in currency units, dates
    as days in `zone` (the JDE server's: where DIVJ and DDJ are midnights)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in reconciliation.rows:
        currency = str(row.jde.get("currency") or row.stripe.get("currency") or "")
        writer.writerow(
            [
                _document(row),
                row.jde_key,
                row.kind,
                row.stripe_id or "",
                row.status or "",
                currency.upper(),
                _day(row.jde.get("date"), zone),
                _day(row.stripe.get("date"), zone),
                _day(row.jde.get("due_date"), zone),
                _day(row.stripe.get("due_date"), zone),
                *(
                    _amount(side.get(name), currency)
                    for name in ("subtotal", "tax", "total")
                    for side in (row.jde, row.stripe)
                ),
                _amount(row.difference, currency),
                " ".join(row.mismatches),
            ]
        )
    return out.getvalue()


def _document(row: ArReconciliationRow) -> str:
    kco, doc, dct, _ = [*row.jde_key.split("/"), "", "", "", ""][:4]
    return f"{dct} {doc} {kco}"


def _day(timestamp: object, zone: tzinfo) -> str:
    if not isinstance(timestamp, int):
        return ""
    moment = datetime.fromtimestamp(timestamp, zone)
    return moment.strftime("%Y-%m-%d") if moment.time() == time(0) else moment.isoformat()


def _amount(minor: object, currency: str) -> str:
    if not isinstance(minor, int):
        return ""
    if not currency:
        return str(minor)  # a void with nothing in Stripe: 0
    try:
        return format(from_minor_units(minor, currency), "f")
    except ValueError:
        return format(Decimal(minor), "f")


def month_end_markdown(reconciliation: ArReconciliation, zone: tzinfo = UTC, limit: int = 20) -> str:
    """A preview of the month-end table for the asset's metadata: the differing rows first."""
    rows = list(csv.reader(io.StringIO(month_end_csv(reconciliation, zone))))
    header, body = rows[0], rows[1:]
    body.sort(key=lambda row: row[-1] == "")
    shown = [header[i] for i in (0, 3, 4, 5, 14, 15, 16, 17)]
    lines = ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for row in body[:limit]:
        lines.append("| " + " | ".join(row[i] for i in (0, 3, 4, 5, 14, 15, 16, 17)) + " |")
    if len(body) > limit:
        lines.append(f"| … {len(body) - limit} more row(s) in the CSV | | | | | | | |")
    return "\n".join(lines)
