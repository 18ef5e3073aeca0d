"""The ledger's row helpers: typed rows from SQLAlchemy rows, column values, single statements.

Pure or one statement each, shared by `store` (mapping, audit, quarantine) and `intents`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from jde_stripe_pipeline.ledger.model import (
    AuditEntry,
    MappingConflictError,
    ObjectMapping,
    QuarantineEntry,
    RecordOutcome,
)
from jde_stripe_pipeline.ledger.schema import mapping, row_values

IN_CHUNK = 500
"""Keys per IN (...) list: well under SQLite's bound-parameter limit on any build."""


def encode_raw(raw: object) -> str:
    """The raw input as JSON text; Decimals as strings (exact), dates as ISO 8601."""

    def fallback(value: object) -> object:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, date | datetime):
            return value.isoformat()
        return repr(value)

    return json.dumps(raw, default=fallback, sort_keys=True, ensure_ascii=False)


def chunks(keys: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(keys), IN_CHUNK):
        yield keys[start : start + IN_CHUNK]


def conflict(
    object_type: str, jde_key: str, stripe_id: str | None, existing: ObjectMapping | None
) -> MappingConflictError:
    if existing is None:
        message = f"{object_type} {jde_key} → {stripe_id}: refused by a concurrent mapping change"
    elif existing.jde_key != jde_key:
        message = f"Stripe object {stripe_id} is already mapped to {object_type} {existing.jde_key}"
    else:
        message = f"{object_type} {jde_key} is already mapped to {existing.stripe_id}, not {stripe_id}"
    return MappingConflictError(message, existing=existing)


def dialect_insert(conn: Connection) -> Callable[..., Any]:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def audit_values(outcome: RecordOutcome, now: datetime, account: str) -> dict[str, Any]:
    """One audit row's columns: what is inserted is exactly what `record_outcome` answers."""
    return {
        "account": account,
        "at": now,
        "run_id": outcome.run_id,
        "partition_key": outcome.partition_key,
        "object_type": outcome.object_type,
        "record_key": outcome.record_key,
        "jde_version": outcome.jde_version,
        "payload_hash": outcome.payload_hash,
        "action": outcome.action,
        "idempotency_key": outcome.idempotency_key,
        "stripe_request_id": outcome.stripe_request_id,
        "stripe_id": outcome.stripe_id,
        "outcome": outcome.outcome,
        "reason": outcome.reason,
        "attempt": outcome.attempt,
    }


def insert_if_absent(conn: Connection, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: True if this statement created the row."""
    statement = dialect_insert(conn)(mapping).values(**values).on_conflict_do_nothing()
    return conn.execute(statement.returning(mapping.c.id)).first() is not None


def mapping_values(
    account: str,
    object_type: str,
    jde_key: str,
    stripe_id: str,
    content_hash: str,
    jde_version: datetime | None,
    run_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "account": account,
        "object_type": object_type,
        "jde_key": jde_key,
        "stripe_id": stripe_id,
        "content_hash": content_hash,
        "jde_version": jde_version,
        "last_run_id": run_id,
        "created_at": now,
        "updated_at": now,
    }


def mapping_of_key(
    conn: Connection, account: str, object_type: str, jde_key: str, *, lock: bool = False
) -> ObjectMapping | None:
    return _one_mapping(conn, account, object_type, mapping.c.jde_key == jde_key, lock=lock)


def mapping_of_stripe_id(
    conn: Connection, account: str, object_type: str, stripe_id: str, *, lock: bool = False
) -> ObjectMapping | None:
    return _one_mapping(conn, account, object_type, mapping.c.stripe_id == stripe_id, lock=lock)


def _one_mapping(
    conn: Connection, account: str, object_type: str, unique: ColumnElement[bool], *, lock: bool
) -> ObjectMapping | None:
    """The mapping row `unique` picks among the account's objects of this type (both keys are unique)."""
    query = select(mapping).where(mapping.c.account == account, mapping.c.object_type == object_type, unique)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else mapping_from_row(row)


def mapping_from_row(row: Any) -> ObjectMapping:
    values = row_values(row)
    values.pop("id")
    return ObjectMapping(**values)  # the account too: a row names its own


def audit_from_row(row: Any) -> AuditEntry:
    return AuditEntry(**row_values(row))


def quarantine_from_row(row: Any) -> QuarantineEntry:
    values = row_values(row)
    values["raw"] = json.loads(values.pop("raw_json"), parse_float=Decimal)
    return QuarantineEntry(**values)
