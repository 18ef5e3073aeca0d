"""State and audit: the mapping JDE key → Stripe id, the append-only audit log, the quarantine.

with Ledger.open() as ledger:          # JDE_STRIPE_STATE_URL, else $DAGSTER_HOME/jde_stripe_state.sqlite
    ledger.get_mappings("customer", ["4242"])
    ledger.record_outcome(RecordOutcome(...))
"""

from jde_stripe_pipeline.ledger.database import resolve_state_url
from jde_stripe_pipeline.ledger.model import (
    Action,
    AuditEntry,
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
    SchemaVersionError,
    UnsupportedDatabaseError,
)
from jde_stripe_pipeline.ledger.schema import SCHEMA_VERSION
from jde_stripe_pipeline.ledger.store import Ledger

__all__ = [
    "SCHEMA_VERSION",
    "Action",
    "AuditEntry",
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
    "SchemaVersionError",
    "UnsupportedDatabaseError",
    "resolve_state_url",
]
