"""Drift marks: a mapped Stripe object found deleted, or edited in what the mapping owns, while JDE did not
change it.

Why (issue 13): the mapping's content hash says what Stripe holds, so a record whose JDE content is
unchanged costs a run nothing, not even a read. A person deleting the draft, or editing a JDE line's
amount in Stripe, leaves that hash true for the ledger and false for Stripe: nothing would notice. The
reconciliation (which reads Stripe anyway) notices, and marks the mapping here: `drift` says what it
found, `drift_at` since when. A marked record is never "unchanged" for the next sync: it is re-decided
against Stripe (a deleted draft re-created under a new key, an edited one converged by `jde_lnid`) and
recorded `repaired`; that outcome (any mapped outcome whose run read Stripe) clears the mark in its own
transaction (`Ledger._apply_mapping`).

Each finding is also an audit row (`drifted`, action `nothing`: nothing was written to Stripe), so
`jde-stripe audit KEY` tells the story: created, drifted (what differed), repaired.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from jde_stripe_pipeline.ledger.model import ObjectMapping, ObjectType, RecordOutcome
from jde_stripe_pipeline.ledger.rows import audit_values, mapping_from_row
from jde_stripe_pipeline.ledger.schema import audit, mapping

if TYPE_CHECKING:
    from jde_stripe_pipeline.ledger.store import Ledger


class DriftMarks:
    """The drift marks of one ledger (`ledger.drift`). Each method is one short transaction."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def mark(
        self,
        object_type: ObjectType,
        record_key: str,
        *,
        stripe_id: str,
        content_hash: str | None,
        reason: str,
        run_id: str,
        partition_key: str | None,
        jde_version: datetime | None = None,
    ) -> bool:
        """Mark the record's mapping drifted and append its `drifted` audit row, together; False (nothing
        written) when the mapping no longer maps to `stripe_id` — or, given `content_hash`, no longer
        holds it: a sync moved it on since the finding was read, and decides the record itself."""
        now = self._ledger.now()
        condition = [
            mapping.c.account == self._ledger.account,
            mapping.c.object_type == object_type,
            mapping.c.jde_key == record_key,
            mapping.c.stripe_id == stripe_id,
        ]
        if content_hash is not None:
            condition.append(mapping.c.content_hash == content_hash)
        finding = RecordOutcome(
            run_id=run_id,
            partition_key=partition_key,
            object_type=object_type,
            record_key=record_key,
            action="nothing",
            outcome="drifted",
            jde_version=jde_version,
            payload_hash=content_hash,
            stripe_id=stripe_id,
            reason=reason,
        )
        with self._ledger.write() as conn:
            marked = conn.execute(
                update(mapping)
                .where(*condition)
                .values(drift=reason, drift_at=func.coalesce(mapping.c.drift_at, now))
            )
            if not marked.rowcount:
                return False
            conn.execute(audit.insert().values(**audit_values(finding, now, self._ledger.account)))
        return True

    def marked(self, object_type: ObjectType | None = None) -> list[ObjectMapping]:
        """Every mapping of this ledger's account marked drifted and not repaired yet, by JDE key."""
        query = select(mapping).where(mapping.c.account == self._ledger.account, mapping.c.drift.isnot(None))
        if object_type is not None:
            query = query.where(mapping.c.object_type == object_type)
        with self._ledger.read() as conn:
            rows = conn.execute(query.order_by(mapping.c.object_type, mapping.c.jde_key))
            return [mapping_from_row(row) for row in rows]

    def partitions(self) -> list[str]:
        """The partitions whose reconciliation found drift not repaired yet, in any Stripe account: the
        billing schedule asks for them again, so the repair does not wait for a person."""
        open_marks = (
            select(mapping.c.account, mapping.c.object_type, mapping.c.jde_key)
            .where(mapping.c.drift.isnot(None))
            .subquery()
        )
        query = (
            select(audit.c.partition_key)
            .join(
                open_marks,
                (audit.c.account == open_marks.c.account)
                & (audit.c.object_type == open_marks.c.object_type)
                & (audit.c.record_key == open_marks.c.jde_key),
            )
            .where(audit.c.outcome == "drifted", audit.c.partition_key.isnot(None))
            .distinct()
        )
        with self._ledger.read() as conn:
            return sorted(str(row[0]) for row in conn.execute(query))
