"""What the engine hands back: one `RecordResult` per record, gathered in a `SyncReport` or a `Plan`.

Plain frozen dataclasses (no SQLAlchemy, no Stripe objects), so the Dagster layer can turn them into
metadata and the CLI into a table without knowing how they were made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from jde_stripe_pipeline.ledger import Action, Outcome
from jde_stripe_pipeline.sync.operations import StripeOperation

ObjectKind = Literal["customer", "invoice"]

PROBLEM_OUTCOMES: frozenset[str] = frozenset({"quarantined", "failed", "conflict"})
"""Outcomes a person should look at. (`deferred` is none: another run is syncing the record.)"""


@dataclass(frozen=True)
class RecordResult:
    """The one recorded outcome of one record in one run."""

    object_type: ObjectKind
    record_key: str
    """AN8, or KCOO/DOCO/DCTO/SFXO."""
    outcome: Outcome
    action: Action
    stripe_id: str | None
    reason: str | None
    """For quarantined / failed / conflict: names the record and the field or Stripe's message."""
    requests: int
    """Stripe requests this record cost (shared listing passes are not charged to a record)."""
    jde_version: datetime | None
    detail: Mapping[str, Any] = field(default_factory=dict)
    """Changed fields, lines added / updated / removed, person-added lines left alone, …"""


@dataclass(frozen=True)
class SyncReport:
    """One kind's sync in one account: each record's result, the requests it cost and how long it took."""

    object_type: ObjectKind
    results: tuple[RecordResult, ...]
    requests_sent: int
    """Every Stripe request of this sync, listing passes included."""
    seconds: float
    customers: SyncReport | None = None
    """For an invoice sync: the customers synced first because Stripe did not have them yet."""
    reconciliation: ReconciliationReport | None = None
    """For an invoice sync: every invoice the run read or wrote, compared with JDE from what Stripe
    answered (no extra request). Unchanged records are not read: `SyncEngine.reconcile_invoices`
    covers them."""

    @property
    def stripe_matches_jde(self) -> bool:
        """False when an invoice this run read or wrote differs from JDE in Stripe (a conflict a person
        must resolve, or a defect): the Dagster step or its check should fail on it."""
        return self.reconciliation is None or self.reconciliation.stripe_matches_jde

    def counts(self) -> dict[Outcome, int]:
        return dict(Counter(result.outcome for result in self.results))

    def problems(self) -> list[RecordResult]:
        """Quarantined + failed + conflict: what a person should look at."""
        return [result for result in self.results if result.outcome in PROBLEM_OUTCOMES]

    def result(self, record_key: str) -> RecordResult:
        return next(r for r in self.results if r.record_key == record_key)


@dataclass(frozen=True)
class PlannedChange:
    """What a sync would do to one record (nothing was written anywhere to find out)."""

    object_type: ObjectKind
    record_key: str
    action: Action
    stripe_id: str | None
    reason: str | None
    detail: Mapping[str, Any] = field(default_factory=dict)
    outcome: Outcome | None = None
    """The outcome a sync would record once `operations` are sent."""
    operations: tuple[StripeOperation, ...] = ()
    """The Stripe writes a sync sends for the record, in order, with their idempotency keys."""


@dataclass(frozen=True)
class Plan:
    object_type: ObjectKind
    changes: tuple[PlannedChange, ...]
    requests_sent: int
    """Read requests the plan cost (listing, retrieve): a plan never writes."""

    def operations(self) -> list[StripeOperation]:
        """Every write a sync would send, record after record."""
        return [operation for change in self.changes for operation in change.operations]

    def counts(self) -> dict[Action, int]:
        return dict(Counter(change.action for change in self.changes))

    def change(self, record_key: str) -> PlannedChange:
        return next(c for c in self.changes if c.record_key == record_key)


@dataclass(frozen=True)
class InvoiceReconciliation:
    """One invoice: JDE's figures next to Stripe's, and what differs."""

    record_key: str
    stripe_id: str | None
    status: str | None
    """Stripe's invoice status (`draft`, `open`, …); None when Stripe has no invoice for the record."""
    expected: Mapping[str, object]
    actual: Mapping[str, object]
    mismatches: tuple[str, ...]
    """Names of the figures that differ (`number`, `effective_at`, `currency`, `line_count`, `total`),
    or `missing` when Stripe has no invoice, `unexpected` when Stripe has one JDE would not bill."""
    person_added_lines: tuple[Mapping[str, object], ...] = ()
    person_added_metadata: tuple[str, ...] = ()
    differences: tuple[str, ...] = ()
    """What the mapping owns that Stripe shows otherwise, beyond the figures: header fields
    (`collection_method`, `metadata`, …) and JDE lines by `jde_lnid` (`line 1.000: amount`, `line
    2.000 missing`, `line il_… not in JDE`). Lines and metadata a person added are never in it."""
    drift: str | None = None
    """Set when JDE did not change the record since its last sync (the ledger's content hash still
    holds) but Stripe differs: a draft deleted or edited in Stripe. What was found; the next sync
    repairs it (a finalized invoice is never drift: it is a conflict, only reported)."""

    @property
    def matches(self) -> bool:
        return not self.mismatches and not self.differences


@dataclass(frozen=True)
class ReconciliationReport:
    invoices: tuple[InvoiceReconciliation, ...]
    conflicts: tuple[InvoiceReconciliation, ...]
    """Invoices that are no longer drafts and differ from JDE: a person must decide."""
    skipped: tuple[str, ...] = ()
    """Records that could not be compared (quarantined by the mapping), as `key: reason`."""
    requests_sent: int = 0

    def mismatched(self) -> list[InvoiceReconciliation]:
        return [item for item in self.invoices if not item.matches]

    def drifted(self) -> list[InvoiceReconciliation]:
        """Drafts deleted or edited in Stripe while JDE did not change: marked for the next sync."""
        return [item for item in self.invoices if item.drift is not None]

    @property
    def stripe_matches_jde(self) -> bool:
        return not self.mismatched()
