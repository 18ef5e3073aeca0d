"""F03B11 pay items grouped into A/R documents: posted/unposted/voided, currency mode, errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.jde.ar_documents import ar_documents
from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline_tests.jde.support import pay_item_row


def _row(doc: int, sfx: str, **extra: Any) -> dict[str, object]:
    domestic = {
        "ISTR": " ",
        "VOD": " ",
        "CRRM": "D",
        "BCRC": "USD",
        "CRCD": "USD",
        "AG": Decimal("108.25"),
        "STAM": Decimal("8.25"),
        "ATXA": Decimal("100.00"),
        "TXA1": "CO-DEN",
        "EXR1": "S",
        "RMK": f"pay item {sfx}",
    }
    return pay_item_row(doc, sfx, **{**domestic, **extra})


def test_pay_items_group_into_one_posted_document_with_sums_and_earliest_due() -> None:
    rows = [_row(1001, "002", DDJ=date(2027, 1, 2)), _row(1001, "001")]
    [document], errors = ar_documents(rows)
    assert errors == []
    assert document.key == JdeDocumentKey(kcoo="00001", doco=1001, dcto="RI", sfxo="000")
    assert document.status == "posted"
    assert [item.sfx for item in document.pay_items] == ["001", "002"]
    assert (document.gross, document.tax) == (Decimal("216.50"), Decimal("16.50"))
    assert (document.invoice_date, document.due_date) == (date(2026, 11, 2), date(2026, 12, 2))
    assert document.currency == "usd"


def test_one_unposted_pay_item_holds_the_document_back() -> None:
    [document], _ = ar_documents([_row(1002, "001"), _row(1002, "002", POST=" ")])
    assert document.status == "unposted"


def test_voided_pay_items_drop_and_an_all_void_document_is_voided() -> None:
    partly, _ = ar_documents([_row(1003, "001"), _row(1003, "002", ISTR="1", AG=Decimal(0), POST=" ")])
    assert partly[0].status == "posted"
    assert [item.sfx for item in partly[0].pay_items] == ["001"]
    voided, _ = ar_documents([_row(1004, "001", VOD="V", AG=Decimal(0))])
    assert (voided[0].status, voided[0].pay_items) == ("voided", ())


def test_foreign_mode_uses_foreign_amounts_and_transaction_currency() -> None:
    row = _row(1005, "001", CRRM="F", CRCD="JPY", ACR=Decimal(16240), CTAM=Decimal(1240))
    [document], _ = ar_documents([row])
    assert (document.currency, document.foreign) == ("jpy", True)
    assert (document.gross, document.tax) == (Decimal(16240), Decimal(1240))


def test_only_configured_document_types_and_disagreeing_pay_items_are_errors() -> None:
    rows = [_row(1006, "001", DCT="RM"), _row(1007, "001"), _row(1007, "002", AN8=9999)]
    documents, errors = ar_documents(rows)
    assert documents == []
    assert [(e.key.doco, e.field) for e in errors] == [(1007, "F03B11.RPAN8")]
    credit_memos, _ = ar_documents(rows[:1], document_types=("RM",))
    assert [d.key.dcto for d in credit_memos] == ["RM"]
