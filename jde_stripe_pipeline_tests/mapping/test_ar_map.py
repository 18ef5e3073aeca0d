"""An A/R document (`ar_invoice`) → its Stripe request: the draft with JDE's due date and tax, a credit
note for a memo, a void; refusals name the field; the settings that steer memos."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from jde_stripe_pipeline.errors import ConfigurationError
from jde_stripe_pipeline.jde.ar_documents import ArDocument, ArPayItem
from jde_stripe_pipeline.jde.ar_records import JdeArInvoice, JdeArLine, JdeArTax
from jde_stripe_pipeline.jde.profiles import ArInvoiceProfile
from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline.mapping import InvoiceMappingConfig, MappingConfigError, MappingFailure, map_invoice
from jde_stripe_pipeline.mapping.ar_map import ar_figures
from jde_stripe_pipeline.mapping.ar_requests import ArVoid, CreditNoteRequest
from jde_stripe_pipeline.mapping.requests import InvoiceRequest
from jde_stripe_pipeline.settings import Settings

CONFIG = InvoiceMappingConfig(timezone="America/Chicago")
KEY = JdeDocumentKey(kcoo="00001", doco=700001, dcto="RI")
STAMP = datetime(2026, 11, 3, 9, 30)


def _item(sfx: str, gross: str, tax: str, remark: str = "") -> ArPayItem:
    taxable = Decimal(gross) - Decimal(tax) if Decimal(tax) else Decimal(0)
    return ArPayItem(sfx, Decimal(gross), Decimal(tax), taxable, "IL-COOK", "S", remark, date(2026, 12, 3))


def _record(*items: ArPayItem, key: JdeDocumentKey = KEY, **changes: Any) -> JdeArInvoice:
    document = ArDocument(key, "posted", 4242, "usd", False, date(2026, 11, 2), date(2026, 12, 3), items)
    values: dict[str, Any] = {
        "profile": "ar_invoice",
        "header_table": "F03B11",
        "detail_table": "F42119",
        "key": key,
        "an8": 4242,
        "document_date": date(2026, 11, 2),
        "currency": "USD",
        "total": document.gross,
        "updated_at": STAMP,
        "kind": "credit_memo" if key.dcto == "RM" else "invoice",
        "status": "posted",
        "document": document,
    }
    return JdeArInvoice.model_validate({**values, **changes})


def _line(lnid: str, amount: str, taxable: bool = True, status: str = "620") -> JdeArLine:
    return JdeArLine(
        lnid=Decimal(lnid),
        item="100-200",
        description="Steel bracket",
        quantity=Decimal(2),
        unit_of_measure="EA",
        unit_price=Decimal(amount) / 2,
        amount=Decimal(amount),
        last_status=status,
        currency="USD",
        updated_at=STAMP,
        table="F42119",
        order=JdeDocumentKey(kcoo="00001", doco=7001, dcto="SO"),
        taxable=taxable,
    )


def test_pay_items_become_lines_with_their_own_tax_due_date_and_number() -> None:
    request = map_invoice(
        _record(_item("001", "108.25", "8.25", "Retainer"), _item("002", "50.00", "0")), CONFIG
    )
    assert isinstance(request, InvoiceRequest)
    assert (request.number, request.due_date, request.days_until_due) == ("RI-700001-00001", 1796277600, None)
    assert request.with_customer("cus_1").params()["due_date"] == 1796277600  # 2026-12-03 00:00 CST
    first, second = request.lines
    assert (first.lnid, first.amount, first.description) == ("SFX 001", 10000, "Retainer")
    assert first.metadata["jde_tax_source"] == "F03B11" and first.tax_amounts
    assert first.tax_amounts[0]["amount"] == 825
    assert first.tax_amounts[0]["tax_rate_data"]["percentage"] == "8.2500"
    assert (second.amount, second.tax_amounts) == (5000, ())
    assert second.update_params("il_1")["tax_amounts"] == ""  # JDE's tax is owned: none clears it
    figures = ar_figures(request)
    assert (figures.subtotal, figures.tax, figures.total) == (15000, 825, 15825)
    assert [c.params() for c in request.custom_fields] == [
        {"name": "JDE invoice", "value": "RI 700001 00001"}
    ]


def test_f0018_gives_the_rate_and_the_pay_items_tax_and_a_mismatch_is_refused() -> None:
    taxes = (JdeArTax(sfx="001", tax=Decimal("8.25"), rate=Decimal("8.250"), tax_area="IL-COOK"),)
    request = map_invoice(_record(_item("001", "108.25", "8.25"), taxes=taxes), CONFIG)
    assert isinstance(request, InvoiceRequest)
    [line] = request.lines
    assert line.metadata["jde_tax_source"] == "F0018"
    assert line.tax_amounts and line.tax_amounts[0]["tax_rate_data"]["percentage"] == "8.250"
    wrong = (JdeArTax(sfx="001", tax=Decimal("8.00"), rate=Decimal("8.250")),)
    failure = map_invoice(_record(_item("001", "108.25", "8.25"), taxes=wrong), CONFIG)
    assert isinstance(failure, MappingFailure)
    assert failure.record_key == "00001/700001/RI/000" and "JDE gross 10825" in failure.reason


def test_sales_lines_share_the_tax_and_cancelled_ones_are_not_billed() -> None:
    lines = (
        _line("1.000", "60.00"),
        _line("2.000", "40.00", taxable=False),
        _line("3.000", "9.00", status="980"),
    )
    request = map_invoice(_record(_item("001", "105.00", "5.00"), lines=lines), CONFIG)
    assert isinstance(request, InvoiceRequest)
    assert [(ln.lnid, ln.amount) for ln in request.lines] == [
        ("SO 7001 00001 1.000", 6000),
        ("SO 7001 00001 2.000", 4000),
    ]
    assert [len(ln.tax_amounts or ()) for ln in request.lines] == [1, 0]
    assert request.lines[0].metadata["jde_quantity"] == "2" and request.total_minor == 10000
    failure = map_invoice(_record(_item("001", "105.00", "5.00"), lines=lines[1:2]), CONFIG)
    assert isinstance(failure, MappingFailure) and "no taxable line" in failure.reason


def test_a_credit_memo_is_a_credit_note_on_its_original_unless_the_site_names_none() -> None:
    memo_key = JdeDocumentKey(kcoo="00001", doco=950001, dcto="RM")
    memo = _record(_item("001", "-21.65", "-1.65", "Damaged"), key=memo_key, original=KEY)
    request = map_invoice(memo, CONFIG)
    assert isinstance(request, CreditNoteRequest)
    assert (request.original_key, request.total_minor, request.tax_minor) == (KEY, 2165, 165)
    params = request.params("in_1", tax_rate="txr_1", out_of_band=True)
    assert params["out_of_band_amount"] == 2165 and params["metadata"]["jde_credit_memo"] == str(memo_key)
    assert params["lines"][0]["tax_amounts"] == [{"amount": 165, "taxable_amount": 2000, "tax_rate": "txr_1"}]
    assert [
        ln["unit_amount"] for ln in request.params("in_1", tax_rate=None, out_of_band=False)["lines"]
    ] == [
        2000,
        165,
    ]
    unlinked = map_invoice(memo, replace(CONFIG, credit_memo_original="none"))
    assert isinstance(unlinked, CreditNoteRequest) and unlinked.original_key is None
    assert "JDE_STRIPE_CREDIT_MEMO_ORIGINAL=none" in unlinked.why_no_original
    positive = map_invoice(_record(_item("001", "5.00", "0"), key=memo_key), CONFIG)
    assert isinstance(positive, MappingFailure) and positive.field == "F03B11.RPAG"


def test_a_voided_document_is_a_void_and_a_missing_due_date_is_refused() -> None:
    voided = map_invoice(_record(_item("001", "0", "0"), status="voided"), CONFIG)
    assert isinstance(voided, ArVoid) and "voided in JDE" in voided.reason
    document = replace(_record(_item("001", "10.00", "0")).document, due_date=None)
    failure = map_invoice(_record(_item("001", "10.00", "0"), document=document), CONFIG)
    assert isinstance(failure, MappingFailure) and failure.field == "F03B11.RPDDJ"


def test_memo_and_document_type_settings_are_read_once_and_checked() -> None:
    env = {"JDE_TIMEZONE": "America/Chicago", "JDE_STRIPE_CREDIT_MEMO_ON_DRAFT": "converge"}
    settings = Settings.from_env(
        {
            **env,
            "JDE_INVOICE_SOURCE": "ar_invoice",
            "JDE_STRIPE_CREDIT_MEMO_ORIGINAL": "none",
            "JDE_AR_INVOICE_TYPES": "RI, RR",
        }
    )
    config = settings.invoice_mapping
    assert (config.credit_memo_on_draft, config.credit_memo_original) == ("converge", "none")
    profile = settings.jde.profile()
    assert isinstance(profile, ArInvoiceProfile)
    assert (profile.invoice_types, profile.credit_memo_types) == (("RI", "RR"), ("RM",))
    for variable in ("JDE_STRIPE_CREDIT_MEMO_ON_DRAFT", "JDE_STRIPE_CREDIT_MEMO_ORIGINAL"):
        with pytest.raises(ConfigurationError) as raised:
            Settings.from_env({**env, variable: "apply"})
        assert str(raised.value).startswith(variable)
    with pytest.raises(MappingConfigError, match="credit_memo_on_draft"):
        InvoiceMappingConfig(credit_memo_on_draft="apply")  # type: ignore[arg-type]
    assert InvoiceMappingConfig(number_template="{DCT}/{DOC}/{KCO}").number_template == "{DCT}/{DOC}/{KCO}"
