"""One intent row per record: the claim a run holds while it writes, the create in flight, the attempt.

Why (issues 10 and 11):
- **Claims.** Two runs of one partition at once (the CLI bypasses Dagster's queue; a sensor and a
  backfill overlap) must never both write one record: one would create a draft, the other find it and
  add its own lines. A run claims a record before its first Stripe write (`claim`) and the claim ends
  with the record's outcome, in the same transaction (`RecordOutcome.release_claim`). A claim is a
  lease: renewed while the run lives (`renew`), taken over when it expired, when the same run id comes
  back (a Dagster step retry), or at once when its holder was a process on this host that is gone (a
  killed run). A run that finds a live claim leaves the record alone (`Busy` → outcome `deferred`).
- **Intents.** Before a create the run notes its idempotency key and the time (`note_create`). The
  next run that finds the key without a mapping knows a create may have happened: it re-sends the same
  key while Stripe honours it (`Intent.replayable`, 23 h of Stripe's 24), else looks up that one object
  (created after `intent_at`). A record with no mapping and no intent was never created by this
  ledger: it is created without reading Stripe, so a run costs O(change), not O(account).
- **Attempts.** A key Stripe answered with a saved failure (a 500 with `Stripe-Should-Retry: false`,
  or `idempotency_error`) stays poisoned for 24 h: the attempt number in the keys is raised and kept
  here (`next_attempt`), so neither the next round nor the next run re-sends it.
- **Known Stripe id.** Every mapped outcome (and a relink) leaves the record's Stripe id here too, so a
  lost mapping row is relinked by one retrieve instead of a listing.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, and_, exists, select, update

from jde_stripe_pipeline.ledger.model import (
    MAPPED_OUTCOMES,
    Busy,
    Intent,
    ObjectType,
    RecordOutcome,
    RelinkEntry,
)
from jde_stripe_pipeline.ledger.rows import audit_values, chunks, dialect_insert
from jde_stripe_pipeline.ledger.schema import audit, intent, mapping, relink, row_values

if TYPE_CHECKING:
    from jde_stripe_pipeline.ledger.store import Ledger

REPLAY_WINDOW = timedelta(hours=23)
"""How long a create key is re-sent rather than looked up: Stripe keeps keys at least 24 h; an hour
of margin for clock skew and for a request still in flight when the window closes."""

DEFAULT_LEASE = timedelta(seconds=120)

_RELEASED: dict[str, Any] = {
    "holder_run_id": None,
    "holder_token": None,
    "claimed_at": None,
    "expires_at": None,
}


@dataclass(frozen=True)
class ClaimToken:
    """Who holds a claim: the run id and one engine in one process on one host."""

    run_id: str
    holder: str
    """`host/pid/nonce`: unique per engine; the host and pid tell whether the holder still lives."""

    @classmethod
    def new(cls, run_id: str) -> ClaimToken:
        return cls(run_id, f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(6)}")


def holder_is_gone(holder: str) -> bool:
    """True when `holder` names a process of this host that no longer runs (killed, crashed)."""
    host, _, rest = holder.partition("/")
    pid_text = rest.partition("/")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed child its parent has not reaped yet is a zombie: gone too
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _intent_of(row: Any, now: datetime) -> Intent:
    values = row if isinstance(row, dict) else row_values(row)
    at = values["intent_at"]
    return Intent(
        object_type=values["object_type"],
        record_key=values["record_key"],
        attempt=int(values["attempt"]),
        idempotency_key=values["idempotency_key"],
        intent_at=at,
        replayable=at is not None and now - at < REPLAY_WINDOW,
        stripe_id=values["stripe_id"],
        held_by=values.get("holder_run_id") if (values.get("expires_at") or now) > now else None,
    )


def _record(account: str, object_type: str, record_key: str) -> ColumnElement[bool]:
    """The one intent row of a record."""
    return and_(
        intent.c.account == account, intent.c.object_type == object_type, intent.c.record_key == record_key
    )


def _held(account: str, object_type: str, record_key: str, holder: str) -> ColumnElement[bool]:
    """The record's intent row while `holder` (a claim token's holder) still holds its claim."""
    return and_(_record(account, object_type, record_key), intent.c.holder_token == holder)


def _row(conn: Connection, account: str, object_type: str, record_key: str, *, lock: bool = False) -> Any:
    query = select(intent).where(_record(account, object_type, record_key))
    return conn.execute(query.with_for_update() if lock else query).first()


def settle(conn: Connection, account: str, outcome: RecordOutcome, now: datetime) -> None:
    """Inside `record_outcome`'s transaction: end the recording run's claim and settle its intent (a
    mapped or deleted outcome resolves the create in flight and tells the Stripe id now known)."""
    if outcome.release_claim is None:
        return
    values: dict[str, Any] = {**_RELEASED, "updated_at": now}
    if outcome.outcome in MAPPED_OUTCOMES or outcome.outcome == "deleted":
        values |= {"idempotency_key": None, "intent_at": None}
        values["stripe_id"] = outcome.stripe_id if outcome.outcome != "deleted" else None
    held = _held(account, outcome.object_type, outcome.record_key, outcome.release_claim)
    conn.execute(update(intent).where(held).values(**values))


class Intents:
    """The intent rows of one ledger (`ledger.intents`). Each method is one short transaction."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    @property
    def _account(self) -> str:
        return self._ledger.account

    # -- claims ----------------------------------------------------------------------------------------

    def claim(
        self,
        object_type: ObjectType,
        record_key: str,
        token: ClaimToken,
        lease: timedelta = DEFAULT_LEASE,
        *,
        create_key: str | None = None,
    ) -> Intent | Busy:
        """Take the record's claim (creating its row) and return its intent, or `Busy` when another
        live run holds it. `create_key`: the create the run expects to send, noted in the same
        transaction (as `note_create`) unless another create is pending: a new record costs the ledger
        one write before Stripe and one after."""
        now = self._ledger.now()
        held: dict[str, Any] = {
            "holder_run_id": token.run_id,
            "holder_token": token.holder,
            "claimed_at": now,
            "expires_at": now + lease,
            "updated_at": now,
        }
        noted = {"idempotency_key": create_key, "intent_at": now} if create_key else {}
        with self._ledger.write() as conn:
            fresh = dialect_insert(conn)(intent).values(
                account=self._account,
                object_type=object_type,
                record_key=record_key,
                attempt=1,
                **held,
                **noted,
            )
            if conn.execute(fresh.on_conflict_do_nothing().returning(intent.c.id)).first() is not None:
                return _intent_of(
                    {
                        "object_type": object_type,
                        "record_key": record_key,
                        "attempt": 1,
                        "stripe_id": None,
                        "idempotency_key": None,
                        "intent_at": None,
                        **noted,
                    },
                    now,
                )
            row = _row(conn, self._account, object_type, record_key, lock=True)
            holder, run_id, expires = row.holder_token, row.holder_run_id, row.expires_at
            free = holder is None or expires is None or expires <= now
            if not (free or holder == token.holder or run_id == token.run_id or holder_is_gone(holder)):
                return Busy(object_type, record_key, str(run_id), expires)
            values = row_values(row)
            if noted and values["idempotency_key"] is None:
                values |= noted
                held |= noted
            conn.execute(update(intent).where(intent.c.id == row.id).values(**held))
            return _intent_of(values, now)

    def renew(self, token: ClaimToken, lease: timedelta = DEFAULT_LEASE) -> int:
        """Extend every claim `token` holds; the number of claims renewed."""
        now = self._ledger.now()
        with self._ledger.write() as conn:
            result = conn.execute(
                update(intent)
                .where(intent.c.holder_token == token.holder)
                .values(expires_at=now + lease, updated_at=now)
            )
            return int(result.rowcount or 0)

    def record_deferral(self, outcome: RecordOutcome) -> bool:
        """Append a `deferred` audit row only while another run still holds the record's claim: once
        the holder has recorded its outcome, that is the record's last word, which a late deferral
        would hide. False when nothing was written."""
        now = self._ledger.now()
        with self._ledger.write() as conn:
            row = _row(conn, self._account, outcome.object_type, outcome.record_key, lock=True)
            if row is None or row.holder_run_id in (None, outcome.run_id):
                return False
            conn.execute(audit.insert().values(**audit_values(outcome, now, self._account)))
        return True

    def release(self, token: ClaimToken) -> int:
        """End every claim `token` still holds (a run ending; its outcomes released the others)."""
        now = self._ledger.now()
        with self._ledger.write() as conn:
            result = conn.execute(
                update(intent)
                .where(intent.c.holder_token == token.holder)
                .values(**_RELEASED, updated_at=now)
            )
            return int(result.rowcount or 0)

    # -- intents ---------------------------------------------------------------------------------------

    def note_create(
        self, object_type: ObjectType, record_key: str, token: ClaimToken, idempotency_key: str
    ) -> None:
        """Before sending a create: its key, and the time it was first intended (kept while the key is
        the same, so a replay after a crash does not move the time the lookup starts from)."""
        now = self._ledger.now()
        with self._ledger.write() as conn:
            conn.execute(
                update(intent)
                .where(
                    _held(self._account, object_type, record_key, token.holder),
                    (intent.c.idempotency_key.is_(None)) | (intent.c.idempotency_key != idempotency_key),
                )
                .values(idempotency_key=idempotency_key, intent_at=now, updated_at=now)
            )

    def next_attempt(self, object_type: ObjectType, record_key: str, token: ClaimToken) -> int:
        """Raise and return the record's attempt number (after Stripe saved a failure under its key)."""
        now = self._ledger.now()
        with self._ledger.write() as conn:
            row = _row(conn, self._account, object_type, record_key, lock=True)
            attempt = (int(row.attempt) if row is not None else 1) + 1
            held = _held(self._account, object_type, record_key, token.holder)
            conn.execute(update(intent).where(held).values(attempt=attempt, updated_at=now))
            return attempt

    def of(self, object_type: ObjectType, keys: Iterable[str]) -> dict[str, Intent]:
        """The intent rows of these records (read only: what a plan shows without claiming)."""
        now = self._ledger.now()
        found: dict[str, Intent] = {}
        with self._ledger.read() as conn:
            for chunk in chunks(sorted(set(keys))):
                rows = conn.execute(
                    select(intent).where(
                        intent.c.account == self._account,
                        intent.c.object_type == object_type,
                        intent.c.record_key.in_(chunk),
                    )
                )
                found.update((row.record_key, _intent_of(row, now)) for row in rows)
        return found

    # -- relinks ---------------------------------------------------------------------------------------

    def needs_relink(self) -> bool:
        """True for an empty ledger (of this account): no mapping, no known Stripe id, and no relink
        ever recorded."""
        account = self._account
        with self._ledger.read() as conn:
            known = select(
                exists().where(mapping.c.account == account)
                | exists().where(intent.c.account == account, intent.c.stripe_id.isnot(None))
                | exists().where(relink.c.account == account)
            )
            return not conn.execute(known).scalar_one()

    def link_found(self, object_type: ObjectType, found: Mapping[str, str]) -> int:
        """Note the Stripe object a relink found for each unmapped record (key → Stripe id); the
        number of records linked. Mapped records keep their mapping."""
        now = self._ledger.now()
        linked = 0
        with self._ledger.write() as conn:
            for chunk in chunks(sorted(found)):
                mapped = set(
                    conn.execute(
                        select(mapping.c.jde_key).where(
                            mapping.c.account == self._account,
                            mapping.c.object_type == object_type,
                            mapping.c.jde_key.in_(chunk),
                        )
                    ).scalars()
                )
                for key in chunk:
                    if key in mapped:
                        continue
                    statement = dialect_insert(conn)(intent).values(
                        account=self._account,
                        object_type=object_type,
                        record_key=key,
                        stripe_id=found[key],
                        attempt=1,
                        updated_at=now,
                    )
                    conn.execute(
                        statement.on_conflict_do_update(
                            index_elements=[intent.c.account, intent.c.object_type, intent.c.record_key],
                            set_={"stripe_id": found[key], "updated_at": now},
                        )
                    )
                    linked += 1
        return linked

    def record_relink(self, run_id: str, customers_listed: int, invoices_listed: int, linked: int) -> None:
        with self._ledger.write() as conn:
            conn.execute(
                relink.insert().values(
                    account=self._account,
                    at=self._ledger.now(),
                    run_id=run_id,
                    customers_listed=customers_listed,
                    invoices_listed=invoices_listed,
                    linked=linked,
                )
            )

    def relinks(self) -> list[RelinkEntry]:
        with self._ledger.read() as conn:
            return [
                RelinkEntry(**row_values(row))
                for row in conn.execute(
                    select(relink).where(relink.c.account == self._account).order_by(relink.c.id)
                )
            ]
