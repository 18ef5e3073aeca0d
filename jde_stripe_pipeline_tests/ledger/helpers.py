"""Small builders shared by the ledger tests."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import URL, Engine, create_engine, text

from jde_stripe_pipeline.ledger import RecordOutcome


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
