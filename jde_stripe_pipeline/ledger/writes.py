"""What `Ledger.record_outcome` writes, inside its one transaction: the audit row, the mapping change
(compare-and-swap on the Stripe id, one mapping per JDE key and per Stripe object in an account) and the
quarantine change. One account's rows each (the recording ledger's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, case, delete, update

from jde_stripe_pipeline.accounts import UNROUTED
from jde_stripe_pipeline.ledger.model import MAPPED_OUTCOMES, RESOLVING_OUTCOMES, RecordOutcome
from jde_stripe_pipeline.ledger.rows import (
    audit_values,
    conflict,
    dialect_insert,
    encode_raw,
    insert_if_absent,
    mapping_of_key,
    mapping_of_stripe_id,
    mapping_values,
)
from jde_stripe_pipeline.ledger.schema import audit, mapping, quarantine

_AUDIT_INSERT = audit.insert()
"""Built once: the values go as parameters, so each row costs no statement building."""


def append_audit(conn: Connection, account: str, outcome: RecordOutcome, now: datetime) -> int:
    result = conn.execute(_AUDIT_INSERT, audit_values(outcome, now, account))
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    return int(primary_key[0])


def apply_mapping(conn: Connection, account: str, outcome: RecordOutcome, now: datetime) -> None:
    kind, key, stripe_id = outcome.object_type, outcome.record_key, outcome.stripe_id
    if outcome.outcome == "deleted":
        condition = [mapping.c.account == account, mapping.c.object_type == kind, mapping.c.jde_key == key]
        if stripe_id is not None:
            condition.append(mapping.c.stripe_id == stripe_id)
        conn.execute(delete(mapping).where(*condition))
        return
    if outcome.outcome not in MAPPED_OUTCOMES:
        return
    assert stripe_id is not None and outcome.payload_hash is not None
    values = mapping_values(
        account, kind, key, stripe_id, outcome.payload_hash, outcome.jde_version, outcome.run_id, now
    )
    if outcome.outcome == "created" and outcome.replaces_stripe_id is None and insert_if_absent(conn, values):
        return  # a new record, the common case: neither its key nor its Stripe id was mapped (both unique)
    owner = mapping_of_stripe_id(conn, account, kind, stripe_id, lock=True)
    if owner is not None and owner.jde_key != key:
        raise conflict(kind, key, stripe_id, owner)
    current = mapping_of_key(conn, account, kind, key, lock=True)
    if current is None:
        if insert_if_absent(conn, values):
            return
        current = mapping_of_key(conn, account, kind, key, lock=True)
        if current is None:  # the Stripe id was taken by another key in the meantime
            raise conflict(kind, key, stripe_id, mapping_of_stripe_id(conn, account, kind, stripe_id))
    if current.stripe_id not in (stripe_id, outcome.replaces_stripe_id):
        raise conflict(kind, key, stripe_id, current)
    conn.execute(
        update(mapping)
        .where(*mapping_row(account, kind, key, current.stripe_id))
        .values(**mapping_changes(outcome, now))
    )


def mapping_changes(outcome: RecordOutcome, now: datetime, *, bound: bool = False) -> dict[str, Any]:
    """The mapping's new values for a mapped outcome; one rule for `apply_mapping` and the unchanged
    batch (`bound`: bind parameters named `b_<column>` instead of the values, for an executemany)."""
    values: dict[str, Any] = {
        "stripe_id": outcome.stripe_id,
        "content_hash": outcome.payload_hash,
        "last_run_id": outcome.run_id,
    }
    if outcome.jde_version is not None:
        values["jde_version"] = outcome.jde_version
    changes: dict[str, Any] = {
        name: bindparam(f"b_{name}") if bound else value for name, value in values.items()
    }
    changes["updated_at"] = now
    if outcome.action != "nothing":  # Stripe was read and made equal: a drift mark is settled
        changes |= {"drift": None, "drift_at": None}
    return changes


def mapping_row(account: str, kind: str, key: Any, stripe_id: Any) -> tuple[ColumnElement[bool], ...]:
    """The condition naming one mapping row: the record's key and the Stripe id it holds now."""
    return (
        mapping.c.account == account,
        mapping.c.object_type == kind,
        mapping.c.jde_key == key,
        mapping.c.stripe_id == stripe_id,
    )


def apply_quarantine(conn: Connection, account: str, outcome: RecordOutcome, now: datetime) -> None:
    kind, key = outcome.object_type, outcome.record_key
    finding = outcome.quarantine
    if finding is not None:
        insert = dialect_insert(conn)(quarantine).values(
            account=account,
            object_type=kind,
            record_key=key,
            field=finding.field,
            reason=finding.reason,
            raw_json=encode_raw(finding.raw),
            run_id=outcome.run_id,
            partition_key=outcome.partition_key,
            first_seen=now,
            last_seen=now,
            count=1,
        )
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=[quarantine.c.account, quarantine.c.object_type, quarantine.c.record_key],
                index_where=quarantine.c.resolved_at.is_(None),
                set_={
                    "field": insert.excluded.field,
                    "reason": insert.excluded.reason,
                    "raw_json": insert.excluded.raw_json,
                    "run_id": insert.excluded.run_id,
                    "partition_key": insert.excluded.partition_key,
                    "last_seen": insert.excluded.last_seen,
                    # a re-run of the same run id (a Dagster step retry) is no new sighting
                    "count": case(
                        (quarantine.c.run_id == insert.excluded.run_id, quarantine.c.count),
                        else_=quarantine.c.count + 1,
                    ),
                },
            )
        )
    elif outcome.outcome in RESOLVING_OUTCOMES:
        # A record that syncs fine in its account also closes a quarantine of its company having
        # been routed nowhere (`UNROUTED`): the routing has been fixed since.
        conn.execute(
            update(quarantine)
            .where(
                quarantine.c.account.in_((account, UNROUTED)),
                quarantine.c.object_type == kind,
                quarantine.c.record_key == key,
                quarantine.c.resolved_at.is_(None),
            )
            .values(resolved_at=now, resolved_by_run_id=outcome.run_id)
        )
