"""The ledger's reads of its audit log and quarantine: a record's story for `jde-stripe audit`, the
failures `replay` re-runs, the quarantine lists, a run's outcome counts for its metadata.

A base class of `Ledger` (`store.py`), apart so that the writes and the mapping reads the sync needs
stay in one short module. Every read is of this account's rows unless `every_account` says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Connection, Select, Table, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from jde_stripe_pipeline.ledger.model import AuditEntry, ObjectType, Outcome, QuarantineEntry
from jde_stripe_pipeline.ledger.rows import audit_from_row, chunks, quarantine_from_row
from jde_stripe_pipeline.ledger.schema import audit, mapping, quarantine

_T = TypeVar("_T")


class LedgerReads:
    """Reads over one account's rows; `Ledger` gives the connection (`_read`) and the account."""

    account: str

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def history(
        self, identifier: str, *, object_type: ObjectType | None = None, every_account: bool = False
    ) -> list[AuditEntry]:
        """The whole audit story of a record, found by its JDE key or by any Stripe id it ever had, in
        this account or (`every_account`) in each account that has it.

        Oldest first. By Stripe id it includes the record's rows that carry no Stripe id (e.g. failures
        before the object existed).
        """
        with self._read() as conn:
            owners = select(audit.c.account, audit.c.object_type, audit.c.record_key).where(
                audit.c.stripe_id == identifier
            )
            mapped = select(mapping.c.account, mapping.c.object_type, mapping.c.jde_key).where(
                mapping.c.stripe_id == identifier
            )
            records = {(row[0], row[1], row[2]) for row in conn.execute(owners.union(mapped))}
            matches = [audit.c.record_key == identifier]
            matches += [
                (audit.c.account == account) & (audit.c.object_type == kind) & (audit.c.record_key == key)
                for account, kind, key in sorted(records)
            ]
            query = select(audit).where(or_(*matches))
            if not every_account:
                query = query.where(self._mine(audit))
            if object_type is not None:
                query = query.where(audit.c.object_type == object_type)
            return [audit_from_row(row) for row in conn.execute(query.order_by(audit.c.id))]

    def failed_for_replay(
        self, partition_keys: Iterable[str], *, object_type: ObjectType | None = None
    ) -> list[AuditEntry]:
        """The latest audit row of each record whose latest outcome anywhere is `failed`, seen in one of
        these partitions. A record that failed and later synced (in any run) is not listed."""
        later = aliased(audit)
        newer_exists = exists().where(
            later.c.account == audit.c.account,
            later.c.object_type == audit.c.object_type,
            later.c.record_key == audit.c.record_key,
            later.c.id > audit.c.id,
            later.c.outcome.notin_(("deferred", "drifted")),  # another run had it / a finding, no sync
        )

        def query(chunk: Sequence[str]) -> Select[Any]:
            stmt = select(audit).where(
                self._mine(audit),
                audit.c.outcome == "failed",
                audit.c.partition_key.in_(chunk),
                ~newer_exists,
            )
            return stmt if object_type is None else stmt.where(audit.c.object_type == object_type)

        return sorted(self._select_chunked(partition_keys, query, audit_from_row), key=lambda e: e.id)

    def open_quarantine(
        self,
        partition_keys: Iterable[str] | None = None,
        *,
        object_type: ObjectType | None = None,
        every_account: bool = False,
    ) -> list[QuarantineEntry]:
        """Unresolved quarantine entries of this account (or every account), of the given partitions
        (where last seen) or all of them."""

        def query(chunk: Sequence[str] | None) -> Select[Any]:
            stmt = select(quarantine).where(quarantine.c.resolved_at.is_(None))
            if not every_account:
                stmt = stmt.where(self._mine(quarantine))
            if chunk is not None:
                stmt = stmt.where(quarantine.c.partition_key.in_(chunk))
            return stmt if object_type is None else stmt.where(quarantine.c.object_type == object_type)

        if partition_keys is None:
            with self._read() as conn:
                rows = conn.execute(query(None))
                return sorted((quarantine_from_row(row) for row in rows), key=lambda e: e.id)
        return sorted(self._select_chunked(partition_keys, query, quarantine_from_row), key=lambda e: e.id)

    def open_quarantine_of(self, object_type: ObjectType, keys: Iterable[str]) -> dict[str, QuarantineEntry]:
        """The open quarantine entries of these records, by record key."""
        found: dict[str, QuarantineEntry] = {}
        with self._read() as conn:
            for chunk in chunks(sorted(set(keys))):
                rows = conn.execute(
                    select(quarantine).where(
                        self._mine(quarantine),
                        quarantine.c.object_type == object_type,
                        quarantine.c.record_key.in_(chunk),
                        quarantine.c.resolved_at.is_(None),
                    )
                )
                found.update((row.record_key, quarantine_from_row(row)) for row in rows)
        return found

    def quarantine_history(
        self, object_type: ObjectType, record_key: str, *, every_account: bool = False
    ) -> list[QuarantineEntry]:
        """Every quarantine entry of one record, resolved ones included, oldest first."""
        query = select(quarantine).where(
            quarantine.c.object_type == object_type, quarantine.c.record_key == record_key
        )
        if not every_account:
            query = query.where(self._mine(quarantine))
        with self._read() as conn:
            return [quarantine_from_row(row) for row in conn.execute(query.order_by(quarantine.c.id))]

    def outcome_counts(self, run_id: str, *, object_type: ObjectType | None = None) -> dict[Outcome, int]:
        """Records per outcome in one run, counting each record once by its latest outcome in that run
        (a failure retried successfully in the same run counts as the success), not counting an
        `unchanged` after a change (a customer the invoice step created, then the customer step found
        as it is, counts as created)."""
        changed_id = func.max(case((audit.c.outcome != "unchanged", audit.c.id)))
        latest_in_run = (
            select(func.coalesce(changed_id, func.max(audit.c.id)))
            .where(audit.c.run_id == run_id, self._mine(audit))
            .group_by(audit.c.object_type, audit.c.record_key)
        )
        query = (
            select(audit.c.outcome, func.count())
            .where(audit.c.id.in_(latest_in_run))
            .group_by(audit.c.outcome)
        )
        if object_type is not None:
            query = query.where(audit.c.object_type == object_type)
        with self._read() as conn:
            return {cast(Outcome, outcome): int(count) for outcome, count in conn.execute(query)}

    # -- shared by the ledger's reads ----------------------------------------------------------------

    def _mine(self, table: Table) -> ColumnElement[bool]:
        """The condition that a row of `table` is this account's."""
        return table.c.account == self.account

    def _select_chunked(
        self,
        keys: Iterable[str],
        query: Callable[[Sequence[str]], Select[Any]],
        convert: Callable[[Any], _T],
    ) -> list[_T]:
        found: list[_T] = []
        with self._read() as conn:
            for chunk in chunks(sorted(set(keys))):
                found.extend(convert(row) for row in conn.execute(query(chunk)))
        return found
