"""Creating or upgrading the ledger schema: each older version's tables as that version made them, the
steps between versions, and `ensure_schema`, which a ledger runs when it opens.

A fresh database gets the current tables (`schema.py`) in one go and is stamped with `SCHEMA_VERSION`;
an older one is brought up by the ordered `MIGRATIONS` (step N turns version N-1 into N), inside the
opening transaction; a newer one is refused. A step works from the tables as the version before it left
them (`version_2_tables`), never from the current ones, so it stays right as the schema moves on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.schema import CreateColumn

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT
from jde_stripe_pipeline.ledger.model import SchemaVersionError
from jde_stripe_pipeline.ledger.schema import (
    _APPEND_ONLY_DDL,
    ACCOUNT_LENGTH,
    SCHEMA_VERSION,
    UtcDateTime,
    audit_v2,
    intent,
    intent_v2,
    mapping,
    mapping_v2,
    metadata,
    open_quarantine_index,
    quarantine_v2,
    relink_v2,
    schema_version,
)

Migration = Callable[[Connection], None]

# Serialises concurrent first opens of one PostgreSQL database (any constant; "JDES" in ASCII).
_PG_SCHEMA_LOCK = 0x4A444553


def version_2_tables() -> MetaData:
    """The ledger as versions 1 and 2 made it (version 1: without intent and relink): no drift marks
    (version 3), no account (version 4)."""
    old = MetaData()
    Table(
        "jde_stripe_schema_version",
        old,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("applied_at", UtcDateTime, nullable=False),
    )
    Table(
        "jde_stripe_mapping",
        old,
        *mapping_v2(),
        UniqueConstraint("object_type", "jde_key", name="uq_jde_stripe_mapping_jde_key"),
        UniqueConstraint("object_type", "stripe_id", name="uq_jde_stripe_mapping_stripe_id"),
    )
    Table(
        "jde_stripe_audit",
        old,
        *audit_v2(),
        Index("ix_jde_stripe_audit_record", "object_type", "record_key", "id"),
    )
    Table("jde_stripe_quarantine", old, *quarantine_v2(), open_quarantine_index("object_type", "record_key"))
    Table(
        "jde_stripe_intent",
        old,
        *intent_v2(),
        UniqueConstraint("object_type", "record_key", name="uq_jde_stripe_intent_record"),
    )
    Table("jde_stripe_relink", old, *relink_v2())
    return old


def _add_intents_and_relinks(conn: Connection) -> None:
    """Version 2: the intent and relink tables; every mapped record's Stripe id copied into its intent
    row, so a mapping lost later is still found without listing the account."""
    old = version_2_tables()
    old_intent, old_mapping = old.tables["jde_stripe_intent"], old.tables["jde_stripe_mapping"]
    old.create_all(conn, tables=[old_intent, old.tables["jde_stripe_relink"]])
    now = datetime.now(UTC)
    rows = conn.execute(
        select(old_mapping.c.object_type, old_mapping.c.jde_key, old_mapping.c.stripe_id)
    ).all()
    if rows:
        conn.execute(
            old_intent.insert(),
            [
                {
                    "object_type": kind,
                    "record_key": key,
                    "stripe_id": stripe_id,
                    "attempt": 1,
                    "updated_at": now,
                }
                for kind, key, stripe_id in rows
            ],
        )


def _add_drift_marks(conn: Connection) -> None:
    """Version 3: the mapping's drift mark (NULL everywhere: nothing has drifted yet). A column already
    there (a table rebuilt by a later definition) is left as it is."""
    _add_columns(conn, mapping, ("drift", "drift_at"))


def _add_columns(conn: Connection, table: Table, names: tuple[str, ...]) -> None:
    """`ALTER TABLE … ADD COLUMN` for each named (nullable) column of the current definition that the
    database's table lacks, with the dialect's own type (SQLite and PostgreSQL both take it)."""
    present = {column["name"] for column in inspect(conn).get_columns(table.name)}
    for name in names:
        if name not in present:
            column = CreateColumn(table.c[name]).compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column}"))


_V4_INDEXES = (
    (
        "ix_jde_stripe_audit_record",
        "CREATE INDEX {name} ON jde_stripe_audit (account, object_type, record_key, id)",
    ),
    (
        "uq_jde_stripe_quarantine_open",
        "CREATE UNIQUE INDEX {name} ON jde_stripe_quarantine (account, object_type, record_key) "
        "WHERE resolved_at IS NULL",
    ),
)
_V4_CONSTRAINTS = (
    ("jde_stripe_mapping", "uq_jde_stripe_mapping_jde_key", "account, object_type, jde_key"),
    ("jde_stripe_mapping", "uq_jde_stripe_mapping_stripe_id", "account, object_type, stripe_id"),
    ("jde_stripe_intent", "uq_jde_stripe_intent_record", "account, object_type, record_key"),
)


def _key_by_account(conn: Connection) -> None:
    """Version 4: every row carries its Stripe account, and the unique keys are per account; the rows
    already there belong to the `default` account. PostgreSQL alters the tables in place (the new
    column's default is metadata only, so the audit log's UPDATE guard never fires); SQLite cannot drop
    a table's constraints, so mapping and intent are rebuilt with their ids."""
    column = f"account VARCHAR({ACCOUNT_LENGTH}) NOT NULL DEFAULT '{DEFAULT_ACCOUNT}'"
    postgres = conn.dialect.name == "postgresql"
    in_place = ("jde_stripe_audit", "jde_stripe_quarantine", "jde_stripe_relink")
    for table in (*in_place, "jde_stripe_mapping", "jde_stripe_intent") if postgres else in_place:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column}"))
        if postgres:
            conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN account DROP DEFAULT"))
    for name, create in _V4_INDEXES:
        conn.execute(text(f"DROP INDEX {name}"))
        conn.execute(text(create.format(name=name)))
    if postgres:
        for table, name, columns in _V4_CONSTRAINTS:
            conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
            conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({columns})"))
        return
    conn.execute(text("DROP INDEX ix_jde_stripe_intent_holder"))  # its name is global in SQLite
    for current in (mapping, intent):
        old_name = f"{current.name}_v2"
        conn.execute(text(f"ALTER TABLE {current.name} RENAME TO {old_name}"))
        current.create(conn)
        names = [c.name for c in current.columns if c.name != "account"]
        old_table = Table(old_name, MetaData(), *(Column(name) for name in names))
        copied = select(*(old_table.c[name] for name in names), literal(DEFAULT_ACCOUNT))
        conn.execute(insert(current).from_select([*names, "account"], copied))
        conn.execute(text(f"DROP TABLE {old_name}"))


MIGRATIONS: dict[int, Migration] = {2: _add_intents_and_relinks, 3: _add_drift_marks, 4: _key_by_account}
"""Step N upgrades a version N-1 database to version N. Version 1 is the baseline (no step)."""


def _create_current(conn: Connection) -> None:
    metadata.create_all(conn)
    for statement in _APPEND_ONLY_DDL[conn.dialect.name]:
        conn.execute(text(statement))


def _installed_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table(schema_version.name):
        return None
    return conn.execute(select(func.max(schema_version.c.version))).scalar_one_or_none()


def _stamp(conn: Connection, version: int, now: datetime) -> None:
    conn.execute(schema_version.insert().values(version=version, applied_at=now))


def ensure_schema(
    conn: Connection,
    now: datetime,
    *,
    target: int = SCHEMA_VERSION,
    migrations: dict[int, Migration] = MIGRATIONS,
) -> int:
    """Create or upgrade the ledger tables inside the caller's write transaction; return the version.

    Runs under a lock (PostgreSQL advisory lock, SQLite's write lock) so two processes opening a fresh
    database at once cannot both create it.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SCHEMA_LOCK})
    installed = _installed_version(conn)
    if installed is None:
        _create_current(conn)
        _stamp(conn, target, now)
        return target
    if installed > target:
        raise SchemaVersionError(
            f"the ledger database has schema version {installed}, newer than the {target} this "
            "jde-stripe-pipeline knows; upgrade jde-stripe-pipeline (or point JDE_STRIPE_STATE_URL "
            "at another database)"
        )
    for version in range(installed + 1, target + 1):
        if version not in migrations:
            raise SchemaVersionError(f"no migration step to ledger schema version {version}")
        migrations[version](conn)
        _stamp(conn, version, now)
    return target
