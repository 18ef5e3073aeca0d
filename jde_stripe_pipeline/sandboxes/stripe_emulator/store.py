"""The emulator's state, per Stripe account: objects by kind, idempotency records, the lagging search
index. Each account holds its own (`Stores.of(account)`), as Stripe keeps accounts apart: an object id
of one account is unknown to another, and the same idempotency key may be used by both.

In memory by default. With a SQLite file, every change is written through at the end of the request that
made it (objects and idempotency records, with their account), and loaded again on start, so the demo's
Stripe survives a restart; a file written before accounts held their own objects is read as the default
account's. The stores do no locking themselves: the server holds one lock around every use.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

KINDS = ("customer", "invoice", "invoiceitem", "credit_note")


@dataclass
class IdempotencyRecord:
    key: str
    method: str
    path: str
    fingerprint: str
    created_at: float
    in_flight: bool = True
    status: int = 0
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    request_id: str = ""


@dataclass
class SearchVersion:
    visible_at: float
    snapshot: dict[str, Any] | None
    """None: the object was deleted (the index forgets it once the deletion is visible)."""


class Store:
    """One account's objects and idempotency keys (`db`: the shared file's connection, or None)."""

    def __init__(self, account: str, db: sqlite3.Connection | None = None) -> None:
        self.account = account
        self.objects: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.idempotency: dict[str, IdempotencyRecord] = {}
        self.search_versions: dict[str, list[SearchVersion]] = {}
        self.items_by_invoice: dict[str, set[str]] = {}
        """Index: invoice id → ids of its invoice items (kept by put/remove)."""
        self.seq = 0
        self._dirty: set[tuple[str, str]] = set()
        self._dirty_keys: set[str] = set()
        self._db = db

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def get(self, kind: str, object_id: str) -> dict[str, Any] | None:
        return self.objects[kind].get(object_id)

    def put(self, kind: str, obj: dict[str, Any]) -> None:
        if kind == "invoiceitem":
            self._unindex_item(obj["id"])
            if obj.get("invoice"):
                self.items_by_invoice.setdefault(obj["invoice"], set()).add(obj["id"])
        self.objects[kind][obj["id"]] = obj
        self._dirty.add((kind, obj["id"]))

    def remove(self, kind: str, object_id: str) -> None:
        if kind == "invoiceitem":
            self._unindex_item(object_id)
        self.objects[kind].pop(object_id, None)
        self._dirty.add((kind, object_id))

    def items_of(self, invoice_id: str) -> list[dict[str, Any]]:
        """An invoice's items in the order they were added (the order of its lines)."""
        items = [self.objects["invoiceitem"][i] for i in self.items_by_invoice.get(invoice_id, ())]
        return sorted(items, key=lambda item: int(item["_seq"]))

    def _unindex_item(self, item_id: str) -> None:
        old = self.objects["invoiceitem"].get(item_id)
        if old is not None and old.get("invoice"):
            self.items_by_invoice.get(old["invoice"], set()).discard(item_id)

    def put_idempotency(self, record: IdempotencyRecord) -> None:
        self.idempotency[record.key] = record
        self._dirty_keys.add(record.key)

    def drop_idempotency(self, key: str) -> None:
        self.idempotency.pop(key, None)
        self._dirty_keys.add(key)

    def clear(self) -> None:
        for kind in KINDS:
            for object_id in list(self.objects[kind]):
                self.remove(kind, object_id)
        for key in list(self.idempotency):
            self.drop_idempotency(key)
        self.search_versions.clear()
        self.items_by_invoice.clear()

    def flush(self) -> None:
        """Write what changed since the last flush (no-op in memory)."""
        if self._db is None:
            self._dirty.clear()
            self._dirty_keys.clear()
            return
        with self._db:
            for kind, object_id in self._dirty:
                obj = self.objects[kind].get(object_id)
                if obj is None:
                    self._db.execute(
                        "DELETE FROM account_objects WHERE account = ? AND kind = ? AND id = ?",
                        (self.account, kind, object_id),
                    )
                else:
                    self._db.execute(
                        "INSERT OR REPLACE INTO account_objects VALUES (?, ?, ?, ?)",
                        (self.account, kind, object_id, json.dumps(obj, default=str)),
                    )
            for key in self._dirty_keys:
                record = self.idempotency.get(key)
                if record is None or record.in_flight:
                    self._db.execute(
                        "DELETE FROM account_idempotency WHERE account = ? AND key = ?", (self.account, key)
                    )
                else:
                    self._db.execute(
                        "INSERT OR REPLACE INTO account_idempotency VALUES (?, ?, ?)",
                        (self.account, key, json.dumps(asdict(record))),
                    )
        self._dirty.clear()
        self._dirty_keys.clear()

    def load_object(self, kind: str, obj: dict[str, Any]) -> None:
        """An object read back from the file (not dirty: it is there already)."""
        self.put(kind, obj)
        self._dirty.discard((kind, obj["id"]))
        self.seq = max(self.seq, int(obj.get("_seq", 0)))
        if kind == "customer":
            self.search_versions[obj["id"]] = [SearchVersion(0.0, obj if not obj.get("deleted") else None)]

    def load_idempotency(self, record: IdempotencyRecord) -> None:
        self.idempotency[record.key] = record


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS account_objects "
    "(account TEXT, kind TEXT, id TEXT, body TEXT, PRIMARY KEY (account, kind, id));"
    "CREATE TABLE IF NOT EXISTS account_idempotency "
    "(account TEXT, key TEXT, body TEXT, PRIMARY KEY (account, key));"
)


class Stores:
    """Every account's `Store`, made when an account is first used, over one optional SQLite file."""

    def __init__(self, db_path: Path | None = None, *, legacy_account: str) -> None:
        self._stores: dict[str, Store] = {}
        self._db: sqlite3.Connection | None = None
        if db_path is not None:
            self._db = sqlite3.connect(str(db_path), check_same_thread=False)
            self._db.executescript(_SCHEMA)
            self._adopt_legacy_tables(legacy_account)
            self._load()

    def of(self, account: str) -> Store:
        store = self._stores.get(account)
        if store is None:
            store = self._stores[account] = Store(account, self._db)
        return store

    def __iter__(self) -> Iterator[Store]:
        return iter(list(self._stores.values()))

    def clear(self) -> None:
        for store in self:
            store.clear()
            store.flush()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _adopt_legacy_tables(self, account: str) -> None:
        """A file from before accounts held their own objects: its rows become `account`'s."""
        assert self._db is not None
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        with self._db:
            if "objects" in tables:
                self._db.execute(
                    "INSERT OR IGNORE INTO account_objects SELECT ?, kind, id, body FROM objects", (account,)
                )
                self._db.execute("DROP TABLE objects")
            if "idempotency" in tables:
                self._db.execute(
                    "INSERT OR IGNORE INTO account_idempotency SELECT ?, key, body FROM idempotency",
                    (account,),
                )
                self._db.execute("DROP TABLE idempotency")

    def _load(self) -> None:
        assert self._db is not None
        for account, kind, body in self._db.execute(
            "SELECT account, kind, body FROM account_objects ORDER BY rowid"
        ):
            self.of(account).load_object(kind, json.loads(body, parse_float=Decimal))
        for account, body in self._db.execute("SELECT account, body FROM account_idempotency"):
            self.of(account).load_idempotency(IdempotencyRecord(**json.loads(body)))
