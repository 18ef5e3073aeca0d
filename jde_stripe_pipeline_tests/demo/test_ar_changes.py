"""`jde-stripe demo --source ar_invoice`'s JDE edits, against a served AIS sandbox: a void the extract
reads as voided, a remark correction, a renamed customer (the whole demo runs `make demo`-long, so
it is run by hand: `jde-stripe demo --source ar_invoice`)."""

from __future__ import annotations

import datetime as dt

import requests
from click.testing import CliRunner

from jde_stripe_pipeline.demo.ar_changes import ledger_key, make_ar_changes
from jde_stripe_pipeline.demo.cli import demo_command
from jde_stripe_pipeline.jde.ar_records import JdeArInvoice
from jde_stripe_pipeline.jde.profiles import AR_INVOICE
from jde_stripe_pipeline.jde.read import fetch_invoices
from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.ais.admin_client import AisAdmin
from jde_stripe_pipeline_tests.jde.support import served, session_for


def test_the_ar_edits_void_one_invoice_correct_a_remark_and_rename_a_customer() -> None:
    sandbox = AisSandbox(seed=7, customers=8, invoices=16, as_of=dt.date(2026, 11, 26))
    synced = {ledger_key(r) for r in sandbox.rows("F03B11") if r["POST"] == "D" and r["ISTR"] != "1"}
    customers = {str(r["AN8"]) for r in sandbox.rows("F03012")}
    with served(sandbox) as server, requests.Session() as http:
        applied = make_ar_changes(AisAdmin(server.url, http), synced, customers)
        voided, remarked, renamed = applied.changes
        assert (voided.object_type, remarked.object_type, renamed.object_type) == (
            "invoice",
            "invoice",
            "customer",
        )
        keys = [JdeDocumentKey.parse(change.record_key) for change in (voided, remarked)]
        with session_for(server) as session:
            records = {str(r.key): r for r in fetch_invoices(session, AR_INVOICE, keys)}
    void, corrected = records[voided.record_key], records[remarked.record_key]
    assert isinstance(void, JdeArInvoice) and void.status == "voided"
    assert isinstance(corrected, JdeArInvoice) and corrected.status == "posted"
    assert any(item.remark.endswith("(corrected)") for item in corrected.document.pay_items)
    assert applied.julian_day > 0


def test_the_demo_offers_the_ar_source_and_refuses_others() -> None:
    result = CliRunner().invoke(demo_command, ["--source", "ledger"])
    assert result.exit_code == 2 and "ar_invoice" in result.output
