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

from sqlalchemy import (
    URL,
    Connection,
    Engine,
    select,
)
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

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
from jde_stripe_pipeline.ledger.history import LedgerReads
from jde_stripe_pipeline.ledger.intents import Intents, settle
from jde_stripe_pipeline.ledger.migrations import ensure_schema
from jde_stripe_pipeline.ledger.model import (
    AuditEntry,
    InvalidOutcomeError,
    LedgerUnavailableError,
    MappingConflictError,
    ObjectMapping,
    ObjectType,
    RecordOutcome,
)
from jde_stripe_pipeline.ledger.rows import (
    IN_CHUNK,
    audit_values,
    chunks,
    conflict,
    mapping_from_row,
    mapping_of_key,
    mapping_of_stripe_id,
)
from jde_stripe_pipeline.ledger.schema import mapping
from jde_stripe_pipeline.ledger.unchanged import in_bulk, record_unchanged
from jde_stripe_pipeline.ledger.writes import append_audit, apply_mapping, apply_quarantine

__all__ = ["IN_CHUNK", "Clock", "Ledger", "utc_now"]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Ledger(LedgerReads):
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

    # -- internals -------------------------------------------------------------------------------------

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
