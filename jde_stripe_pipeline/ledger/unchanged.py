"""`record_outcomes` for a batch of `unchanged` outcomes: the rows `writes.py` writes one record at a
time, written with a few statements per batch.

Why: a re-sync or the customer step after a first load records thousands of `unchanged` records, and
one record's audit insert, two mapping reads, mapping update and quarantine update cost ~3 ms on
SQLite: ~3 s per 1,000 records, after the last Stripe answer. Same checks, same rows: the mapping reads
(locked) find a conflict as `apply_mapping` does; a record whose mapping is gone goes through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, update

from jde_stripe_pipeline.accounts import UNROUTED
from jde_stripe_pipeline.ledger.model import ObjectMapping, RecordOutcome
from jde_stripe_pipeline.ledger.rows import audit_values, chunks, conflict, mapping_from_row
from jde_stripe_pipeline.ledger.schema import audit, mapping, quarantine
from jde_stripe_pipeline.ledger.writes import apply_mapping, mapping_changes, mapping_row


def in_bulk(outcomes: Sequence[RecordOutcome]) -> bool:
    """Outcomes this module writes: several `unchanged` records, none quarantined or holding a claim."""
    return len(outcomes) > 1 and all(
        o.outcome == "unchanged" and o.quarantine is None and o.release_claim is None and o.stripe_id
        for o in outcomes
    )


def record_unchanged(
    conn: Connection, account: str, outcomes: Sequence[RecordOutcome], now: datetime
) -> list[int]:
    """Inside `record_outcomes`' transaction: the audit rows (their ids, in order), the mappings' new
    hash and run, and any open quarantine of the records resolved."""
    for kind in sorted({o.object_type for o in outcomes}):
        _apply_mappings(conn, account, kind, [o for o in outcomes if o.object_type == kind], now)
    conn.execute(
        update(quarantine)
        .where(
            or_(quarantine.c.account == account, quarantine.c.account == UNROUTED),  # no IN: executemany
            quarantine.c.object_type == bindparam("b_kind"),
            quarantine.c.record_key == bindparam("b_key"),
            quarantine.c.resolved_at.is_(None),
        )
        .values(resolved_at=now, resolved_by_run_id=bindparam("b_run")),
        [{"b_kind": o.object_type, "b_key": o.record_key, "b_run": o.run_id} for o in outcomes],
    )
    rows = conn.execute(
        audit.insert().returning(audit.c.id, sort_by_parameter_order=True),
        [audit_values(o, now, account) for o in outcomes],
    )
    return [int(row[0]) for row in rows]


def _apply_mappings(
    conn: Connection, account: str, kind: str, outcomes: Sequence[RecordOutcome], now: datetime
) -> None:
    by_key = _mappings(conn, account, kind, mapping.c.jde_key, [o.record_key for o in outcomes])
    by_id = _mappings(conn, account, kind, mapping.c.stripe_id, [str(o.stripe_id) for o in outcomes])
    updates: dict[tuple[str, ...], tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for outcome in outcomes:
        key, stripe_id = outcome.record_key, str(outcome.stripe_id)
        owner = by_id.get(stripe_id)
        if owner is not None and owner.jde_key != key:
            raise conflict(kind, key, stripe_id, owner)
        current = by_key.get(key)
        if current is None:  # the mapping went meanwhile: made again the careful way
            apply_mapping(conn, account, outcome, now)
            continue
        if current.stripe_id not in (stripe_id, outcome.replaces_stripe_id):
            raise conflict(kind, key, stripe_id, current)
        changes = mapping_changes(outcome, now, bound=True)  # one statement per shape of change
        _, rows = updates.setdefault(tuple(changes), (changes, []))
        rows.append(
            {
                "b_key": key,
                "b_current": current.stripe_id,
                "b_stripe_id": stripe_id,
                "b_content_hash": outcome.payload_hash,
                "b_last_run_id": outcome.run_id,
                "b_jde_version": outcome.jde_version,
            }
        )
    for changes, rows in updates.values():
        where = mapping_row(account, kind, bindparam("b_key"), bindparam("b_current"))
        conn.execute(update(mapping).where(*where).values(**changes), rows)


def _mappings(
    conn: Connection, account: str, kind: str, column: Any, values: Sequence[str]
) -> dict[str, ObjectMapping]:
    """The account's mappings of this kind whose `column` is one of `values`, locked, by that value."""
    found: dict[str, ObjectMapping] = {}
    for chunk in chunks(sorted(set(values))):
        query = select(mapping).where(
            mapping.c.account == account, mapping.c.object_type == kind, column.in_(chunk)
        )
        for row in conn.execute(query.with_for_update()):
            item = mapping_from_row(row)
            found[item.jde_key if column is mapping.c.jde_key else item.stripe_id] = item
    return found
