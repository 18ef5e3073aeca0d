"""Row validation and the pure joins that make customers and invoices (quarantine, never raise)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from jde_stripe_pipeline.jde.assemble import assemble_customer, assemble_invoice
from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER, SALES_ORDER
from jde_stripe_pipeline.jde.records import (
    JdeAddress,
    JdeCustomer,
    JdeDocumentKey,
    JdeInvoice,
    JdeParty,
    QuarantinedRecord,
)
from jde_stripe_pipeline.jde.rows import RowError, typed_row
from jde_stripe_pipeline.jde.tables import F03012, ColumnType, TableSpec

AS_OF = date(2026, 11, 26)


def _f03012(**over: Any) -> dict[str, Any]:
    row = {
        "AN8": 4242,
        "CO": "00001",
        "CRCD": "USD",
        "TRAR": "N30",
        "ACL": Decimal("5000.00"),
        "HDAR": "",
        "UPMJ": "20261120",
        "UPMT": 101500,
    }
    return {**row, **over}


def _customer_rows(**tables: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    rows = {
        "F03012": [_f03012()],
        "F0101": [
            {
                "AN8": 4242,
                "ALPH": "Acme Corp",
                "ALKY": "",
                "TAX": "12-345",
                "AT1": "C",
                "LNGP": "",
                "UPMJ": "20261101",
                "UPMT": 80000,
            }
        ],
        "F0116": [
            {
                "AN8": 4242,
                "EFTB": "20200101",
                "ADD1": "1 Old Rd",
                "ADD2": "",
                "ADD3": "",
                "ADD4": "",
                "CTY1": "Austin",
                "ADDS": "TX",
                "ADDZ": "73301",
                "CTR": "US",
                "COUN": "",
                "UPMJ": "20200101",
                "UPMT": 0,
            },
            {
                "AN8": 4242,
                "EFTB": "20261101",
                "ADD1": "2 New St",
                "ADD2": "Suite 5",
                "ADD3": "",
                "ADD4": "",
                "CTY1": "Dallas",
                "ADDS": "TX",
                "ADDZ": "75201",
                "CTR": "US",
                "COUN": "",
                "UPMJ": "20261125",
                "UPMT": 235959,
            },
            {
                "AN8": 4242,
                "EFTB": "20270101",
                "ADD1": "3 Future Ave",
                "ADD2": "",
                "ADD3": "",
                "ADD4": "",
                "CTY1": "Houston",
                "ADDS": "TX",
                "ADDZ": "77001",
                "CTR": "US",
                "COUN": "",
                "UPMJ": "20261110",
                "UPMT": 0,
            },
        ],
        "F01151": [
            {
                "AN8": 4242,
                "IDLN": 0,
                "RCK7": 2,
                "ETP": "E",
                "EMAL": "second@acme.example",
                "UPMJ": "20261101",
                "UPMT": 0,
            },
            {
                "AN8": 4242,
                "IDLN": 0,
                "RCK7": 1,
                "ETP": "E",
                "EMAL": "billing@acme.example",
                "UPMJ": "20261101",
                "UPMT": 0,
            },
            {
                "AN8": 4242,
                "IDLN": 0,
                "RCK7": 0,
                "ETP": "I",
                "EMAL": "http://acme.example",
                "UPMJ": "20261101",
                "UPMT": 0,
            },
        ],
        "F0115": [
            {
                "AN8": 4242,
                "IDLN": 0,
                "RCK7": 1,
                "PHTP": "FAX",
                "AR1": "512",
                "PH1": "555-0000",
                "UPMJ": "20261101",
                "UPMT": 0,
            },
            {
                "AN8": 4242,
                "IDLN": 0,
                "RCK7": 2,
                "PHTP": "",
                "AR1": "512",
                "PH1": "555-0100",
                "UPMJ": "20261101",
                "UPMT": 0,
            },
        ],
    }
    return {**rows, **tables}


def test_typed_row_refuses_floats_and_names_the_column() -> None:
    spec = F03012
    assert typed_row(spec, _f03012())["ACL"] == Decimal("5000.00")
    with pytest.raises(RowError) as caught:
        typed_row(spec, _f03012(ACL=5000.0))
    assert caught.value.field == "F03012.ACL"
    with pytest.raises(RowError) as caught:
        typed_row(spec, _f03012(UPMJ="11/20/2026"))
    assert caught.value.field == "F03012.UPMJ"
    with pytest.raises(RowError) as caught:
        typed_row(spec, _f03012(AN8=Decimal("4242.5")))
    assert caught.value.field == "F03012.AN8"
    missing = _f03012()
    del missing["TRAR"]
    with pytest.raises(RowError, match="missing"):
        typed_row(spec, missing)


def test_each_spec_types_its_rows_by_its_own_columns() -> None:
    """Column parsers are cached per spec object: two specs of one table typing a column apart
    still type it apart, however many specs have been built on the fly."""
    row = {"K": 1, "V": 5}
    for _ in range(300):
        as_text = TableSpec("FX", key=("K",), columns={"K": ColumnType.INT, "V": ColumnType.TEXT})
        as_number = TableSpec("FX", key=("K",), columns={"K": ColumnType.INT, "V": ColumnType.DECIMAL})
        assert typed_row(as_text, row) == {"K": 1, "V": "5"}
        assert typed_row(as_number, row) == {"K": 1, "V": Decimal(5)}


def test_customer_is_the_full_current_state() -> None:
    customer = assemble_customer(4242, _customer_rows(), as_of=AS_OF)
    assert customer == JdeCustomer(
        an8=4242,
        company="00001",
        name="Acme Corp",
        tax_id="12-345",
        address=JdeAddress(
            lines=("2 New St", "Suite 5"), city="Dallas", state="TX", postal_code="75201", country="US"
        ),
        email="billing@acme.example",
        phone="512 555-0100",
        currency="USD",
        payment_terms="N30",
        language=None,
        updated_at=datetime(2026, 11, 25, 23, 59, 59),
    )


def test_customer_company_choice_is_deterministic() -> None:
    rows = _customer_rows(F03012=[_f03012(CO="00200", CRCD="EUR"), _f03012(CO="00001", CRCD="USD")])
    lowest = assemble_customer(4242, rows, as_of=AS_OF)
    assert isinstance(lowest, JdeCustomer) and (lowest.company, lowest.currency) == ("00001", "USD")
    preferred = assemble_customer(4242, rows, as_of=AS_OF, companies=["00200", "00001"])
    assert isinstance(preferred, JdeCustomer) and (preferred.company, preferred.currency) == ("00200", "EUR")


def test_not_a_customer_without_f03012() -> None:
    assert assemble_customer(4242, _customer_rows(F03012=[]), as_of=AS_OF) is None


@pytest.mark.parametrize(
    ("tables", "field"),
    [
        ({"F0101": []}, "F0101.AN8"),
        ({"F03012": [_f03012(CRCD="US")]}, "F03012.CRCD"),
        ({"F03012": [_f03012(UPMT="late")]}, "F03012.UPMT"),
        (
            {
                "F01151": [
                    {
                        "AN8": 4242,
                        "IDLN": 0,
                        "RCK7": 1,
                        "ETP": "E",
                        "EMAL": "not-an-email",
                        "UPMJ": "20261101",
                        "UPMT": 0,
                    }
                ]
            },
            "F01151.EMAL",
        ),
    ],
)
def test_bad_customer_rows_are_quarantined_with_the_field(tables: dict[str, Any], field: str) -> None:
    record = assemble_customer(4242, _customer_rows(**tables), as_of=AS_OF)
    assert isinstance(record, QuarantinedRecord)
    assert (record.kind, record.record_key, record.field) == ("customer", "4242", field)
    assert record.reason


def test_blank_alpha_name_is_quarantined_with_its_raw_row() -> None:
    rows = _customer_rows()
    rows["F0101"][0] = {**rows["F0101"][0], "ALPH": "   "}
    record = assemble_customer(4242, rows, as_of=AS_OF)
    assert isinstance(record, QuarantinedRecord)
    assert record.field == "F0101.ALPH"
    assert record.raw["AN8"] == 4242


KEY = JdeDocumentKey(kcoo="00200", doco=5001, dcto="OP", sfxo="000")


def _header(**over: Any) -> dict[str, Any]:
    row = {
        "KCOO": "00200",
        "DOCO": 5001,
        "DCTO": "OP",
        "SFXO": "000",
        "AN8": 4242,
        "SHAN": 4343,
        "TRDJ": "20261120",
        "DRQJ": "20261201",
        "OTOT": Decimal("150.50"),
        "CRCD": "USD",
        "PTC": "N30",
        "UPMJ": "20261120",
        "TDAY": 90000,
    }
    return {**row, **over}


def _line(lnid: str, aexp: str, **over: Any) -> dict[str, Any]:
    row = {
        "KCOO": "00200",
        "DOCO": 5001,
        "DCTO": "OP",
        "SFXO": "000",
        "LNID": Decimal(lnid),
        "LITM": "WIDGET",
        "DSC1": "Widget",
        "DSC2": "",
        "UORG": Decimal("2"),
        "UOM": "EA",
        "PRRC": Decimal("50.25"),
        "AEXP": Decimal(aexp),
        "LTTR": "400",
        "NXTR": "999",
        "CRCD": "USD",
        "UPMJ": "20261121",
        "TDAY": 101010,
    }
    return {**row, **over}


PARTIES = {4343: JdeParty(an8=4343, name="Acme Warehouse")}


def test_invoice_joins_header_lines_and_ship_to() -> None:
    invoice = assemble_invoice(
        PURCHASE_ORDER, KEY, [_header()], [_line("2.000", "50.00"), _line("1.000", "100.50")], PARTIES
    )
    assert isinstance(invoice, JdeInvoice)
    assert str(invoice.key) == "00200/5001/OP/000"
    assert invoice.ship_to == PARTIES[4343]
    assert invoice.total == Decimal("150.50")
    assert invoice.document_date == date(2026, 11, 20)
    assert [line.lnid for line in invoice.lines] == [Decimal("1.000"), Decimal("2.000")]
    assert invoice.lines[0].unit_price == Decimal("50.25")
    assert invoice.updated_at == datetime(2026, 11, 21, 10, 10, 10)
    assert invoice.payment_terms == "N30" and invoice.profile == "purchase_order"


def test_sales_order_profile_reads_uprc() -> None:
    line = {**_line("1.000", "10"), "UPRC": Decimal("5"), "IVD": "", "DOC": 0, "DCT": ""}
    del line["PRRC"]
    invoice = assemble_invoice(
        SALES_ORDER, JdeDocumentKey(kcoo="00200", doco=5001, dcto="SO"), [_header(DCTO="SO")], [line], PARTIES
    )
    assert isinstance(invoice, JdeInvoice) and invoice.lines[0].unit_price == Decimal("5")


@pytest.mark.parametrize(
    ("header", "lines", "field"),
    [
        ([_header()], [_line("1.000", "100"), _line("2.000", "0", AEXP="oops")], "F4311.AEXP"),
        ([_header()], [_line("1.000", "100", CRCD="EUR")], "F4311.CRCD"),
        ([_header(TRDJ="")], [_line("1.000", "100")], "F4301.TRDJ"),
        ([_header(SHAN=9999)], [_line("1.000", "100")], "F4301.SHAN"),
        ([], [_line("1.000", "100")], "F4301.DOCO"),
        ([_header(CRCD="")], [_line("1.000", "100")], "F4301.CRCD"),
    ],
)
def test_invoice_with_one_bad_row_is_quarantined_whole(
    header: list[dict[str, Any]], lines: list[dict[str, Any]], field: str
) -> None:
    record = assemble_invoice(PURCHASE_ORDER, KEY, header, lines, PARTIES)
    assert isinstance(record, QuarantinedRecord)
    assert (record.kind, record.record_key, record.field) == ("invoice", "00200/5001/OP/000", field)
    assert record.raw


def test_ship_to_equal_to_sold_to_may_be_unresolved() -> None:
    invoice = assemble_invoice(PURCHASE_ORDER, KEY, [_header(SHAN=4242)], [_line("1.000", "1")], {})
    assert isinstance(invoice, JdeInvoice) and invoice.ship_to is None
    no_ship_to = assemble_invoice(PURCHASE_ORDER, KEY, [_header(SHAN=0)], [_line("1.000", "1")], {})
    assert isinstance(no_ship_to, JdeInvoice) and no_ship_to.ship_to is None


@pytest.mark.parametrize(
    ("bad_line", "field", "reason"),
    [
        (_line("2.000", "5", CRCD="EUR"), "F4311.CRCD", "line 2.000 is in EUR, the order in USD"),
        (_line("2.000", "5", UPMJ=" "), "F4311.UPMJ", "line 2.000 has no update date"),
    ],
)
def test_a_bad_line_is_quarantined_with_its_own_raw_row(
    bad_line: dict[str, Any], field: str, reason: str
) -> None:
    """The raw row kept is the failing line's, whatever order the lines came in."""
    lines = [_line("3.000", "1"), bad_line, _line("1.000", "100")]
    record = assemble_invoice(PURCHASE_ORDER, KEY, [_header()], lines, PARTIES)
    assert isinstance(record, QuarantinedRecord)
    assert (record.field, record.reason, record.raw) == (field, reason, bad_line)
