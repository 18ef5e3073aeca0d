"""Seed determinism and the invariants the pipeline relies on."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.ais.seed import CURRENCY_DECIMALS
from jde_stripe_pipeline.sandboxes.ais.store import from_julian, to_julian
from jde_stripe_pipeline.sandboxes.ais.tables import TABLES
from jde_stripe_pipeline_tests.sandboxes.ais.conftest import AS_OF


@pytest.fixture(scope="module")
def seeded() -> Iterator[AisSandbox]:
    sandbox = AisSandbox(seed=11, customers=120, invoices=80, as_of=AS_OF)
    yield sandbox
    sandbox.close()


def test_julian_dates() -> None:
    assert to_julian(dt.date(2026, 11, 26)) == 126330
    assert to_julian(dt.date(1998, 7, 4)) == 98185
    assert from_julian(100001) == dt.date(2000, 1, 1)
    assert from_julian(0) is None


def test_same_seed_same_rows_other_seed_other_rows(seeded: AisSandbox) -> None:
    twin = AisSandbox(seed=11, customers=120, invoices=80, as_of=AS_OF)
    other = AisSandbox(seed=12, customers=120, invoices=80, as_of=AS_OF)
    try:
        for table in TABLES:
            assert twin.rows(table) == seeded.rows(table), table
        assert other.rows("F4311") != seeded.rows("F4311")
    finally:
        twin.close()
        other.close()


def test_order_totals_are_the_sum_of_live_lines_in_exact_currency_decimals(seeded: AisSandbox) -> None:
    for header_table, detail_table in (("F4301", "F4311"), ("F4201", "F4211")):
        totals: dict[tuple[str, int, str], Decimal] = defaultdict(Decimal)
        line_counts: dict[tuple[str, int, str], int] = defaultdict(int)
        for line in seeded.rows(detail_table):
            key = (line["KCOO"], line["DOCO"], line["DCTO"])
            line_counts[key] += 1
            exponent = -CURRENCY_DECIMALS[line["CRCD"]]
            assert line["AEXP"].as_tuple().exponent == exponent, line
            if line["LTTR"] != "980":
                totals[key] += line["AEXP"]
        headers = seeded.rows(header_table)
        for header in headers:
            key = (header["KCOO"], header["DOCO"], header["DCTO"])
            assert header["OTOT"] == totals[key], header
            assert header["OTOT"].as_tuple().exponent == -CURRENCY_DECIMALS[header["CRCD"]]
        assert {h["CRCD"] for h in headers} == set(CURRENCY_DECIMALS)
        assert {h["DCTO"] for h in headers} == ({"SO"} if header_table == "F4201" else {"OP"})
        assert max(line_counts.values()) == 60 and min(line_counts.values()) == 1


def test_lines_include_credits_and_cancellations(seeded: AisSandbox) -> None:
    lines = seeded.rows("F4311") + seeded.rows("F4211")
    assert any(line["AEXP"] < 0 for line in lines)
    assert any(line["LTTR"] == "980" for line in lines)
    assert all(line["LNID"].as_tuple().exponent == -3 for line in lines)


def test_customers_parties_and_history(seeded: AisSandbox) -> None:
    companies: dict[int, set[str]] = defaultdict(set)
    for row in seeded.rows("F03012"):
        companies[row["AN8"]].add(row["CO"])
    assert any(len(c) == 2 for c in companies.values())
    names = [r["ALPH"] for r in seeded.rows("F0101")]
    assert any("ü" in n for n in names) and any("é" in n for n in names)
    assert any("ø" in n for n in names) and any("日本" in n for n in names)
    addresses: dict[int, list[int]] = defaultdict(list)
    for row in seeded.rows("F0116"):
        addresses[row["AN8"]].append(row["EFTB"])
    today = to_julian(AS_OF)
    assert any(len(e) >= 2 for e in addresses.values())
    assert any(e > today for eftbs in addresses.values() for e in eftbs)
    assert set(addresses) == set(companies)
    phone_types = {r["PHTP"] for r in seeded.rows("F0115")}
    assert {"", "FAX", "HOM"} <= phone_types
    emails: dict[int, int] = defaultdict(int)
    for row in seeded.rows("F01151"):
        emails[row["AN8"]] += 1
    assert max(emails.values()) >= 2
    headers = seeded.rows("F4301")
    ship_to_elsewhere = [h for h in headers if h["SHAN"] != h["AN8"]]
    assert ship_to_elsewhere and all(h["SHAN"] in addresses for h in ship_to_elsewhere)
    # Customers whose sales orders ship elsewhere: their ship-to (JDE_STRIPE_SHIP_TO_SOURCE=ship_to).
    sales_elsewhere = [h for h in seeded.rows("F4201") if h["SHAN"] != h["AN8"]]
    assert len({h["AN8"] for h in sales_elsewhere}) >= 5
    assert all(h["SHAN"] in addresses and h["SHAN"] in companies for h in sales_elsewhere)


def test_stamps_fall_in_the_28_days_before_as_of(seeded: AisSandbox) -> None:
    first, last = to_julian(AS_OF - dt.timedelta(days=28)), to_julian(AS_OF - dt.timedelta(days=1))
    for name, table in TABLES.items():
        rows = seeded.rows(name)
        assert rows, name
        days = {r["UPMJ"] for r in rows}
        times = [r[table.time_column] for r in rows]
        assert first <= min(days) and max(days) <= last, name
        assert all(0 <= t <= 235959 and t % 100 < 60 and t // 100 % 100 < 60 for t in times), name
    assert len({r["UPMJ"] for r in seeded.rows("F0101")}) > 10


def _documents(sandbox: AisSandbox) -> dict[tuple[int, str, str], list[dict[str, Any]]]:
    documents: dict[tuple[int, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in sandbox.rows("F03B11"):
        documents[(row["DOC"], row["DCT"], row["KCO"])].append(row)
    return documents


def test_ar_world_invoices_total_their_sales_lines_plus_tax(seeded: AisSandbox) -> None:
    documents = _documents(seeded)
    lines: dict[tuple[int, str, str], list[dict[str, Any]]] = defaultdict(list)
    for table in ("F4211", "F42119"):
        for line in seeded.rows(table):
            if line["DOC"]:
                lines[(line["DOC"], line["DCT"], line["KCO"])].append(line)
    assert set(lines) <= set(documents)
    checked = 0
    for key, rows in documents.items():
        if key not in lines or any(r["ISTR"] == "1" for r in rows):
            continue
        foreign = rows[0]["CRRM"] == "F"
        gross = sum(r["ACR" if foreign else "AG"] for r in rows)
        tax = sum(r["CTAM" if foreign else "STAM"] for r in rows)
        billed = sum(ln["FEA" if foreign else "AEXP"] for ln in lines[key] if ln["LTTR"] != "980")
        assert gross == billed + tax, key
        exponent = -CURRENCY_DECIMALS[rows[0]["CRCD"]]
        assert all(r["ACR" if foreign else "AG"].as_tuple().exponent == exponent for r in rows), key
        checked += 1
    assert checked > 20


def test_ar_world_has_every_case_the_profile_meets(seeded: AisSandbox) -> None:
    documents = _documents(seeded)
    invoices = {k: v for k, v in documents.items() if k[1] == "RI"}
    live = {k: v for k, v in invoices.items() if all(r["ISTR"] != "1" for r in v)}
    assert {v[0]["POST"] for v in live.values()} == {"D", ""}
    assert any(len(v) >= 2 for v in live.values())
    assert {v[0]["CRCD"] for v in live.values() if v[0]["POST"] == "D"} >= {"USD", "JPY", "KWD"}
    foreign = [v for v in live.values() if v[0]["CRRM"] == "F"]
    assert foreign and all(r["BCRC"] == "USD" != r["CRCD"] and r["ACR"] > 0 for v in foreign for r in v)
    voids = [v for v in invoices.values() if v[0]["ISTR"] == "1"]
    assert voids and all(
        r["AG"] == 0 and r["STAM"] == 0 and r["PST"] == "P" and r["VOD"] == "V" and r["VDGJ"]
        for v in voids
        for r in v
    )
    assert {v[0]["POST"] for v in voids} == {"D", ""}  # re-posted, and not yet
    memos = [v for k, v in documents.items() if k[1] == "RM"]
    assert memos and all(r["AG"] < 0 and r["STAM"] <= 0 and r["DDJ"] == r["DIVJ"] for v in memos for r in v)
    originals = [(r["ODOC"], r["ODCT"], r["OKCO"]) for v in memos for r in v if r["ODOC"]]
    assert originals and all(o in live and live[o][0]["POST"] == "D" for o in originals)
    assert any(not r["ODOC"] for v in memos for r in v)
    assert any(not any(ln["DOC"] == k[0] for ln in seeded.rows("F42119")) for k in live)


def test_f0018_holds_the_posted_tax_of_company_00001_by_authority(seeded: AisSandbox) -> None:
    pay_items = {(r["DOC"], r["DCT"], r["KCO"], r["SFX"]): r for r in seeded.rows("F03B11")}
    rows = seeded.rows("F0018")
    assert rows
    for tax in rows:
        item = pay_items[(tax["DOCO"], tax["DCTO"], tax["KCOO"], tax["SFXO"])]
        assert item["POST"] == "D" and item["KCO"] == "00001" and item["CRRM"] == "D"
        assert sum(tax[f"STA{n}"] for n in range(1, 6)) == item["STAM"] != 0
    assert any(tax["TXR2"] for tax in rows)  # a US area: state and county
    taxed_elsewhere = [
        r for r in pay_items.values() if r["KCO"] == "00200" and r["STAM"] and r["POST"] == "D"
    ]
    assert taxed_elsewhere and not {(r["DOC"], r["KCO"]) for r in taxed_elsewhere} & {
        (t["DOCO"], t["KCOO"]) for t in rows
    }
