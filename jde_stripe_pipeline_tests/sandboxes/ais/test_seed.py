"""Seed determinism and the invariants the pipeline relies on."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

import pytest

from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.ais.seed import CURRENCY_DECIMALS
from jde_stripe_pipeline.sandboxes.ais.store import TABLES, from_julian, to_julian
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


def test_ledger_has_posted_invoices_matching_sales_orders(seeded: AisSandbox) -> None:
    invoiced = {line["DOC"] for line in seeded.rows("F4211") if line["DOC"]}
    ledger = seeded.rows("F03B11")
    assert ledger and {r["DOC"] for r in ledger} == invoiced
    assert all(r["POST"] == "D" and r["DDJ"] > r["DIVJ"] for r in ledger)
