"""Small builders shared by the ledger tests."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import URL, Connection, Engine, MetaData, create_engine, text

from jde_stripe_pipeline.ledger import RecordOutcome
from jde_stripe_pipeline.ledger.migrations import version_2_tables
from jde_stripe_pipeline.ledger.schema import _APPEND_ONLY_DDL


def outcome(key: str, result: str = "created", **overrides: Any) -> RecordOutcome:
    """A plausible RecordOutcome for customer `key`; mapped outcomes get a Stripe id and a hash."""
    values: dict[str, Any] = {
        "run_id": "run-1",
        "partition_key": "2025-03-01",
        "object_type": "customer",
        "record_key": key,
        "action": {"created": "create", "updated": "update", "deleted": "delete"}.get(result, "nothing"),
        "outcome": result,
    }
    if result in ("created", "updated", "unchanged"):
        values |= {"stripe_id": f"cus_{key}", "payload_hash": f"hash-{key}"}
    if result == "failed":
        values |= {"action": "create", "reason": "Stripe answered 500"}
    values |= overrides
    return RecordOutcome(**values)


def raw_engine(url: URL) -> Engine:
    """A plain engine on the ledger's database, for poking at it the way a careless admin would."""
    return create_engine(url)


def pg_schema_url(database: URL) -> URL:
    """A new empty schema in the session database, and a URL whose connections use it."""
    schema = f"t_{secrets.token_hex(6)}"
    engine = create_engine(database, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    return database.update_query_dict({"options": f"-csearch_path={schema}"})


def create_deployed(conn: Connection, version: int) -> MetaData:
    """The tables of a deployed version 1 or 2 ledger (as those versions made them), stamped with its
    version; their definitions, to write rows through."""
    old = version_2_tables()
    names = ["jde_stripe_schema_version", "jde_stripe_mapping", "jde_stripe_audit", "jde_stripe_quarantine"]
    names += ["jde_stripe_intent", "jde_stripe_relink"] if version >= 2 else []
    old.create_all(conn, tables=[old.tables[name] for name in names])
    for statement in _APPEND_ONLY_DDL[conn.dialect.name]:
        conn.execute(text(statement))
    conn.execute(
        old.tables["jde_stripe_schema_version"].insert().values(version=version, applied_at=datetime.now(UTC))
    )
    return old
