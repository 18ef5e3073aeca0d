"""The `ar_invoice` extract against an independent reading of the sandbox: posted and voided documents
whole (pay items grouped, sales lines from F42119 and F4211, F0018), unposted ones not yet; the window
catches a change in any table read; a bad document is quarantined; the probe reads every table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jde_stripe_pipeline.jde.ar_records import JdeArInvoice, JdeArLine
from jde_stripe_pipeline.jde.probe import changed_update_dates
from jde_stripe_pipeline.jde.profiles import AR_INVOICE, ArInvoiceProfile, invoice_profile
from jde_stripe_pipeline.jde.read import extract_invoices, fetch_invoices
from jde_stripe_pipeline.jde.records import JdeDocumentKey, QuarantinedRecord
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline_tests.jde.ar_expected import changed_documents, expected_ar, minor
from jde_stripe_pipeline_tests.jde.support import AS_OF, served, session_for, upsert_rows

EVERYTHING = UpdateWindow(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))


@pytest.fixture
def world() -> Iterator[tuple[AisSandbox, LoopbackServer]]:
    sandbox = AisSandbox(seed=7, customers=8, invoices=16, as_of=AS_OF)
    with served(sandbox) as server:
        yield sandbox, server


def _extract(server: LoopbackServer, window: UpdateWindow = EVERYTHING) -> list[Any]:
    with session_for(server, page_size=40) as session:
        return list(extract_invoices(session, window, AR_INVOICE))


def test_posted_and_voided_documents_come_whole_and_unposted_ones_wait(
    world: tuple[AisSandbox, LoopbackServer],
) -> None:
    sandbox, server = world
    records = _extract(server)
    expected = expected_ar(sandbox)
    assert all(isinstance(r, JdeArInvoice) for r in records)
    got = {str(r.key): r for r in records}
    assert sorted(got) == sorted(k for k, e in expected.items() if e.state in ("posted", "voided"))
    for key, record in got.items():
        want = expected[key]
        assert (record.kind, record.status, record.document.foreign) == (want.kind, want.state, want.foreign)
        if record.status == "voided":
            continue
        currency = record.document.currency.upper()
        assert minor(record.total, currency) == want.total, key
        assert minor(record.document.tax, currency) == want.tax, key
        assert len(record.document.pay_items) == want.pay_items, key
        assert (record.original and str(record.original)) == want.original, key
        sales = [line for line in record.lines if isinstance(line, JdeArLine) and line.last_status != "980"]
        if sales:
            assert sorted((ln.line_key, minor(ln.amount, currency)) for ln in sales) == list(want.lines), key
    tables = {line.table for r in records for line in r.lines if isinstance(line, JdeArLine)}
    assert tables == {"F42119", "F4211"}
    assert any(r.taxes for r in records) and any(not r.taxes and r.document.tax for r in records)
    foreign = next(r for r in records if r.document.foreign and r.lines)
    assert all(line.currency == foreign.currency for line in foreign.lines)  # FEA in the invoice's currency


def test_a_day_window_catches_a_change_in_any_table_it_reads(
    world: tuple[AisSandbox, LoopbackServer],
) -> None:
    sandbox, server = world
    expected = expected_ar(sandbox)
    days = sorted({r["UPMJ"] for r in sandbox.rows("F03B11")})
    day = dt.date(1900 + days[3] // 1000, 1, 1) + dt.timedelta(days=days[3] % 1000 - 1)
    window = UpdateWindow.days(day, day + dt.timedelta(days=1))
    start, end = window.start, window.end
    got = {str(r.key) for r in _extract(server, window)}
    want = {k for k in changed_documents(sandbox, start, end) if expected[k].state != "unposted"}
    assert got == want and got
    line = next(r for r in sandbox.rows("F42119") if r["DOC"])
    before = dt.datetime.now(_zone()).replace(tzinfo=None, microsecond=0)
    upsert_rows(server, "F42119", [{**_line_key(line), "DSC1": "Renamed in history"}])
    after = dt.datetime.now(_zone()).replace(tzinfo=None) + dt.timedelta(seconds=1)
    latest = _extract(server, UpdateWindow(before, after))
    key = f"{line['KCO']}/{line['DOC']}/{line['DCT']}/000"
    assert [str(r.key) for r in latest] == [key]
    assert any(ln.description == "Renamed in history" for ln in latest[0].lines)


def _zone() -> ZoneInfo:
    return ZoneInfo("America/Chicago")


def _line_key(line: dict[str, Any]) -> dict[str, Any]:
    return {"KCOO": line["KCOO"], "DOCO": line["DOCO"], "DCTO": line["DCTO"], "LNID": str(line["LNID"])}


def test_pay_items_that_disagree_quarantine_the_document_and_fetch_rereads_it(
    world: tuple[AisSandbox, LoopbackServer],
) -> None:
    sandbox, server = world
    row = next(
        r for r in sandbox.rows("F03B11") if r["DCT"] == "RI" and r["SFX"] == "001" and r["POST"] == "D"
    )
    second = {**{k: row[k] for k in ("DOC", "DCT", "KCO")}, "SFX": "009", "AN8": row["AN8"] + 1, "POST": "D"}
    upsert_rows(
        server, "F03B11", [{**second, "AG": "1.00", "CRCD": row["CRCD"], "BCRC": row["BCRC"], "CRRM": "D"}]
    )
    key = JdeDocumentKey(kcoo=row["KCO"], doco=row["DOC"], dcto="RI")
    with session_for(server) as session:
        [record] = list(fetch_invoices(session, AR_INVOICE, [key]))
    assert isinstance(record, QuarantinedRecord)
    assert (record.record_key, record.field) == (str(key), "F03B11.RPAN8")
    assert "pay items disagree" in record.reason


def test_the_probe_reads_the_stamps_of_every_table_the_profile_reads(
    world: tuple[AisSandbox, LoopbackServer],
) -> None:
    _, server = world
    with session_for(server) as session:
        probe = changed_update_dates(
            session, dt.datetime(2026, 10, 1), dt.datetime(2026, 12, 1), AR_INVOICE.tables
        )
    assert set(probe.rows) == {"F03B11", "F42119", "F4211", "F0018"}
    assert all(count > 0 for count in probe.rows.values()) and probe.latest


def test_the_profile_is_selectable_and_its_document_types_configurable() -> None:
    settings = AisSettings.from_values(
        url="http://127.0.0.1:1",
        username="JDE",
        password="JDE",
        environment="JDV920",
        timezone="UTC",
        invoice_source="ar_invoice",
    )
    profile = invoice_profile(settings.invoice_source, ar_invoice_types=("RI", "RR"))
    assert isinstance(profile, ArInvoiceProfile)
    assert (profile.invoice_types, profile.credit_memo_types) == (("RI", "RR"), ("RM",))
    assert [spec.name for spec in profile.reads] == ["F03B11", "F42119", "F4211", "F0018"]
    assert invoice_profile("ar_invoice").document_types == ("RI", "RM")
