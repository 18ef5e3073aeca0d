"""`Ledger`: the sync state in one database — mapping, append-only audit log, quarantine.

A `Ledger` reads and writes the rows of one Stripe account (`account`, default `default`; issue 13):
`for_account(name)` gives another account's view of the same database, so the sync engine and the
records it handles need not know accounts at all. `history` and the quarantine lists can look across
every account (`every_account=True`) for `jde-stripe audit`.

Every write is one short transaction; every read returns frozen dataclasses. Safe for many threads and
many processes at once: unique constraints guarantee one mapping per JDE key and per Stripe object,
and the loser of a race gets a `MappingConflictError` naming the winner's row, never a second mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    URL,
    ColumnElement,
    Connection,
    Engine,
    Select,
    Table,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import aliased

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT
from jde_stripe_pipeline.ledger.database import (
    WRITE_OPTION,
    create_ledger_engine,
    mask_url,
    parse_url,
    resolve_state_url,
    scrub,
)
from jde_stripe_pipeline.ledger.drift import DriftMarks
from jde_stripe_pipeline.ledger.intents import Intents, settle
from jde_stripe_pipeline.ledger.migrations import ensure_schema
from jde_stripe_pipeline.ledger.model import (
    AuditEntry,
    InvalidOutcomeError,
    LedgerUnavailableError,
    MappingConflictError,
    ObjectMapping,
    ObjectType,
    Outcome,
    QuarantineEntry,
    RecordOutcome,
)
from jde_stripe_pipeline.ledger.rows import (
    IN_CHUNK,
    audit_from_row,
    audit_values,
    chunks,
    conflict,
    mapping_from_row,
    mapping_of_key,
    mapping_of_stripe_id,
    quarantine_from_row,
)
from jde_stripe_pipeline.ledger.schema import audit, mapping, quarantine
from jde_stripe_pipeline.ledger.unchanged import in_bulk, record_unchanged
from jde_stripe_pipeline.ledger.writes import append_audit, apply_mapping, apply_quarantine

__all__ = ["IN_CHUNK", "Clock", "Ledger", "utc_now"]

Clock = Callable[[], datetime]
_T = TypeVar("_T")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """The sync engine's memory of one Stripe account. Open with `Ledger.open()`; close (or use as a
    context manager); `for_account` views another account of the same database."""

    def __init__(
        self,
        engine: Engine,
        url: URL,
        clock: Clock = utc_now,
        *,
        account: str = DEFAULT_ACCOUNT,
        owns_engine: bool = True,
    ) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._url = url
        self._clock = clock
        self._owns_engine = owns_engine
        self.account = account
        """The Stripe account whose rows this ledger reads and writes."""
        self.intents = Intents(self)
        """Claims, creates in flight, attempts, relinks (`ledger/intents.py`)."""
        self.drift = DriftMarks(self)  # objects found changed in Stripe, not in JDE (`ledger/drift.py`)

    @classmethod
    def open(
        cls, url: str | URL | None = None, *, clock: Clock = utc_now, account: str = DEFAULT_ACCOUNT
    ) -> Ledger:
        """Connect, then create or upgrade the schema. `url=None` reads the environment
        (see `resolve_state_url`)."""
        parsed = resolve_state_url() if url is None else parse_url(url)
        ledger = cls(create_ledger_engine(parsed), parsed, clock, account=account)
        try:
            with ledger._write() as conn:
                ensure_schema(conn, clock())
        except BaseException:
            ledger.close()
            raise
        return ledger

    @property
    def display_url(self) -> str:
        """The database URL with the password masked: safe for logs and metadata."""
        return mask_url(self._url)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def __repr__(self) -> str:
        account = "" if self.account == DEFAULT_ACCOUNT else f", account={self.account}"
        return f"Ledger({self.display_url}{account})"

    def for_account(self, account: str) -> Ledger:
        """The same database seen as another Stripe account's ledger (sharing this one's connections:
        closing it leaves them open; close the ledger that opened them)."""
        if account == self.account:
            return self
        return Ledger(self._engine, self._url, self._clock, account=account, owns_engine=False)

    def close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- writes ----------------------------------------------------------------------------------------

    def record_outcome(self, outcome: RecordOutcome) -> AuditEntry:
        """Append the audit row and apply its mapping and quarantine changes, all or nothing.

        Raises `MappingConflictError` (nothing written) when the mapping change would give the JDE key a
        second Stripe object or the Stripe object a second key; record a `conflict` outcome instead.
        """
        return self.record_outcomes([outcome])[0]

    def record_outcomes(self, outcomes: Sequence[RecordOutcome]) -> list[AuditEntry]:
        """`record_outcome` for several records in one transaction (one commit: a re-sync's thousands of
        `unchanged` rows cost one fsync, not one each); all or nothing. A mapping conflict raised by a
        batch names one of its records: record them one by one to find each."""
        for outcome in outcomes:
            problems = outcome.problems()
            if problems:
                raise InvalidOutcomeError(
                    f"cannot record {outcome.object_type} {outcome.record_key}: {'; '.join(problems)}"
                )
        now = self._clock()
        entries: list[AuditEntry] = []
        outcome = outcomes[0]
        try:
            with self._write() as conn:
                if in_bulk(outcomes):
                    ids = record_unchanged(conn, self.account, outcomes, now)
                    return [
                        AuditEntry(id=i, **audit_values(o, now, self.account))
                        for i, o in zip(ids, outcomes, strict=True)
                    ]
                for outcome in outcomes:
                    audit_id = append_audit(conn, self.account, outcome, now)
                    apply_mapping(conn, self.account, outcome, now)
                    apply_quarantine(conn, self.account, outcome, now)
                    settle(conn, self.account, outcome, now)
                    entries.append(AuditEntry(id=audit_id, **audit_values(outcome, now, self.account)))
        except IntegrityError as error:
            # A concurrent writer slipped past the checks above; the unique constraints caught it.
            if "jde_stripe_mapping" not in str(error.orig):
                raise
            raise self._conflict_after_race(
                outcome.object_type, outcome.record_key, outcome.stripe_id
            ) from error
        return entries

    # -- reads -----------------------------------------------------------------------------------------

    def get_mappings(self, object_type: ObjectType, keys: Iterable[str]) -> dict[str, ObjectMapping]:
        """The mappings of these JDE keys (absent keys are simply missing from the answer)."""
        wanted = sorted(set(keys))
        found: dict[str, ObjectMapping] = {}
        with self._read() as conn:
            for chunk in chunks(wanted):
                rows = conn.execute(
                    select(mapping).where(
                        self._mine(mapping),
                        mapping.c.object_type == object_type,
                        mapping.c.jde_key.in_(chunk),
                    )
                )
                for row in rows:
                    found[row.jde_key] = mapping_from_row(row)
        return found

    def all_mappings(self, object_type: ObjectType) -> list[ObjectMapping]:
        """Every mapping of one type, by JDE key (for re-linking against a Stripe listing)."""
        with self._read() as conn:
            rows = conn.execute(
                select(mapping)
                .where(self._mine(mapping), mapping.c.object_type == object_type)
                .order_by(mapping.c.jde_key)
            )
            return [mapping_from_row(row) for row in rows]

    def accounts_of(self, object_type: ObjectType, keys: Iterable[str]) -> dict[str, set[str]]:
        """Across every account: the accounts whose mapping holds each of these JDE keys (absent keys
        are missing from the answer). Tells where a changed customer already exists."""
        found: dict[str, set[str]] = {}
        with self._read() as conn:
            for chunk in chunks(sorted(set(keys))):
                rows = conn.execute(
                    select(mapping.c.jde_key, mapping.c.account).where(
                        mapping.c.object_type == object_type, mapping.c.jde_key.in_(chunk)
                    )
                )
                for key, account in rows:
                    found.setdefault(key, set()).add(account)
        return found

    def mapping_by_stripe_id(self, stripe_id: str, *, every_account: bool = False) -> ObjectMapping | None:
        with self._read() as conn:
            query = select(mapping).where(mapping.c.stripe_id == stripe_id)
            if not every_account:
                query = query.where(self._mine(mapping))
            row = conn.execute(query.order_by(mapping.c.id)).first()
            return None if row is None else mapping_from_row(row)

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

    # -- internals -------------------------------------------------------------------------------------

    def _mine(self, table: Table) -> ColumnElement[bool]:
        """The condition that a row of `table` is this account's."""
        return table.c.account == self.account

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, InterfaceError) as error:
            detail = scrub(str(error.orig or error).strip(), self._url)
            raise LedgerUnavailableError(f"ledger database {self.display_url}: {detail}") from None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._guard(), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._guard(), self._engine.connect() as conn:
            yield conn

    # For the ledger's own modules (`intents`): one write transaction, one read connection, the clock.
    write = _write
    read = _read

    def now(self) -> datetime:
        return self._clock()

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

    def _conflict_after_race(
        self, object_type: ObjectType, jde_key: str, stripe_id: str | None
    ) -> MappingConflictError:
        with self._read() as conn:
            by_key = mapping_of_key(conn, self.account, object_type, jde_key)
            by_stripe = (
                mapping_of_stripe_id(conn, self.account, object_type, stripe_id) if stripe_id else None
            )
        existing = by_stripe if by_stripe is not None and by_stripe.jde_key != jde_key else by_key
        return conflict(object_type, jde_key, stripe_id, existing)
