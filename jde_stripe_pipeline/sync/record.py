"""Recording outcomes in the ledger: one audit row (and mapping change) per record, as decided.

A mapping the ledger refuses (`MappingConflictError`: the JDE key or the Stripe object is already
mapped otherwise, e.g. two records relinked to one Stripe object) turns the record into a conflict.
An outcome written under the run's claim on the record ends that claim in the same transaction.

`unchanged` outcomes (no claim, nothing sent) are written in batches of `BATCH` (`flush`, which the
engine calls when its records are done): one transaction each cost a re-sync ~5 ms a record in commits.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from jde_stripe_pipeline.ledger import (
    Action,
    Busy,
    ClaimToken,
    Ledger,
    MappingConflictError,
    ObjectMapping,
    Outcome,
    RecordOutcome,
)
from jde_stripe_pipeline.sync.decision import Decision
from jde_stripe_pipeline.sync.execute import Executed
from jde_stripe_pipeline.sync.results import ObjectKind, RecordResult
from jde_stripe_pipeline.sync.work import Work

_MAPPED: frozenset[Outcome] = frozenset({"created", "updated", "unchanged", "repaired"})
BATCH = 500


class Recorder:
    """Builds each record's result and ledger outcome together, and writes the outcome."""

    def __init__(self, ledger: Ledger, run_id: str, partition_key: str | None) -> None:
        self.ledger = ledger
        self.run_id = run_id
        self.partition_key = partition_key
        self._unchanged: list[tuple[RecordResult, RecordOutcome]] = []
        self._lock = threading.Lock()

    def already_deleted(self, record_key: str, content_hash: str) -> bool:
        """A record whose draft this engine deleted for this very content: nothing to look up again."""
        history = self.ledger.history(record_key, object_type="invoice")
        latest = history[-1] if history else None
        return latest is not None and latest.outcome == "deleted" and latest.payload_hash == content_hash

    def decided(
        self,
        decision: Decision,
        work: Work,
        executed: Executed,
        requests: int,
        claim: ClaimToken | None = None,
        mapping: ObjectMapping | None = None,
    ) -> RecordResult:
        """Record a decision carried out (or one without operations). `mapping`: the record's ledger row
        the decision was made on; an `unchanged` record this run already wrote as it is (the customer
        step after the invoice step's lane, a step retried) writes no second row (`_written_by_run`)."""
        release = claim.holder if claim is not None else None
        if decision.outcome == "quarantined":
            finding = decision.quarantine or work.quarantined
            assert finding is not None
            outcome = replace(
                RecordOutcome.quarantined(
                    finding, run_id=self.run_id, partition_key=self.partition_key, attempt=work.attempt
                ),
                release_claim=release,
            )
        else:
            replaces = decision.replaces
            mapped = decision.outcome in _MAPPED
            outcome = RecordOutcome(
                run_id=self.run_id,
                partition_key=self.partition_key,
                object_type=decision.object_type,
                record_key=work.record_key,
                action=decision.action,
                outcome=decision.outcome,
                jde_version=work.jde_version,
                payload_hash=work.request.change_hash if work.request is not None else None,
                idempotency_key=executed.idempotency_key,
                stripe_request_id=executed.request_id,
                stripe_id=executed.stripe_id,
                reason=decision.reason,
                attempt=work.attempt,
                replaces_stripe_id=replaces if mapped and replaces != executed.stripe_id else None,
                release_claim=release,
            )
        result = RecordResult(
            decision.object_type,
            work.record_key,
            decision.outcome,
            decision.action,
            executed.stripe_id,
            outcome.reason,
            requests,
            work.jde_version,
            dict(decision.detail),
        )
        if decision.outcome == "unchanged" and release is None:
            if self._written_by_run(mapping, outcome):
                return result
            with self._lock:
                self._unchanged.append((result, outcome))
                full = len(self._unchanged) >= BATCH
            if full:
                self.flush()
            return result
        return self._write(result, outcome)

    def _written_by_run(self, mapping: ObjectMapping | None, outcome: RecordOutcome) -> bool:
        """This run's own write left the mapping exactly as this outcome would: same object, content and
        JDE version, no drift mark. Its audit row is there already; writing `unchanged` again would
        repeat it (the mapping update and quarantine resolution would change nothing) and cost ~0.3 ms a
        record after the last Stripe answer."""
        return (
            mapping is not None
            and mapping.last_run_id == self.run_id
            and mapping.drift is None
            and mapping.stripe_id == outcome.stripe_id
            and mapping.content_hash == outcome.payload_hash
            and mapping.jde_version == outcome.jde_version
        )

    def failed(
        self,
        kind: ObjectKind,
        work: Work,
        action: Action,
        stripe_id: str | None,
        reason: str,
        requests: int,
        claim: ClaimToken | None = None,
    ) -> RecordResult:
        outcome = RecordOutcome(
            run_id=self.run_id,
            partition_key=self.partition_key,
            object_type=kind,
            record_key=work.record_key,
            action=action,
            outcome="failed",
            jde_version=work.jde_version,
            payload_hash=work.request.change_hash if work.request is not None else None,
            stripe_id=stripe_id,
            reason=reason,
            attempt=work.attempt,
            release_claim=claim.holder if claim is not None else None,
        )
        result = RecordResult(
            kind, work.record_key, "failed", action, stripe_id, reason, requests, work.jde_version
        )
        return self._write(result, outcome)

    def deferred(self, work: Work, busy: Busy) -> RecordResult:
        """Another live run holds the record's claim: nothing sent, the record is left to that run."""
        outcome = RecordOutcome(
            run_id=self.run_id,
            partition_key=self.partition_key,
            object_type=busy.object_type,
            record_key=work.record_key,
            action="nothing",
            outcome="deferred",
            jde_version=work.jde_version,
            payload_hash=work.request.change_hash if work.request is not None else None,
            reason=busy.reason,
            attempt=work.attempt,
        )
        result = RecordResult(
            busy.object_type,
            work.record_key,
            "deferred",
            "nothing",
            None,
            busy.reason,
            work.requests_before,
            work.jde_version,
            {"held_by_run": busy.holder_run_id},
        )
        self.ledger.intents.record_deferral(outcome)
        return result

    def flush(self) -> None:
        """Write the `unchanged` outcomes held back, in one transaction (one by one if a mapping
        conflict — another run re-mapped one of them meanwhile — refuses the batch)."""
        with self._lock:
            held, self._unchanged = self._unchanged, []
        if not held:
            return
        try:
            self.ledger.record_outcomes([outcome for _, outcome in held])
        except MappingConflictError:
            for result, outcome in held:
                self._write(result, outcome)

    def _write(self, result: RecordResult, outcome: RecordOutcome) -> RecordResult:
        try:
            self.ledger.record_outcome(outcome)
        except MappingConflictError as error:
            reason = f"{result.object_type} {result.record_key}: {error}"
            conflict = replace(
                outcome, outcome="conflict", action="conflict", reason=reason, replaces_stripe_id=None
            )
            self.ledger.record_outcome(conflict)
            return replace(result, outcome="conflict", action="conflict", reason=reason)
        return result
