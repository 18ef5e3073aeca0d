"""The `ar_invoice` profile's credit memos and voids: decided here, sent, recorded like any record.

The engine hands over the works whose request is a `CreditNoteRequest` or an `ArVoid`
(`split_ar_events`) and runs them after the invoices (so a memo sees its original's mapping). The
choices are the pure decisions of `credit_notes.credit_decision` and `ar_voids.void_action`:
- a credit memo whose original is open or paid in Stripe → one credit note on it (idempotent: its key
  is the memo's content, the memo's key rides in `metadata.jde_credit_memo`, and a credit note already
  carrying it is relinked, not created again); on a paid original the credit is settled out of band
  (JDE applies the memo; Stripe neither refunds nor credits the balance);
- its original still a draft → quarantined with the reason, or with `credit_memo_on_draft = converge`
  the memo's lines are added to the draft, tagged with the memo (the original's own convergence
  leaves them alone);
- no original (ODOC blank, the link configured off, or not in Stripe yet) → quarantined. A customer
  balance credit was the alternative; it is not made: it would move money in Stripe with no invoice
  to reconcile it against, and JDE applies the memo itself;
- a voided invoice → its draft is deleted; a finalized one is a conflict naming "void in Stripe";
  a voided memo whose credit note exists is a conflict too.
Once recorded, an unchanged memo costs no request at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from jde_stripe_pipeline.jde.records import QuarantinedRecord
from jde_stripe_pipeline.ledger import Ledger, ObjectMapping
from jde_stripe_pipeline.mapping import InvoiceMappingConfig
from jde_stripe_pipeline.mapping.ar_requests import ArVoid, CreditNoteRequest
from jde_stripe_pipeline.stripe_sink import StripeRequestRejected, StripeSink, StripeUnavailable
from jde_stripe_pipeline.sync.ar_voids import void_action
from jde_stripe_pipeline.sync.credit_notes import credit_decision
from jde_stripe_pipeline.sync.decide import Decision, StripeState, delete_draft, stripe_key
from jde_stripe_pipeline.sync.execute import Executed, NewKeyNeeded, send
from jde_stripe_pipeline.sync.operations import StripeOperation
from jde_stripe_pipeline.sync.record import Recorder
from jde_stripe_pipeline.sync.results import RecordResult
from jde_stripe_pipeline.sync.stripe_state import Meter, StripeReader
from jde_stripe_pipeline.sync.work import Work

MEMO_KEY = CreditNoteRequest.MEMO_KEY


def is_ar_event(work: Work) -> bool:
    return isinstance(work.request, CreditNoteRequest | ArVoid)


def split_ar_events(items: Iterable[Work]) -> tuple[list[Work], list[Work]]:
    """(the works `decide_invoice` takes, the memos and voids decided here)."""
    items = list(items)
    return [w for w in items if not is_ar_event(w)], [w for w in items if is_ar_event(w)]


def single_tax_rate(lines: Iterable[Mapping[str, Any]]) -> str | None:
    """The invoice's one tax rate (a credit note credits tax on it), None when none or several."""
    rates = {
        str(tax["tax_rate_details"]["tax_rate"])
        for line in lines
        if not (line.get("metadata") or {}).get(MEMO_KEY)
        for tax in line.get("taxes") or []
        if (tax.get("tax_rate_details") or {}).get("tax_rate")
    }
    return rates.pop() if len(rates) == 1 else None


class ArEvents:
    """Decide, send and record credit memos and voids (one `Meter` per record, like the engine)."""

    def __init__(
        self,
        *,
        sink: StripeSink,
        ledger: Ledger,
        reader: StripeReader,
        recorder: Recorder,
        config: InvoiceMappingConfig,
    ) -> None:
        self.sink, self.ledger, self.reader, self.recorder, self.config = (
            sink,
            ledger,
            reader,
            recorder,
            config,
        )

    # ----------------------------------------------------------------------------------- public

    def plan(self, work: Work) -> tuple[Decision, int]:
        """The decision and the read requests it cost (nothing is written)."""
        meter = Meter(self.sink)
        return self.decide(work, meter), meter.count

    def sync(self, work: Work) -> RecordResult:
        meter = Meter(self.sink)
        try:
            decision = self.decide(work, meter)
            executed = self._execute(decision, meter)
            if decision.outcome == "quarantined":
                work = replace(work, quarantined=_finding(work, decision))
            return self.recorder.decided(decision, work, executed, work.requests_before + meter.count)
        except StripeUnavailable as error:
            if error.same_key_will_fail:
                raise NewKeyNeeded(str(error), requests=work.requests_before + meter.count) from error
            return self._failed(work, str(error), meter)
        except StripeRequestRejected as error:
            return self._failed(work, str(error), meter)

    def decide(self, work: Work, meter: Meter) -> Decision:
        mapping = self.ledger.get_mappings("invoice", [work.record_key]).get(work.record_key)
        request = work.request
        if isinstance(request, ArVoid):
            return self._void(work, request, mapping, meter)
        assert isinstance(request, CreditNoteRequest)
        return self._credit_memo(work, request, mapping, meter)

    # ----------------------------------------------------------------------------------- voids

    def _void(self, work: Work, request: ArVoid, mapping: ObjectMapping | None, meter: Meter) -> Decision:
        key = work.record_key
        if request.credit_memo:
            if mapping is None:
                return Decision(
                    "invoice", key, "deleted", "nothing", None, f"{request.reason}; nothing in Stripe"
                )
            reason = (
                f"{request.reason}, but its credit {mapping.stripe_id} stands in Stripe: void the credit "
                "note in Stripe (or remove its lines from the draft) by hand"
            )
            return Decision("invoice", key, "conflict", "conflict", mapping.stripe_id, reason)
        if mapping is None and self.recorder.already_deleted(key, request.content_hash):
            return Decision("invoice", key, "deleted", "nothing", None, f"{request.reason}; deleted before")
        state = self.reader.invoice(key, mapping, meter)
        invoice = state.object
        action = void_action(f"invoice {key}", str(invoice["status"]) if invoice else None)
        stripe_id = str(invoice["id"]) if invoice else None
        if action.kind == "none":
            return Decision("invoice", key, "deleted", "nothing", None, action.reason)
        if action.kind == "conflict":
            return Decision("invoice", key, "conflict", "conflict", stripe_id, action.reason)
        assert stripe_id is not None
        return delete_draft(work, request, stripe_id, action.reason)

    # ----------------------------------------------------------------------------- credit memos

    def _credit_memo(
        self, work: Work, request: CreditNoteRequest, mapping: ObjectMapping | None, meter: Meter
    ) -> Decision:
        key = work.record_key
        if mapping is not None:
            if mapping.content_hash == request.change_hash:
                return Decision("invoice", key, "unchanged", "nothing", mapping.stripe_id)
            reason = (
                f"credit memo {key} changed in JDE after its credit {mapping.stripe_id} was made in Stripe, "
                "which cannot be edited: void it in Stripe by hand, then re-sync the memo"
            )
            return Decision("invoice", key, "conflict", "conflict", mapping.stripe_id, reason)
        original = str(request.original_key) if request.original_key else None
        state = StripeState("absent")
        if original is not None:
            original_mapping = self.ledger.get_mappings("invoice", [original]).get(original)
            state = self.reader.invoice(original, original_mapping, meter)
        status = str(state.object["status"]) if state.object else None
        converge = self.config.credit_memo_on_draft == "converge"
        choice = credit_decision(f"credit memo {key}", original, status, credit_draft_originals=converge)
        if choice.kind == "quarantine":
            reason = f"credit memo {key}: {request.why_no_original}" if original is None else choice.reason
            return Decision("invoice", key, "quarantined", "quarantine", None, reason)
        assert state.object is not None
        invoice_id = str(state.object["id"])
        if choice.kind == "adjust_draft":
            return self._onto_draft(work, request, state, invoice_id, choice.reason)
        existing = [
            note
            for note in meter.pages(self.sink.list_credit_notes(invoice=invoice_id))
            if (note.get("metadata") or {}).get(MEMO_KEY) == key and note.get("status") == "issued"
        ]
        if existing:
            return Decision("invoice", key, "unchanged", "relink", str(existing[0]["id"]), choice.reason)
        params = request.params(
            invoice_id, tax_rate=single_tax_rate(state.lines), out_of_band=status == "paid"
        )
        create = StripeOperation(
            "credit_notes.create",
            None,
            stripe_key("invoice", work, "credit_note", request.content_hash, invoice_id),
            params,
        )
        detail = {"invoice": invoice_id, "amount": request.total_minor, "original": original}
        return Decision("invoice", key, "created", "create", None, choice.reason, detail, (create,))

    def _onto_draft(
        self, work: Work, request: CreditNoteRequest, state: StripeState, invoice_id: str, reason: str
    ) -> Decision:
        key = work.record_key
        applied = [line for line in state.lines if (line.get("metadata") or {}).get(MEMO_KEY) == key]
        if applied:
            return Decision("invoice", key, "unchanged", "relink", str(applied[0]["id"]), reason)
        lines = request.draft_lines()
        add = StripeOperation(
            "invoices.add_lines",
            invoice_id,
            stripe_key("invoice", work, "add_lines", request.content_hash, invoice_id),
            {"lines": lines},
        )
        detail = {"invoice": invoice_id, "lines_added": len(lines)}
        return Decision("invoice", key, "updated", "converge", None, reason, detail, (add,))

    # ----------------------------------------------------------------------------------- sending

    def _execute(self, decision: Decision, meter: Meter) -> Executed:
        stripe_id = decision.stripe_id if isinstance(decision.stripe_id, str) else None
        first: tuple[str, str | None] | None = None
        for operation in decision.operations:
            if operation.method == "credit_notes.create":
                meter.count += 1
                result = self.sink.create_credit_note(
                    operation.params, idempotency_key=operation.idempotency_key
                )
                stripe_id = str(result.object["id"])
            else:
                result = send(meter, operation)
                if operation.method == "invoices.add_lines":
                    stripe_id = self._memo_line(result.object, decision.record_key, meter)
            first = first or (operation.idempotency_key, result.request_id)
        return Executed(stripe_id, first[0] if first else None, first[1] if first else None)

    def _memo_line(self, invoice: Mapping[str, Any], memo: str, meter: Meter) -> str:
        """The first line the memo added to the draft: what its mapping points at."""
        for line in meter.invoice_lines(invoice):
            if (line.get("metadata") or {}).get(MEMO_KEY) == memo:
                return str(line["id"])
        raise StripeUnavailable(f"credit memo {memo}: its lines are not on draft {invoice.get('id')}")

    def _failed(self, work: Work, error: str, meter: Meter) -> RecordResult:
        reason = f"invoice {work.record_key}: {error}"
        return self.recorder.failed(
            "invoice", work, "create", None, reason, work.requests_before + meter.count
        )


def _finding(work: Work, decision: Decision) -> QuarantinedRecord:
    """The quarantine entry of a memo that cannot be credited yet (the field its link lives in)."""
    return QuarantinedRecord(
        kind="invoice",
        record_key=work.record_key,
        field="F03B11.RPODOC",
        reason=decision.reason or "cannot be credited",
        raw={"original": str(getattr(work.request, "original_key", None))},
    )
