"""A large Stripe account made fast: the emulator and the ledger filled directly, not through the limit.

Syncing 20,000 customers and 50,000 invoices through Stripe's 25 requests/s would take over an hour,
and the bench needs that account fresh for every run of the incremental day. So, once per bench:
1. the old records are extracted from the AIS sandbox by the project's own extract (the window of the
   day they were stamped) and mapped by the project's own mapping;
2. each mapped request is sent to the emulator in-process (`StripeEmulator.handle`, no socket, limits
   and latency off) exactly as the engine sends it: `POST /v1/customers`, `POST /v1/invoices` then one
   `add_lines`, with the engine's idempotency keys, form-encoded as the SDK encodes them — so the
   objects are the emulator's own, not hand-made;
3. the ledger gets what the engine's recorder writes for a `created` record — a mapping (Stripe id,
   change hash, JDE version) and an audit row — in one bulk insert into the ledger's own tables
   (`ledger.schema`, created by `Ledger.open`): `record_outcome`'s one transaction per record would
   take longer than the rest together. `Ledger.get_mappings` then checks what was written.
The emulator's objects are then written to its SQLite format in one transaction (its `Store`, which
`StripeEmulator(db_path=…)` loads), and each run of the incremental day starts from copies of both
files (`AccountSnapshot.copy_to`), under /dev/shm when it exists.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT as DEFAULT_LEDGER_ACCOUNT
from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.profiles import invoice_profile
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.ledger import Ledger, schema
from jde_stripe_pipeline.ledger.schema import audit, mapping
from jde_stripe_pipeline.mapping import (
    CustomerRequest,
    InvoiceRequest,
    map_customer,
    map_invoice,
)
from jde_stripe_pipeline.mapping.idempotency import idempotency_key
from jde_stripe_pipeline.sandboxes.http_server import HttpRequest, HttpResponse
from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulator, StripeEmulatorConfig
from jde_stripe_pipeline.sandboxes.stripe_emulator.config import DEFAULT_ACCOUNT
from jde_stripe_pipeline.sandboxes.stripe_emulator.store import KINDS, Stores
from jde_stripe_pipeline.settings import Settings

PREPOPULATE_RUN = "bench-prepopulate"
PAGE_SIZE = 1000


def form_pairs(prefix: str, value: Any, out: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The SDK's form encoding: `a[b]=v`, `a[0][b]=v`, booleans as `true`/`false`."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            form_pairs(f"{prefix}[{key}]" if prefix else str(key), item, out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            form_pairs(f"{prefix}[{index}]", item, out)
    elif isinstance(value, bool):
        out.append((prefix, "true" if value else "false"))
    elif value is not None:
        out.append((prefix, str(value)))
    return out


class InProcessStripe:
    """Requests handed to the emulator's request handler directly: the full request path (keys,
    idempotency, validation, the endpoint) without a socket."""

    def __init__(self, emulator: StripeEmulator) -> None:
        self._emulator = emulator
        self._auth = f"Bearer {emulator.api_key}"

    def post(self, path: str, params: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        headers = {
            "authorization": self._auth,
            "content-type": "application/x-www-form-urlencoded",
            "idempotency-key": idempotency_key,
        }
        body = urlencode(form_pairs("", params, [])).encode()
        answer = self._emulator.handle(HttpRequest("POST", path, {}, headers, body, "127.0.0.1"))
        if not isinstance(answer, HttpResponse) or answer.status != 200:
            detail = answer.body[:300] if isinstance(answer, HttpResponse) else b"dropped"
            raise RuntimeError(f"emulator refused POST {path}: {detail!r}")
        found: dict[str, Any] = json.loads(answer.body)
        return found


@dataclass(frozen=True)
class AccountSnapshot:
    """The filled account: the emulator's SQLite file and the ledger's, with what they hold."""

    stripe_db: Path
    ledger_db: Path
    customers: int
    invoices: int
    lines: int
    seconds: float

    def copy_to(self, folder: Path) -> tuple[Path, Path]:
        """Fresh copies for one run: (emulator db, ledger db)."""
        folder.mkdir(parents=True, exist_ok=True)
        stripe_db, ledger_db = folder / "stripe.sqlite", folder / "ledger.sqlite"
        shutil.copyfile(self.stripe_db, stripe_db)
        shutil.copyfile(self.ledger_db, ledger_db)
        return stripe_db, ledger_db


def scratch_root() -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() else Path("/tmp")


@dataclass
class _Rows:
    """The ledger rows of the records created so far (written in bulk at the end)."""

    partition: str
    now: datetime
    mappings: list[dict[str, Any]]
    audits: list[dict[str, Any]]

    def add(
        self,
        kind: str,
        key: str,
        record: JdeCustomer | JdeInvoice,
        change_hash: str,
        idem: str,
        stripe_id: str,
    ) -> None:
        version = _version(record)
        self.mappings.append(
            {
                "object_type": kind,
                "jde_key": key,
                "stripe_id": stripe_id,
                "content_hash": change_hash,
                "jde_version": version,
                "last_run_id": PREPOPULATE_RUN,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        self.audits.append(
            {
                "at": self.now,
                "run_id": PREPOPULATE_RUN,
                "partition_key": self.partition,
                "object_type": kind,
                "record_key": key,
                "jde_version": version,
                "payload_hash": change_hash,
                "action": "create",
                "idempotency_key": idem,
                "stripe_request_id": None,
                "stripe_id": stripe_id,
                "outcome": "created",
                "reason": None,
                "attempt": 1,
            }
        )


def prepopulate(
    folder: Path, ais_url: str, day: datetime, env: Mapping[str, str], api_key: str
) -> AccountSnapshot:
    """Every record stamped on `day` into a new emulator db and ledger under `folder`."""
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    stripe_db, ledger_db = folder / "stripe.sqlite", folder / "ledger.sqlite"
    emulator = StripeEmulator(StripeEmulatorConfig(api_keys=(api_key,), profile="off"))
    stripe = InProcessStripe(emulator)
    settings = AisSettings.from_values(
        url=ais_url, username="JDE", password="JDE", environment="JDV920", timezone=env["JDE_TIMEZONE"]
    )
    window = UpdateWindow(day, day + timedelta(days=1))
    parsed = Settings.from_env(env)
    customer_config, invoice_config = parsed.customer_mapping, parsed.invoice_mapping
    rows = _Rows(day.date().isoformat(), datetime.now(UTC), [], [])
    customers: dict[int, str] = {}
    invoices = lines = 0
    with AisSession(settings, page_size=PAGE_SIZE) as session:
        for record in extract_customers(session, window):
            if isinstance(record, JdeCustomer):
                request = map_customer(record, customer_config)
                if isinstance(request, CustomerRequest):
                    customers[record.an8] = _create_customer(stripe, rows, record, request)
        profile = invoice_profile(parsed.jde.invoice_source)
        for invoice in extract_invoices(session, window, profile):
            if not isinstance(invoice, JdeInvoice):
                continue
            mapped = map_invoice(invoice, invoice_config)
            if isinstance(mapped, InvoiceRequest) and mapped.customer_an8 in customers:
                linked = mapped.with_customer(customers[mapped.customer_an8])
                _create_invoice(stripe, rows, invoice, linked)
                invoices += 1
                lines += len(linked.lines)
    _persist_emulator(emulator, stripe_db)
    _write_ledger(f"sqlite:///{ledger_db}", rows)
    return AccountSnapshot(
        stripe_db, ledger_db, len(customers), invoices, lines, time.perf_counter() - started
    )


def _persist_emulator(emulator: StripeEmulator, path: Path) -> None:
    """The emulator's objects in its own SQLite format, one transaction (what `db_path` loads), in the
    emulator's default account (the bench's one key)."""
    stores = Stores(path, legacy_account=DEFAULT_ACCOUNT)
    try:
        store = stores.of(DEFAULT_ACCOUNT)
        for kind in KINDS:
            for obj in emulator.objects(kind):
                store.put(kind, obj)
        store.flush()
    finally:
        stores.close()
        emulator.close()


def _write_ledger(url: str, rows: _Rows) -> None:
    Ledger.open(url).close()  # the schema, as the engine's ledger has it
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if rows.mappings:  # the default Stripe account's rows (the bench's one key)
                account = {"account": DEFAULT_LEDGER_ACCOUNT}
                connection.execute(mapping.insert(), [{**m, **account} for m in rows.mappings])
                connection.execute(audit.insert(), [{**a, **account} for a in rows.audits])
                intents = getattr(schema, "intent", None)
                if intents is not None:  # a ledger with intent rows keeps one per record, Stripe id known
                    connection.execute(
                        intents.insert(), [{**_intent_row(m), **account} for m in rows.mappings]
                    )
    finally:
        engine.dispose()
    with Ledger.open(url) as ledger:
        for kind in ("customer", "invoice"):
            keys = [m["jde_key"] for m in rows.mappings if m["object_type"] == kind]
            found = ledger.get_mappings(kind, keys)
            if len(found) != len(keys):
                raise RuntimeError(
                    f"ledger pre-population: {len(found)} of {len(keys)} {kind} mappings read back"
                )


def _intent_row(mapped: Mapping[str, Any]) -> dict[str, Any]:
    """What the ledger's own upgrade writes for a mapped record (schema 2 of the `engine` branch)."""
    return {
        "object_type": mapped["object_type"],
        "record_key": mapped["jde_key"],
        "stripe_id": mapped["stripe_id"],
        "attempt": 1,
        "updated_at": mapped["updated_at"],
    }


def _version(record: JdeCustomer | JdeInvoice) -> datetime | None:
    stamp = record.updated_at
    return stamp.replace(tzinfo=None) if stamp is not None and stamp.tzinfo is not None else stamp


def _create_customer(
    stripe: InProcessStripe, rows: _Rows, record: JdeCustomer, request: CustomerRequest
) -> str:
    key = idempotency_key("customer", request.record_key, "create", request.content_hash)
    created = stripe.post("/v1/customers", request.params(), key)
    rows.add("customer", request.record_key, record, request.change_hash, key, str(created["id"]))
    return str(created["id"])


def _create_invoice(
    stripe: InProcessStripe, rows: _Rows, record: JdeInvoice, request: InvoiceRequest
) -> None:
    key = idempotency_key("invoice", request.record_key, "create", request.content_hash)
    created = stripe.post("/v1/invoices", request.params(), key)
    if request.lines:
        lines = {"lines": [line.params() for line in request.lines]}
        add_key = idempotency_key("invoice", request.record_key, "add_lines", request.content_hash)
        stripe.post(f"/v1/invoices/{created['id']}/add_lines", lines, add_key)
    rows.add("invoice", request.record_key, record, request.change_hash, key, str(created["id"]))
