"""Both sandboxes on loopback, the real clients, a SQLite ledger: the world a sync runs in. No mocks.

`make_world(...)` serves an AIS sandbox and a Stripe emulator and gives a `World` with helpers to
extract, sync, change JDE through the sandbox's admin API and compare Stripe (read through the SDK)
with an independent reading of the sandbox's tables (`jde_stripe_pipeline_tests.jde.support`).

The emulator's rate limit is raised to 1000/s (Stripe's test mode allows 25/s) so tests run at
loopback speed; the pacing itself is the sink's and is tested there. Payment terms `D10`, which the
sandbox seeds and the default mapping does not know, are configured as 10 days.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices, fetch_customers
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.mapping import (
    CustomerMappingConfig,
    CustomerRequest,
    InvoiceMappingConfig,
    InvoiceRequest,
    map_customer,
    map_invoice,
)
from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline.sandboxes.ais.admin_client import AisAdmin
from jde_stripe_pipeline.sandboxes.ais.cli import ais_environment
from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    StripeEmulator,
    StripeEmulatorConfig,
)
from jde_stripe_pipeline.stripe_sink import StripeSink
from jde_stripe_pipeline.sync import SyncEngine, SyncReport
from jde_stripe_pipeline_tests.jde.support import AS_OF, FAST_RETRY, expected_customers, expected_invoices
from jde_stripe_pipeline_tests.stripe_sink.support import loopback_sink

EVERYTHING = UpdateWindow(datetime(2000, 1, 1), datetime(2100, 1, 1))
CUSTOMER_CONFIG = CustomerMappingConfig()
INVOICE_CONFIG = InvoiceMappingConfig(payment_terms_days={"D10": 10})
WRITE_METHODS = ("POST", "DELETE")


@dataclass
class World:
    sandbox: AisSandbox
    ais_url: str
    emulator: StripeEmulator
    stripe_url: str
    tmp_path: Path
    ledger_path: Path
    invoice_config: InvoiceMappingConfig = INVOICE_CONFIG
    runs: int = 0
    _open: list[Any] = field(default_factory=list)

    # -- clients -----------------------------------------------------------------------------------

    @property
    def ledger_url(self) -> str:
        return f"sqlite:///{self.ledger_path}"

    def session(self) -> AisSession:
        return ais_session(self.ais_url)

    def sink(self, **overrides: Any) -> StripeSink:
        sink = loopback_sink(self.stripe_url, **overrides)
        self._open.append(sink)
        return sink

    def ledger(self) -> Ledger:
        ledger = Ledger.open(self.ledger_url)
        self._open.append(ledger)
        return ledger

    def engine(self, *, workers: int = 4, sink: StripeSink | None = None, **kwargs: Any) -> SyncEngine:
        self.runs += 1
        return sync_engine(
            sink or self.sink(),
            kwargs.pop("ledger", None) or self.ledger(),
            kwargs.pop("run_id", f"run-{self.runs}"),
            invoice_config=kwargs.pop("invoice_config", self.invoice_config),
            workers=workers,
            **kwargs,
        )

    def cli_env(self, *, stripe_keys: Mapping[str, str] | None = None, **more: str) -> dict[str, str]:
        """What an operator exports to run `jde-stripe` against this world: the sandboxes' logins, the
        ledger, the seed's `D10` terms and loopback pacing; `stripe_keys` replace the default key
        (`STRIPE_API_KEY_<ACCOUNT>` of routed accounts), `more` adds or replaces variables."""
        return {
            **ais_environment(self.ais_url, self.sandbox.config),
            **({"STRIPE_API_KEY": DEFAULT_API_KEY} if stripe_keys is None else stripe_keys),
            "STRIPE_API_BASE": self.stripe_url,
            "JDE_STRIPE_RATE_PER_SECOND": "500",
            "JDE_STRIPE_ENDPOINT_RATE_PER_SECOND": "500",
            "JDE_STRIPE_STATE_URL": self.ledger_url,
            "JDE_STRIPE_PAYMENT_TERMS_DAYS": "D10=10",
            **more,
        }

    # -- JDE -------------------------------------------------------------------------------------------

    def customers(self) -> list[JdeCustomer | QuarantinedRecord]:
        with self.session() as session:
            return list(extract_customers(session, EVERYTHING, as_of=AS_OF))

    def invoices(self) -> list[JdeInvoice | QuarantinedRecord]:
        with self.session() as session:
            return list(extract_invoices(session, EVERYTHING, PURCHASE_ORDER, as_of=AS_OF))

    def good_invoices(self) -> list[JdeInvoice]:
        return [record for record in self.invoices() if isinstance(record, JdeInvoice)]

    def sync(self, engine: SyncEngine | None = None) -> tuple[SyncReport, SyncReport]:
        engine = engine or self.engine()
        customers = engine.sync_customers(self.customers())
        with self.session() as session:
            invoices = engine.sync_invoices(
                self.invoices(), fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF)
            )
        return customers, invoices

    def upsert(self, table: str, rows: list[dict[str, Any]]) -> None:
        AisAdmin(self.ais_url).upsert(table, rows)

    def delete_rows(self, table: str, match: dict[str, Any]) -> None:
        assert AisAdmin(self.ais_url).delete(table, match) >= 1, f"no row of {table} matches {match}"

    # -- Stripe ----------------------------------------------------------------------------------------

    def writes(self) -> list[dict[str, Any]]:
        return [e for e in self.emulator.requests_log(path_prefix="/v1/") if e["method"] in WRITE_METHODS]

    def stripe_customers(self) -> list[dict[str, Any]]:
        return list(self.sink().list_customers())

    def stripe_invoices(self) -> list[dict[str, Any]]:
        return list(self.sink().list_invoices())

    def stripe_lines(self, invoice_id: str) -> list[dict[str, Any]]:
        return list(self.sink().list_invoice_lines(invoice_id))

    def close(self) -> None:
        for thing in reversed(self._open):
            thing.close()


def ais_session(url: str) -> AisSession:
    """A session on the AIS sandbox at `url` with its default login, retrying fast."""
    settings = AisSettings.from_values(
        url=url, username="JDE", password="JDE", environment="JDV920", timezone="America/Chicago"
    )
    return AisSession(settings, retry=FAST_RETRY, page_size=500)


def sync_engine(stripe: StripeSink, ledger: Ledger, run_id: str, **options: Any) -> SyncEngine:
    """An engine with the tests' mapping, on the seed's day (`options`: workers, invoice_config, …)."""
    return SyncEngine(
        stripe=stripe,
        ledger=ledger,
        customer_config=CUSTOMER_CONFIG,
        run_id=run_id,
        partition_key=AS_OF.isoformat(),
        **{"invoice_config": INVOICE_CONFIG, "workers": 4, **options},
    )


def sync_extracted(engine: SyncEngine, session: AisSession) -> tuple[SyncReport, SyncReport]:
    """One whole run as the assets do it: every invoice (with the customers they name), then every
    customer, each extracted through `session` before it is synced."""
    invoices = engine.sync_invoices(
        list(extract_invoices(session, EVERYTHING, PURCHASE_ORDER, as_of=AS_OF)),
        fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF),
    )
    customers = engine.sync_customers(list(extract_customers(session, EVERYTHING, as_of=AS_OF)))
    return customers, invoices


@contextlib.contextmanager
def make_world(
    tmp_path: Path,
    *,
    seed: int = 7,
    customers: int = 20,
    invoices: int = 40,
    emulator_config: StripeEmulatorConfig | None = None,
) -> Iterator[World]:
    sandbox = AisSandbox(
        seed=seed, customers=customers, invoices=invoices, as_of=AS_OF, config=AisSandboxConfig()
    )
    emulator = StripeEmulator(
        emulator_config or StripeEmulatorConfig(rate_limit_per_second=1000.0, search_lag_seconds=0.0)
    )
    try:
        with sandbox.serve() as ais, emulator.serve(port=0) as stripe_server:
            world = World(sandbox, ais.url, emulator, stripe_server.url, tmp_path, tmp_path / "state.sqlite")
            try:
                yield world
            finally:
                world.close()
    finally:
        sandbox.close()
        emulator.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with make_world(tmp_path) as built:
        yield built


# ---------------------------------------------------------------- Stripe equals JDE, independently read


def expected_requests(
    world: World,
) -> tuple[dict[str, CustomerRequest], dict[str, InvoiceRequest], set[str]]:
    """What Stripe must hold, from a direct read of the sandbox's tables (not through the extract):
    customers by AN8, billable invoices by document key, and the keys of all-cancelled documents."""
    start, end = EVERYTHING.start, EVERYTHING.end
    customers: dict[str, CustomerRequest] = {}
    for record in expected_customers(world.sandbox, start, end, AS_OF):
        mapped = map_customer(record, CUSTOMER_CONFIG)
        if isinstance(mapped, CustomerRequest):
            customers[mapped.record_key] = mapped
    invoices: dict[str, InvoiceRequest] = {}
    nothing_to_bill: set[str] = set()
    for invoice in expected_invoices(world.sandbox, start, end, AS_OF):
        mapped_invoice = map_invoice(invoice, world.invoice_config)
        if isinstance(mapped_invoice, InvoiceRequest) and str(mapped_invoice.customer_an8) in customers:
            invoices[mapped_invoice.record_key] = mapped_invoice
        elif not isinstance(mapped_invoice, InvoiceRequest) and hasattr(mapped_invoice, "document_key"):
            nothing_to_bill.add(mapped_invoice.record_key)
    return customers, invoices, nothing_to_bill


def assert_stripe_matches_jde(world: World, *, ignore_invoices: set[str] | None = None) -> None:
    """Every customer once, every billable invoice once, with its number, date, currency, lines and
    amounts to the minor unit; no other object carrying `jde_*` metadata."""
    customers, invoices, nothing_to_bill = expected_requests(world)
    ignore = ignore_invoices or set()
    stripe_customers = world.stripe_customers()
    by_an8: dict[str, list[dict[str, Any]]] = {}
    for customer in stripe_customers:
        if "jde_an8" not in customer["metadata"]:
            continue  # a person's customer, not the sync's
        by_an8.setdefault(customer["metadata"]["jde_an8"], []).append(customer)
    assert sorted(by_an8) == sorted(customers)
    duplicates = {an8: [c["id"] for c in found] for an8, found in by_an8.items() if len(found) > 1}
    assert duplicates == {}
    for an8, request in customers.items():
        customer = by_an8[an8][0]
        assert (customer["name"], customer["email"], customer["metadata"]) == (
            request.name,
            request.email,
            dict(request.metadata),
        ), an8
    cus_by_an8 = {an8: found[0]["id"] for an8, found in by_an8.items()}

    by_key: dict[str, list[dict[str, Any]]] = {}
    for invoice in world.stripe_invoices():
        meta = invoice["metadata"]
        if "jde_kcoo" not in meta:
            continue
        key = f"{meta['jde_kcoo']}/{meta['jde_doco']}/{meta['jde_dcto']}/{meta['jde_sfxo']}"
        if key not in ignore:
            by_key.setdefault(key, []).append(invoice)
    assert not set(by_key) & nothing_to_bill
    assert sorted(by_key) == sorted(k for k in invoices if k not in ignore)
    assert {k: len(v) for k, v in by_key.items() if len(v) > 1} == {}
    for key, found in by_key.items():
        _assert_invoice(world, found[0], invoices[key], cus_by_an8[str(invoices[key].customer_an8)])


def assert_invoices_match_jde(world: World, stripe_ids: dict[str, str]) -> None:
    """The given invoices (JDE key → Stripe id), each read through the SDK, equal JDE's."""
    customers = {c["metadata"]["jde_an8"]: c["id"] for c in world.stripe_customers() if c["metadata"]}
    _, invoices, _ = expected_requests(world)
    sink = world.sink()
    for key, stripe_id in stripe_ids.items():
        request = invoices[key]
        _assert_invoice(
            world, sink.retrieve_invoice(stripe_id).object, request, customers[str(request.customer_an8)]
        )


def _unstamped(metadata: Any) -> dict[str, Any]:
    return {key: value for key, value in dict(metadata).items() if key != "jde_updated_at"}


def _assert_invoice(world: World, invoice: dict[str, Any], request: InvoiceRequest, customer_id: str) -> None:
    key = request.record_key
    assert invoice["status"] == "draft"
    assert invoice["customer"] == customer_id
    # JDE's version stamp moves with a change of the header's own fields only (not with lines alone)
    assert (
        invoice["number"],
        invoice["effective_at"],
        invoice["currency"],
        _unstamped(invoice["metadata"]),
    ) == (
        request.number,
        request.effective_at,
        request.currency,
        _unstamped(request.metadata),
    ), key
    lines = world.stripe_lines(invoice["id"]) if invoice["lines"]["has_more"] else invoice["lines"]["data"]
    got = sorted((ln["metadata"]["jde_lnid"], ln["amount"], ln["description"]) for ln in lines)
    want = sorted((ln.lnid, ln.amount, ln.description) for ln in request.lines)
    assert got == want, key
    assert invoice["total"] == request.total_minor, key
