"""The ledger's vocabulary: typed rows it returns, the request object it records, its errors.

Plain frozen dataclasses, so the sync engine and the Dagster layer never see SQLAlchemy rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT
from jde_stripe_pipeline.jde.records import QuarantinedRecord

ObjectType = Literal["customer", "invoice"]
OBJECT_TYPES: frozenset[str] = frozenset(get_args(ObjectType))

Action = Literal["create", "update", "converge", "delete", "nothing", "conflict", "quarantine", "relink"]
"""What the plan decided to do with a record."""
ACTIONS: frozenset[str] = frozenset(get_args(Action))

Outcome = Literal[
    "created",
    "updated",
    "unchanged",
    "conflict",
    "quarantined",
    "failed",
    "deleted",
    "deferred",
    "drifted",
    "repaired",
]
"""What actually happened to a record. `deferred`: another run held the record's claim, so this run
left it to that one (nothing written to Stripe). `drifted`: the reconciliation found the record's Stripe
draft deleted or edited in fields the mapping owns while JDE did not change it (nothing written to
Stripe; the mapping is marked, see `ledger/drift.py`). `repaired`: a sync made such a drifted object
equal JDE again (re-created or converged)."""
OUTCOMES: frozenset[str] = frozenset(get_args(Outcome))

MAPPED_OUTCOMES: frozenset[str] = frozenset({"created", "updated", "unchanged", "repaired"})
"""Outcomes after which the mapping holds the Stripe id and the content hash just recorded."""
RESOLVING_OUTCOMES: frozenset[str] = MAPPED_OUTCOMES | {"deleted"}
"""Outcomes that prove the record syncs fine again: its open quarantine is marked resolved."""


@dataclass(frozen=True)
class ObjectMapping:
    """One JDE record ↔ one Stripe object, with the hash of the request last sent for it."""

    object_type: ObjectType
    jde_key: str
    """AN8 for customers, `KCOO/DOCO/DCTO/SFXO` for invoices."""
    stripe_id: str
    content_hash: str
    jde_version: datetime | None
    """The record's JDE update stamp (naive, JDE server's local time)."""
    last_run_id: str | None
    created_at: datetime
    updated_at: datetime
    drift: str | None = None
    """Set by the reconciliation when Stripe no longer holds what `content_hash` says (the object deleted
    or edited in owned fields while JDE did not change): what it found. The next sync re-decides the
    record against Stripe instead of calling it unchanged; its outcome clears the mark."""
    drift_at: datetime | None = None
    account: str = DEFAULT_ACCOUNT
    """The Stripe account the object lives in (a customer billed by two companies has one per account)."""


@dataclass(frozen=True)
class AuditEntry:
    """One row of the append-only audit log: one record outcome (or one attempt of it)."""

    id: int
    at: datetime
    """UTC, timezone-aware."""
    run_id: str
    partition_key: str | None
    object_type: ObjectType
    record_key: str
    jde_version: datetime | None
    payload_hash: str | None
    action: Action
    idempotency_key: str | None
    stripe_request_id: str | None
    stripe_id: str | None
    outcome: Outcome
    reason: str | None
    attempt: int
    account: str = DEFAULT_ACCOUNT
    """The Stripe account the record was synced to (`-`: none took it, its company is not routed)."""


@dataclass(frozen=True)
class QuarantineEntry:
    """A record that failed validation; open until the record later syncs fine."""

    id: int
    object_type: ObjectType
    record_key: str
    field: str
    """The latest failing field, e.g. `F4311.AEXP`."""
    reason: str
    raw: dict[str, object]
    run_id: str
    """The run that saw it last."""
    partition_key: str | None
    """The partition it was seen in last."""
    first_seen: datetime
    last_seen: datetime
    count: int
    """How many times it was quarantined while open."""
    resolved_at: datetime | None
    resolved_by_run_id: str | None
    account: str = DEFAULT_ACCOUNT


@dataclass(frozen=True)
class Intent:
    """A record's intent row, as a run that claims it sees it (see `ledger/intents.py`)."""

    object_type: ObjectType
    record_key: str
    attempt: int
    """The attempt number the record's idempotency keys carry: raised after Stripe saved a failure
    under a key, and kept across runs, so no run re-sends a key Stripe will only answer with that failure."""
    idempotency_key: str | None = None
    """The key of a create sent (or about to be) whose outcome no ledger row has settled yet."""
    intent_at: datetime | None = None
    """When that create was first intended (UTC): the object, if it exists, was created after it."""
    replayable: bool = False
    """Stripe still honours `idempotency_key` (it is younger than Stripe's 24 h key memory)."""
    stripe_id: str | None = None
    """A Stripe object known to carry this record's JDE key (mapped once, or found by a relink)."""
    held_by: str | None = None
    """The run holding the record's claim now (a live lease), if any."""


@dataclass(frozen=True)
class Busy:
    """The answer to a claim another live run holds."""

    object_type: ObjectType
    record_key: str
    holder_run_id: str
    expires_at: datetime

    @property
    def reason(self) -> str:
        return (
            f"{self.object_type} {self.record_key}: run {self.holder_run_id} is syncing it (claim held "
            f"until {self.expires_at:%Y-%m-%d %H:%M:%S} UTC); left to that run"
        )


@dataclass(frozen=True)
class RelinkEntry:
    """One whole-account relink: when, by which run, what it listed and how many records it linked."""

    id: int
    at: datetime
    run_id: str
    customers_listed: int
    invoices_listed: int
    linked: int
    account: str = DEFAULT_ACCOUNT


@dataclass(frozen=True)
class QuarantineFinding:
    """Why a record is quarantined: the field, the reason and the raw input, kept verbatim."""

    field: str
    reason: str
    raw: AbcMapping[str, object] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class RecordOutcome:
    """Everything `Ledger.record_outcome` writes in one transaction.

    Outcomes `created`/`updated`/`unchanged`/`repaired` need `stripe_id` and `payload_hash` (they set the
    mapping); `quarantined` needs `quarantine`; `deleted` drops the mapping; `deferred` writes the audit
    row only (`drifted` is written by `ledger.drift.mark`, with its mark on the mapping).
    `replaces_stripe_id` allows a mapping to move to a new Stripe object only if it still points at that
    old one (compare-and-swap).
    """

    run_id: str
    partition_key: str | None
    object_type: ObjectType
    record_key: str
    action: Action
    outcome: Outcome
    jde_version: datetime | None = None
    payload_hash: str | None = None
    idempotency_key: str | None = None
    stripe_request_id: str | None = None
    stripe_id: str | None = None
    reason: str | None = None
    attempt: int = 1
    quarantine: QuarantineFinding | None = None
    replaces_stripe_id: str | None = None
    release_claim: str | None = None
    """The claim token of the run that recorded this: its claim on the record ends in the same
    transaction (see `ledger/intents.py`)."""

    @classmethod
    def quarantined(
        cls, record: QuarantinedRecord, *, run_id: str, partition_key: str | None, attempt: int = 1
    ) -> RecordOutcome:
        """The outcome for a record the extract or the mapping refused."""
        return cls(
            run_id=run_id,
            partition_key=partition_key,
            object_type=record.kind,
            record_key=record.record_key,
            action="quarantine",
            outcome="quarantined",
            reason=f"{record.field}: {record.reason}",
            attempt=attempt,
            quarantine=QuarantineFinding(field=record.field, reason=record.reason, raw=record.raw),
        )

    def problems(self) -> list[str]:
        """What makes this outcome unrecordable (empty when it is fine)."""
        found: list[str] = []
        if self.object_type not in OBJECT_TYPES:
            found.append(f"object_type {self.object_type!r} is not one of {sorted(OBJECT_TYPES)}")
        if self.action not in ACTIONS:
            found.append(f"action {self.action!r} is not one of {sorted(ACTIONS)}")
        if self.outcome not in OUTCOMES:
            found.append(f"outcome {self.outcome!r} is not one of {sorted(OUTCOMES)}")
        if not self.run_id:
            found.append("run_id is empty")
        if not self.record_key:
            found.append("record_key is empty")
        if self.jde_version is not None and self.jde_version.tzinfo is not None:
            found.append("jde_version must be naive (the JDE server's local time), not timezone-aware")
        if self.attempt < 1:
            found.append(f"attempt must be >= 1, got {self.attempt}")
        if self.outcome in MAPPED_OUTCOMES and not (self.stripe_id and self.payload_hash):
            found.append(f"outcome {self.outcome!r} needs stripe_id and payload_hash to set the mapping")
        if (self.outcome == "quarantined") != (self.quarantine is not None):
            found.append("a quarantine finding goes with outcome 'quarantined' and only with it")
        if self.replaces_stripe_id is not None and self.outcome not in MAPPED_OUTCOMES:
            found.append("replaces_stripe_id only applies to outcomes that set the mapping")
        return found


class LedgerError(Exception):
    """Base of every error the ledger raises."""


class LedgerUnavailableError(LedgerError):
    """The ledger database cannot be reached or opened (the URL in the message is masked)."""


class UnsupportedDatabaseError(LedgerError):
    """The URL names a database other than SQLite or PostgreSQL."""


class SchemaVersionError(LedgerError):
    """The database holds a ledger schema newer than this program knows: upgrade the program."""


class InvalidOutcomeError(LedgerError, ValueError):
    """A `RecordOutcome` that contradicts itself; nothing was written."""


class MappingConflictError(LedgerError):
    """The mapping change would give a JDE key a second Stripe object or a Stripe object a second key.

    Nothing was written. `existing` is the mapping that stands in the way.
    """

    def __init__(self, message: str, *, existing: ObjectMapping | None) -> None:
        super().__init__(message)
        self.existing = existing
