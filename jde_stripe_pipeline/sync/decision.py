"""The vocabulary of the decision core (`decide.py`): its inputs beyond the request and its answer.

- `StripeState`: what Stripe holds for a record, as read (or `UNREAD`).
- `Known`: what the ledger knows beyond the mapping (its intent row): a Stripe object known to carry
  the record's key, a create key sent without a recorded outcome and whether Stripe still honours it.
- `CustomerLink`: an invoice's Stripe customer — its id, `PendingCustomer` (a plan: synced first),
  `BlockedCustomer` (quarantined: the invoice is quarantined too) or None (not in Stripe: failed).
- `Decision`: outcome, action, Stripe id, reason, detail and the ordered `StripeOperation`s.
- `stripe_key`: the deterministic idempotency key of one operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from jde_stripe_pipeline.jde.records import QuarantinedRecord
from jde_stripe_pipeline.ledger import Action, Intent, ObjectMapping, Outcome
from jde_stripe_pipeline.mapping import content_hash as hash_of
from jde_stripe_pipeline.mapping import idempotency_key as make_key
from jde_stripe_pipeline.sync.operations import Created, StripeOperation
from jde_stripe_pipeline.sync.results import ObjectKind
from jde_stripe_pipeline.sync.work import Work

DRAFT = "draft"

Source = Literal["unread", "mapping", "relink", "absent"]


@dataclass(frozen=True)
class StripeState:
    """What Stripe holds for one record, as read before deciding."""

    source: Source
    """`mapping`: retrieved by the ledger's id; `relink`: found without a mapping (by the Stripe id the
    ledger knows, or looked up by its `jde_*` metadata); `absent`: Stripe holds none; `unread`."""
    object: Mapping[str, Any] | None = None
    lines: tuple[Mapping[str, Any], ...] = ()
    """An invoice's lines, all of them."""
    duplicates: tuple[str, ...] = ()
    """Ids of further objects carrying the same JDE key (reported, left alone)."""
    stale_replay: str | None = None
    """A create was answered by Stripe's replay of this object, deleted since: create anew under it."""
    lines_only: bool = False
    """A mapped invoice read by its line listing alone (`object` None): its header and status are
    unknown until a write answers with the invoice, or a retrieve reads it."""


UNREAD = StripeState("unread")
ABSENT = StripeState("absent")


@dataclass(frozen=True)
class Known:
    """What the ledger's intent row tells about a record without a mapping (see `ledger/intents.py`)."""

    stripe_id: str | None = None
    """A Stripe object known to carry the record's key (mapped once, or found by a relink)."""
    pending_key: str | None = None
    """The key of a create sent whose outcome no ledger row settled: it may have created the object."""
    replayable: bool = False
    """Stripe still honours `pending_key`: re-sending it answers with that object if it was created."""

    @classmethod
    def of(cls, intent: Intent | None) -> Known:
        if intent is None:
            return NOTHING_KNOWN
        return cls(intent.stripe_id, intent.idempotency_key, intent.replayable)

    @property
    def anything(self) -> bool:
        return self.stripe_id is not None or self.pending_key is not None


NOTHING_KNOWN = Known()
"""A record the ledger never created in Stripe: created without reading Stripe (O(change) runs)."""


@dataclass(frozen=True)
class ReadStripe:
    """The answer of a decide function that needs to know what Stripe holds first."""


READ_STRIPE = ReadStripe()


@dataclass(frozen=True)
class PendingCustomer:
    """Plan only: the invoice's customer is in neither the ledger nor Stripe; the customer sync that
    runs before the invoices creates it."""

    an8: int

    def __str__(self) -> str:
        return f"{{customer AN8 {self.an8}, synced first}}"


@dataclass(frozen=True)
class BlockedCustomer:
    """The invoice's customer is quarantined (a data problem no retry fixes): the invoice waits, as a
    quarantine naming the customer, its field and reason."""

    an8: int
    field: str
    reason: str


@dataclass(frozen=True)
class BusyCustomer:
    """The invoice's customer is not in Stripe yet because another live run holds its claim (it is
    creating it): the invoice is deferred to that run too, not failed."""

    an8: int
    reason: str


CustomerLink = str | PendingCustomer | BlockedCustomer | BusyCustomer | None
"""The Stripe customer of an invoice: its id, pending (plan), blocked (quarantined), busy (another run
creates it), or None: not in Stripe for another reason (a failure: see the customer's own outcome)."""


@dataclass(frozen=True)
class Decision:
    """What happens to one record: the outcome once `operations` are sent, in order."""

    object_type: ObjectKind
    record_key: str
    outcome: Outcome
    action: Action
    stripe_id: str | Created | None
    reason: str | None = None
    detail: Mapping[str, object] = field(default_factory=dict)
    operations: tuple[StripeOperation, ...] = ()
    replaces: str | None = None
    """The Stripe id the mapping moves away from (a re-create after a deletion)."""
    blind: bool = False
    """Decided without reading Stripe (a mapped customer's update): a 404 re-decides as `absent`."""
    quarantine: QuarantinedRecord | None = None
    """For a quarantine decided here (not by the extract or the mapping): the finding to record."""

    @property
    def create(self) -> StripeOperation | None:
        """The create among the operations (noted in the ledger before it is sent), if any."""
        return next((op for op in self.operations if op.method.endswith(".create")), None)


def stripe_key(kind: ObjectKind, work: Work, operation: str, content: str, generation: str) -> str:
    """Deterministic per (operation content, generation, attempt): see `decide.py`'s docstring."""
    salted = hash_of({"content": content, "generation": generation, "attempt": work.attempt})
    return make_key(kind, work.record_key, operation, salted)


def generation(mapping: ObjectMapping) -> str:
    """Moves whenever an outcome is recorded for the record; fixed while a change is in flight."""
    return f"{mapping.stripe_id}@{mapping.updated_at.isoformat()}"


def quarantined(kind: ObjectKind, work: Work) -> Decision:
    record = work.quarantined
    assert record is not None
    return Decision(
        kind, work.record_key, "quarantined", "quarantine", None, f"{record.field}: {record.reason}"
    )


def blocked(work: Work, customer: BlockedCustomer) -> Decision:
    """An invoice whose customer is quarantined: quarantined too, naming the customer's AN8, field and
    reason (not `failed`: a retry cannot change it, and a failure would fail the Dagster step)."""
    record = QuarantinedRecord(
        kind="invoice",
        record_key=work.record_key,
        field="customer_an8",
        reason=f"customer AN8 {customer.an8} is quarantined ({customer.field}: {customer.reason})",
        raw={"customer_an8": customer.an8, "customer_field": customer.field},
    )
    return Decision(
        "invoice",
        work.record_key,
        "quarantined",
        "quarantine",
        None,
        f"{record.field}: {record.reason}",
        quarantine=record,
    )
