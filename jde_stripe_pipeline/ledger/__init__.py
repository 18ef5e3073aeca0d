"""State and audit: the mapping JDE key → Stripe id, the append-only audit log, the quarantine, and
one intent row per record (a run's claim, the create in flight, the key attempt, relinks).

with Ledger.open() as ledger:          # JDE_STRIPE_STATE_URL, else $DAGSTER_HOME/jde_stripe_state.sqlite
    ledger.get_mappings("customer", ["4242"])
    ledger.intents.claim("customer", "4242", ClaimToken.new(run_id))   # Intent, or Busy
    ledger.record_outcome(RecordOutcome(..., release_claim=token.holder))
"""

from jde_stripe_pipeline.ledger.database import resolve_state_url
from jde_stripe_pipeline.ledger.intents import REPLAY_WINDOW, ClaimToken
from jde_stripe_pipeline.ledger.model import (
    Action,
    AuditEntry,
    Busy,
    Intent,
    InvalidOutcomeError,
    LedgerError,
    LedgerUnavailableError,
    MappingConflictError,
    ObjectMapping,
    ObjectType,
    Outcome,
    QuarantineEntry,
    QuarantineFinding,
    RecordOutcome,
    RelinkEntry,
    SchemaVersionError,
    UnsupportedDatabaseError,
)
from jde_stripe_pipeline.ledger.schema import SCHEMA_VERSION
from jde_stripe_pipeline.ledger.store import Ledger

__all__ = [
    "REPLAY_WINDOW",
    "SCHEMA_VERSION",
    "Action",
    "AuditEntry",
    "Busy",
    "ClaimToken",
    "Intent",
    "InvalidOutcomeError",
    "Ledger",
    "LedgerError",
    "LedgerUnavailableError",
    "MappingConflictError",
    "ObjectMapping",
    "ObjectType",
    "Outcome",
    "QuarantineEntry",
    "QuarantineFinding",
    "RecordOutcome",
    "RelinkEntry",
    "SchemaVersionError",
    "UnsupportedDatabaseError",
    "resolve_state_url",
]
