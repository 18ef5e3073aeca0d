"""Bad input by property-based generation (hypothesis): whatever AIS answers and whatever JDE's rows
hold, the extract and the mapping give a record, or a quarantine naming the record and `TABLE.ALIAS`,
and never raise anything else. Pure: no server, a few seconds.

The end-to-end twins (the same kinds of rows planted in the sandbox and synced) are the matrix's
`bad_*` and `malformed_*` scenarios (`make reliability`).
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jde_stripe_pipeline.jde.assemble import assemble_customer, assemble_invoice
from jde_stripe_pipeline.jde.errors import AisError
from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER
from jde_stripe_pipeline.jde.query import parse_grid_page
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeDocumentKey, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.mapping import (
    CustomerMappingConfig,
    CustomerRequest,
    DeleteDraftInvoice,
    InvoiceMappingConfig,
    InvoiceRequest,
    map_customer,
    map_invoice,
)
from jde_stripe_pipeline.mapping.failures import MappingFailure
from jde_stripe_pipeline.mapping.money import to_minor_units

FIELD = re.compile(r"^F[0-9A-Z]+(\.[A-Z0-9]+)?$|^(number|custom_fields)$")
AS_OF = date(2026, 11, 26)
CONFIG = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same examples in every CI run: a new finding is a code change, not luck
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@CONFIG
@given(
    rowset=json_values, summary=json_values, links=json_values, drop=st.sampled_from(["", "data", "gridData"])
)
def test_a_malformed_grid_is_an_ais_error_never_a_crash(
    rowset: Any, summary: Any, links: Any, drop: str
) -> None:
    grid: dict[str, Any] = {"rowset": rowset, "summary": summary}
    form: dict[str, Any] = {"title": "F4311", "data": {"gridData": grid}}
    if drop == "data":
        form["data"] = rowset
    elif drop == "gridData":
        form["data"] = {"gridData": rowset}
    payload = {"fs_DATABROWSE_F4311": form, "links": links}
    try:
        page = parse_grid_page(payload, "F4311")
    except AisError:
        return
    assert all(isinstance(row, dict) for row in page.rows)


@CONFIG
@given(body=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_a_body_that_is_no_grid_is_an_ais_error(body: bytes) -> None:
    try:
        payload = json.loads(body, parse_float=Decimal)
    except ValueError:
        return  # the session refuses it before parsing (AisProtocolError: not JSON)
    with contextlib.suppress(AisError):
        parse_grid_page(payload, "F0101")


# ------------------------------------------------------------------------------------ JDE rows

hostile_text = st.one_of(
    st.sampled_from(["", " ", "Acme Corp", "A" * 300, "Café 🚀 GmbH", "شركة الخليج", "חברה בע״מ", "x\x00y"]),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs", "Cc", "Cf"]), max_size=40),
)
amounts = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9),
    st.decimals(allow_nan=False, allow_infinity=False, places=5, min_value=-(10**6), max_value=10**6),
    st.integers(-(10**12), 10**12),
    st.sampled_from([Decimal(0), Decimal("0.001"), Decimal("-12.50"), "12.50", None, 1.5, True]),
)
grid_dates = st.one_of(
    st.dates(date(1900, 1, 1), date(2199, 12, 31)).map(lambda d: d.strftime("%Y%m%d")),
    st.sampled_from(["", " ", "00000000", "20261399", "2026-11-26", "126330", 0, 126330, None]),
)
currencies = st.sampled_from(["USD", "JPY", "KWD", "EUR", "", " ", "usd", "XYZ", "U$", "USDX", "€"])
emails = st.one_of(st.emails().map(str), hostile_text)


@st.composite
def customer_rows(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    an8 = 10001
    stamp = {"UPMJ": draw(grid_dates), "UPMT": draw(st.sampled_from([0, 120000, 235959, 999999, "x"]))}
    master = {
        "AN8": an8,
        "CO": "00001",
        "CRCD": draw(currencies),
        "TRAR": "N30",
        "ACL": 0,
        "HDAR": " ",
        **stamp,
    }
    book = {
        "AN8": an8,
        "ALPH": draw(hostile_text),
        "ALKY": " ",
        "TAX": " ",
        "AT1": "C",
        "LNGP": draw(st.sampled_from(["E", " ", "ZZ"])),
        **stamp,
    }
    email = {"AN8": an8, "IDLN": 0, "RCK7": 1, "ETP": "E", "EMAL": draw(emails), **stamp}
    books = draw(st.sampled_from([[book], [], [book, book]]))
    return {"F03012": [master], "F0101": books, "F0116": [], "F01151": [email], "F0115": []}


@CONFIG
@given(raw=customer_rows())
def test_any_customer_rows_give_a_customer_or_a_named_quarantine(
    raw: dict[str, list[dict[str, Any]]],
) -> None:
    record = assemble_customer(10001, raw, as_of=AS_OF)
    assert isinstance(record, JdeCustomer | QuarantinedRecord)
    if isinstance(record, QuarantinedRecord):
        assert record.record_key == "10001" and FIELD.match(record.field), record
        assert record.reason
        return
    mapped = map_customer(record, CustomerMappingConfig())
    if isinstance(mapped, MappingFailure):
        assert mapped.record_key == "10001" and FIELD.match(mapped.field) and mapped.reason, mapped
        return
    assert isinstance(mapped, CustomerRequest)
    assert mapped.name == raw["F0101"][0]["ALPH"].strip()


@st.composite
def invoice_rows(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    key = {"KCOO": "00001", "DOCO": 1001, "DCTO": "OP", "SFXO": "000"}
    stamp = {"UPMJ": draw(grid_dates), "TDAY": 120000}
    currency = draw(currencies)
    header = {
        **key,
        "AN8": 10001,
        "SHAN": draw(st.sampled_from([0, 10001])),
        "TRDJ": draw(grid_dates),
        "DRQJ": draw(grid_dates),
        "OTOT": 0,
        "CRCD": currency,
        "PTC": draw(st.sampled_from(["N30", " ", "ZZ9"])),
        **stamp,
    }
    lines = []
    numbers = draw(
        st.lists(
            st.sampled_from(
                [Decimal("1.000"), Decimal("2.000"), Decimal("2.5"), Decimal("-1"), Decimal("1.0005")]
            ),
            max_size=4,
        )
    )
    for lnid in numbers:
        lines.append(
            {
                **key,
                "LNID": lnid,
                "LITM": draw(hostile_text),
                "DSC1": draw(hostile_text),
                "DSC2": " ",
                "UORG": draw(amounts),
                "UOM": "EA",
                "PRRC": draw(amounts),
                "AEXP": draw(amounts),
                "LTTR": draw(st.sampled_from(["400", "980", " "])),
                "NXTR": "999",
                "CRCD": draw(st.sampled_from([currency, " ", "EUR"])),
                **stamp,
            }
        )
    headers = draw(st.sampled_from([[header], [], [header, header]]))
    return headers, lines


@CONFIG
@given(rows=invoice_rows())
def test_any_invoice_rows_give_an_invoice_or_a_named_quarantine(
    rows: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    headers, lines = rows
    if not headers and not lines:
        return  # no row: no record (the extract never asks for one)
    key = JdeDocumentKey(kcoo="00001", doco=1001, dcto="OP", sfxo="000")
    record = assemble_invoice(PURCHASE_ORDER, key, headers, lines, {})
    if isinstance(record, QuarantinedRecord):
        assert record.record_key == str(key) and FIELD.match(record.field) and record.reason, record
        return
    assert isinstance(record, JdeInvoice)
    mapped = map_invoice(record, InvoiceMappingConfig(timezone="America/Chicago"))
    if isinstance(mapped, MappingFailure):
        assert mapped.record_key == str(key) and FIELD.match(mapped.field) and mapped.reason, mapped
        return
    if isinstance(mapped, DeleteDraftInvoice):
        return
    assert isinstance(mapped, InvoiceRequest)
    by_lnid = {f"{line.lnid:.3f}": line for line in record.lines}
    for line in mapped.lines:  # each Stripe line is JDE's amount, exactly
        assert line.amount == to_minor_units(by_lnid[line.lnid].amount, mapped.currency)
    assert len({line.lnid for line in mapped.lines}) == len(mapped.lines)
