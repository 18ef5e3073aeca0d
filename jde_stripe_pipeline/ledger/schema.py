"""The ledger's tables (version `SCHEMA_VERSION`) and its append-only guard.

A fresh database gets these tables in one go; an older one is brought up by the ordered steps of
`migrations.py` (which also keeps each older version's tables as that version made them). Table
names carry the `jde_stripe_` prefix because in production they share a PostgreSQL server with Dagster.

Versions: 1 mapping, audit, quarantine; 2 adds `jde_stripe_intent` (one row per record: the claim a run
holds while it writes, the create key in flight, the key attempt, the Stripe id known for the record) and
`jde_stripe_relink` (each whole-account relink, so an empty ledger is relinked once, not every run); 3
adds the mapping's drift mark (`drift`, `drift_at`: the reconciliation found the Stripe object deleted or
edited while JDE did not change, see `ledger/drift.py`); 4 keys every row by its Stripe account
(`account`, issue 13: a customer billed by two companies exists once per account it is billed in, so the
unique keys are per account); the rows of an older database belong to the `default` account
(`accounts.DEFAULT_ACCOUNT`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.schema import SchemaItem
from sqlalchemy.types import TypeDecorator

SCHEMA_VERSION = 4

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both backends (SQLite has no time zones: it stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored as UTC: {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()
ACCOUNT_LENGTH = 64


def _account() -> Column[str]:
    """The Stripe account a row belongs to (no server default: every write names it)."""
    return Column("account", String(ACCOUNT_LENGTH), nullable=False)


schema_version = Table(
    "jde_stripe_schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UtcDateTime, nullable=False),
)


# Each table's columns, keys and indexes as version 2 made them (version 1 had mapping, audit and
# quarantine). Frozen history: `migrations.version_2_tables` builds the version 2 ledger from them, so a
# later version adds its columns and account-wide keys next to them (as below), never edits them; a
# version that must change one of them first copies the old list into `migrations.py`.


def mapping_v2() -> tuple[SchemaItem, ...]:
    return (
        Column("id", _Id, primary_key=True, autoincrement=True),
        Column("object_type", String(16), nullable=False),
        Column("jde_key", String(128), nullable=False),
        Column("stripe_id", String(255), nullable=False),
        Column("content_hash", String(128), nullable=False),
        Column("jde_version", DateTime(timezone=False), nullable=True),
        Column("last_run_id", String(255), nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )


def audit_v2() -> tuple[SchemaItem, ...]:
    return (
        Column("id", _Id, primary_key=True, autoincrement=True),
        Column("at", UtcDateTime, nullable=False),
        Column("run_id", String(255), nullable=False),
        Column("partition_key", String(255), nullable=True),
        Column("object_type", String(16), nullable=False),
        Column("record_key", String(128), nullable=False),
        Column("jde_version", DateTime(timezone=False), nullable=True),
        Column("payload_hash", String(128), nullable=True),
        Column("action", String(16), nullable=False),
        Column("idempotency_key", String(255), nullable=True),
        Column("stripe_request_id", String(255), nullable=True),
        Column("stripe_id", String(255), nullable=True),
        Column("outcome", String(16), nullable=False),
        Column("reason", Text, nullable=True),
        Column("attempt", Integer, nullable=False),
        Index("ix_jde_stripe_audit_stripe_id", "stripe_id"),
        Index("ix_jde_stripe_audit_run", "run_id"),
        Index("ix_jde_stripe_audit_partition", "partition_key", "outcome"),
    )


def quarantine_v2() -> tuple[SchemaItem, ...]:
    return (
        Column("id", _Id, primary_key=True, autoincrement=True),
        Column("object_type", String(16), nullable=False),
        Column("record_key", String(128), nullable=False),
        Column("field", String(255), nullable=False),
        Column("reason", Text, nullable=False),
        Column("raw_json", Text, nullable=False),
        Column("run_id", String(255), nullable=False),
        Column("partition_key", String(255), nullable=True),
        Column("first_seen", UtcDateTime, nullable=False),
        Column("last_seen", UtcDateTime, nullable=False),
        Column("count", Integer, nullable=False),
        Column("resolved_at", UtcDateTime, nullable=True),
        Column("resolved_by_run_id", String(255), nullable=True),
        Index("ix_jde_stripe_quarantine_partition", "partition_key"),
    )


def intent_v2() -> tuple[SchemaItem, ...]:
    return (
        Column("id", _Id, primary_key=True, autoincrement=True),
        Column("object_type", String(16), nullable=False),
        Column("record_key", String(128), nullable=False),
        # the claim: who writes this record now, until when (NULL: nobody)
        Column("holder_run_id", String(255), nullable=True),
        Column("holder_token", String(255), nullable=True),
        Column("claimed_at", UtcDateTime, nullable=True),
        Column("expires_at", UtcDateTime, nullable=True),
        # the create in flight: its key and since when (NULL once an outcome settled it)
        Column("idempotency_key", String(255), nullable=True),
        Column("intent_at", UtcDateTime, nullable=True),
        Column("stripe_id", String(255), nullable=True),
        Column("attempt", Integer, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        Index("ix_jde_stripe_intent_holder", "holder_token"),
    )


def relink_v2() -> tuple[SchemaItem, ...]:
    return (
        Column("id", _Id, primary_key=True, autoincrement=True),
        Column("at", UtcDateTime, nullable=False),
        Column("run_id", String(255), nullable=False),
        Column("customers_listed", Integer, nullable=False),
        Column("invoices_listed", Integer, nullable=False),
        Column("linked", Integer, nullable=False),
    )


def open_quarantine_index(*key: str) -> Index:
    """At most one open entry per record; resolved ones stay as history."""
    return Index(
        "uq_jde_stripe_quarantine_open",
        *key,
        unique=True,
        sqlite_where=text("resolved_at IS NULL"),
        postgresql_where=text("resolved_at IS NULL"),
    )


# The current tables: version 2's, with the drift mark (version 3) and the account in every row and
# every unique key (version 4).
mapping = Table(
    "jde_stripe_mapping",
    metadata,
    *mapping_v2(),
    _account(),
    Column("drift", Text, nullable=True),
    Column("drift_at", UtcDateTime, nullable=True),
    UniqueConstraint("account", "object_type", "jde_key", name="uq_jde_stripe_mapping_jde_key"),
    UniqueConstraint("account", "object_type", "stripe_id", name="uq_jde_stripe_mapping_stripe_id"),
)

audit = Table(
    "jde_stripe_audit",
    metadata,
    *audit_v2(),
    _account(),
    Index("ix_jde_stripe_audit_record", "account", "object_type", "record_key", "id"),
)

quarantine = Table(
    "jde_stripe_quarantine",
    metadata,
    *quarantine_v2(),
    _account(),
    open_quarantine_index("account", "object_type", "record_key"),
)

intent = Table(
    "jde_stripe_intent",
    metadata,
    *intent_v2(),
    _account(),
    UniqueConstraint("account", "object_type", "record_key", name="uq_jde_stripe_intent_record"),
)

relink = Table("jde_stripe_relink", metadata, *relink_v2(), _account())

APPEND_ONLY_MESSAGE = "jde_stripe_audit is append-only"

_APPEND_ONLY_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": tuple(
        f"CREATE TRIGGER jde_stripe_audit_no_{op.lower()} BEFORE {op} ON jde_stripe_audit "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: {op} refused'); END"
        for op in ("UPDATE", "DELETE")
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION jde_stripe_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}: % refused', TG_OP; END $$",
        "CREATE TRIGGER jde_stripe_audit_no_change BEFORE UPDATE OR DELETE ON jde_stripe_audit "
        "FOR EACH ROW EXECUTE FUNCTION jde_stripe_audit_refuse()",
        "CREATE TRIGGER jde_stripe_audit_no_truncate BEFORE TRUNCATE ON jde_stripe_audit "
        "FOR EACH STATEMENT EXECUTE FUNCTION jde_stripe_audit_refuse()",
    ),
}


def row_values(row: Any) -> dict[str, Any]:
    """A SQLAlchemy Row as a plain dict (one place for the `_mapping` idiom)."""
    return dict(row._mapping)
