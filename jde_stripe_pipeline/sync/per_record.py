"""One record through the engine: decide → (claim → re-read → decide, execute, re-decide) → record.

- A decision that sends nothing (unchanged, quarantined, a customer that is not in Stripe, nothing
  left to bill and no draft known) is recorded at once: no claim, no Stripe request.
- Anything else first takes the record's claim in the ledger (`claims.py`). A claim another live run
  holds means that run is writing the record: this one records `deferred` and sends nothing. With the
  claim, the mapping and the intent row are read again (another run may have finished the record a
  moment ago: then it is simply unchanged), and only then is Stripe read and written.
- Before a create its key is noted in the intent row, so a run that dies after Stripe's commit leaves
  the next run a key to replay (or, past Stripe's memory, one object to look up) — never a duplicate.
- A saved Stripe failure (`Stripe-Should-Retry: false`) or an `idempotency_error` raises the
  record's attempt in the ledger and sends it to the next round (`NewKeyNeeded`) with its claim kept.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from jde_stripe_pipeline.ledger import Action, Busy, Intent, Ledger, ObjectMapping
from jde_stripe_pipeline.mapping import CustomerRequest, DeleteDraftInvoice
from jde_stripe_pipeline.stripe_sink import (
    StripeIdempotencyConflict,
    StripeRequestRejected,
    StripeSink,
    StripeUnavailable,
)
from jde_stripe_pipeline.sync.claims import Claims
from jde_stripe_pipeline.sync.converge import then_header
from jde_stripe_pipeline.sync.decide import decide_customer, decide_invoice
from jde_stripe_pipeline.sync.decision import (
    UNREAD,
    CustomerLink,
    Decision,
    Known,
    StripeState,
)
from jde_stripe_pipeline.sync.drift import customer_gone
from jde_stripe_pipeline.sync.execute import Executed, NewKeyNeeded, execute
from jde_stripe_pipeline.sync.reconcile import state_after
from jde_stripe_pipeline.sync.record import Recorder
from jde_stripe_pipeline.sync.results import ObjectKind, RecordResult
from jde_stripe_pipeline.sync.stripe_state import Meter, StripeReader, reads_lines_first
from jde_stripe_pipeline.sync.work import Work

NOT_A_DRAFT = "invoice_not_editable"
"""Stripe's code for a line call on an invoice that is no longer a draft."""

MAX_DECISIONS = 5
"""Decisions per record and round: the first, then one per re-decide (a create replaying a deleted
object, a blind update finding the object gone)."""


class RecordFlow:
    def __init__(self, sink: StripeSink, ledger: Ledger, recorder: Recorder, claims: Claims) -> None:
        self.sink = sink
        self.ledger = ledger
        self.recorder = recorder
        self.claims = claims
        self.reader = StripeReader()
        self.seen: dict[str, StripeState] = {}
        """Invoices: the state Stripe answered a run's reads and writes with (the reconciliation's)."""
        self._seen_lock = threading.Lock()

    def _saw(self, record_key: str, state: StripeState | None) -> None:
        with self._seen_lock:
            if state is None:
                self.seen.pop(record_key, None)
            else:
                self.seen[record_key] = state

    def decide(
        self,
        kind: ObjectKind,
        work: Work,
        mapping: ObjectMapping | None,
        intent: Intent | None,
        meter: Meter,
        *,
        customer: CustomerLink = None,
        peek: bool = False,
        read: bool = True,
        state: StripeState = UNREAD,
    ) -> tuple[Decision, StripeState] | None:
        """The decision and the Stripe state it was decided on, reading Stripe when it needs to (a plan
        also where a sync would go blind); None when it needs a read and `read` is False."""
        request = work.request
        known = Known.of(intent)
        already_deleted = (
            isinstance(request, DeleteDraftInvoice)
            and mapping is None
            and self.recorder.already_deleted(work.record_key, request.content_hash)
        )
        for _ in range(3):
            if kind == "customer":
                answer = decide_customer(work, mapping, state, known)
            else:
                answer = decide_invoice(
                    work, mapping, state, known, customer=customer, already_deleted=already_deleted
                )
            if isinstance(answer, Decision) and not (peek and answer.blind):
                return answer, state
            if not read:
                return None
            if kind == "customer":
                email = request.email if isinstance(request, CustomerRequest) else None
                state = self.reader.customer(work.record_key, mapping, meter, intent=intent, email=email)
            elif state.lines_only:
                assert mapping is not None
                state = self.reader.invoice_header(mapping.stripe_id, state, meter)
            elif mapping is not None and not peek and reads_lines_first(request, mapping):
                state = self.reader.invoice_lines(mapping.stripe_id, meter)
            else:
                customer_id = customer if isinstance(customer, str) else None
                state = self.reader.invoice(
                    work.record_key, mapping, meter, intent=intent, customer_id=customer_id
                )
        raise AssertionError(f"{kind} {work.record_key}: undecided with Stripe's state read")

    def sync(
        self,
        kind: ObjectKind,
        work: Work,
        mapping: ObjectMapping | None,
        intent: Intent | None,
        *,
        customer: CustomerLink = None,
    ) -> RecordResult:
        meter = Meter(self.sink)
        if intent is not None:
            work = replace(work, attempt=intent.attempt)
        decided = self.decide(kind, work, mapping, intent, meter, customer=customer, read=False)
        quick = decided[0] if decided is not None else None
        if quick is not None and not quick.operations:
            executed = Executed(_id(quick), None, None)
            return self.recorder.decided(quick, work, executed, work.requests_before, mapping=mapping)
        expected_create = quick.create if quick is not None else None
        claimed = self.claims.claim(
            kind, work.record_key, expected_create.idempotency_key if expected_create else None
        )
        if isinstance(claimed, Busy):
            return self.recorder.deferred(work, claimed)
        work = replace(work, attempt=claimed.attempt)
        mapping = self.ledger.get_mappings(kind, [work.record_key]).get(work.record_key)
        try:
            return self._claimed(kind, work, mapping, claimed, meter, customer)
        except (StripeUnavailable, StripeIdempotencyConflict) as error:
            if isinstance(error, StripeIdempotencyConflict) or error.same_key_will_fail:
                if not _is_read(error):  # a read poisons no key: the next round simply reads again
                    self.claims.next_attempt(kind, work.record_key)
                requests = work.requests_before + meter.count
                raise NewKeyNeeded(str(error), requests=requests, attempt=work.attempt) from error
            return self._failed(kind, work, mapping, None, str(error), meter)
        except StripeRequestRejected as error:
            run, partition = self.recorder.run_id, self.recorder.partition_key
            gone = customer_gone(self.ledger, work, customer, error, run_id=run, partition_key=partition)
            return self._failed(
                kind, work, mapping, mapping.stripe_id if mapping else None, f"{error}{gone}", meter
            )

    def _claimed(
        self,
        kind: ObjectKind,
        work: Work,
        mapping: ObjectMapping | None,
        intent: Intent,
        meter: Meter,
        customer: CustomerLink,
    ) -> RecordResult:
        """Decide, execute, and decide again while Stripe's answers change the state; then record."""
        state = UNREAD
        noted = intent.idempotency_key
        for _ in range(MAX_DECISIONS):
            decided = self.decide(kind, work, mapping, intent, meter, customer=customer, state=state)
            assert decided is not None
            decision, state = decided
            create = decision.create
            if create is not None and create.idempotency_key != noted:
                self.claims.note_create(kind, work.record_key, create.idempotency_key)
                noted = create.idempotency_key
            try:
                answer = execute(decision, meter)
            except StripeRequestRejected as error:
                if not (state.lines_only and error.code == NOT_A_DRAFT and mapping is not None):
                    raise
                state = self.reader.invoice_header(mapping.stripe_id, state, meter)  # decided on it next
                continue
            if isinstance(answer, Executed):
                if state.lines_only and answer.answers:
                    header = self._header(work, mapping, intent, meter, customer, state, decision, answer)
                    decision, answer = header
                if kind == "invoice":
                    self._saw(work.record_key, state_after(state, decision, answer.answers))
                requests = work.requests_before + meter.count
                return self.recorder.decided(decision, work, answer, requests, claim=self.claims.token)
            state = answer
        raise StripeUnavailable(f"create keeps replaying deleted {kind}s")

    def _header(
        self,
        work: Work,
        mapping: ObjectMapping | None,
        intent: Intent,
        meter: Meter,
        customer: CustomerLink,
        state: StripeState,
        lines: Decision,
        sent: Executed,
    ) -> tuple[Decision, Executed]:
        """A draft read by its lines alone, its line calls answered: the header decided on the answer
        (read again only when the answer cannot tell the lines), sent, and both recorded as one."""
        after = state_after(state, lines, sent.answers)
        if after is None:
            after = self.reader.invoice(work.record_key, mapping, meter)
        header = decide_invoice(work, mapping, after, Known.of(intent), customer=customer)
        assert isinstance(header, Decision), "a read invoice is decided"
        answer = execute(header, meter)
        assert isinstance(answer, Executed), "a converge creates nothing"
        return then_header(lines, header), replace(sent, answers=sent.answers + answer.answers)

    def give_up(self, kind: ObjectKind, work: Work, error: NewKeyNeeded) -> RecordResult:
        """The record's last round ended on a saved failure: recorded `failed` (its next attempt number
        is in the ledger, so the next run sends new keys)."""
        reason = f"{kind} {work.record_key}: {error}"
        work = replace(work, attempt=error.attempt)
        return self.recorder.failed(
            kind, work, "create", None, reason, error.requests, claim=self.claims.token
        )

    def _failed(
        self,
        kind: ObjectKind,
        work: Work,
        mapping: ObjectMapping | None,
        stripe_id: str | None,
        error: str,
        meter: Meter,
    ) -> RecordResult:
        action: Action = ("update" if kind == "customer" else "converge") if mapping else "create"
        reason = f"{kind} {work.record_key}: {error}"
        return self.recorder.failed(
            kind, work, action, stripe_id, reason, work.requests_before + meter.count, claim=self.claims.token
        )


def _is_read(error: StripeUnavailable | StripeIdempotencyConflict) -> bool:
    operation = getattr(error, "operation", "")
    return operation.endswith((".retrieve", ".list", ".search"))


def _id(decision: Decision) -> str | None:
    return decision.stripe_id if isinstance(decision.stripe_id, str) else None
