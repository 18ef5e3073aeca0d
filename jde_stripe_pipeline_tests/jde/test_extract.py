"""Acceptance: the extracts over the real sandbox equal an independent direct read of its tables.

With tokens expiring every 3 calls and pages of 50, so that re-authentication and resumed paging
happen all through the run; and again for a dd/MM/yyyy user.
"""

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.probe import changed_update_dates
from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER, SALES_ORDER
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.jde.tables import CUSTOMER_TABLES
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline_tests.jde.support import (
    AS_OF,
    count_requests,
    expected_customers,
    expected_invoices,
    sandbox_stats,
    served,
    session_for,
    upsert_rows,
)

EVERYTHING = UpdateWindow(datetime(2026, 10, 1), datetime(2026, 11, 27))
EDGES = UpdateWindow(datetime(2026, 11, 5, 13, 27, 41), datetime(2026, 11, 19, 8, 15, 0))


def _config(date_format: str = "MM/dd/yyyy") -> AisSandboxConfig:
    return AisSandboxConfig(token_max_calls=3, users={"JDE": {"password": "JDE", "date_format": date_format}})  # type: ignore[dict-item]


def _dump(records: list[Any]) -> list[dict[str, Any]]:
    return [record.model_dump(mode="json") for record in records]


def _split(records: list[Any]) -> tuple[list[Any], list[QuarantinedRecord]]:
    good = [r for r in records if not isinstance(r, QuarantinedRecord)]
    return good, [r for r in records if isinstance(r, QuarantinedRecord)]


def _check_everything(
    sandbox: AisSandbox, session: AisSession, window: UpdateWindow, sales: bool = False
) -> None:
    customers, bad_customers = _split(list(extract_customers(session, window, as_of=AS_OF, chunk_size=40)))
    profile = SALES_ORDER if sales else PURCHASE_ORDER
    invoices, bad_invoices = _split(
        list(extract_invoices(session, window, profile, as_of=AS_OF, chunk_size=30))
    )
    assert bad_customers == [] and bad_invoices == []
    expected_c = expected_customers(sandbox, window.start, window.end, AS_OF)
    expected_i = expected_invoices(sandbox, window.start, window.end, AS_OF, sales=sales)
    assert expected_c and expected_i
    assert all(isinstance(c, JdeCustomer) for c in customers)
    assert all(isinstance(i, JdeInvoice) for i in invoices)
    assert _dump(customers) == _dump(expected_c)
    assert _dump(invoices) == _dump(expected_i)


@pytest.mark.parametrize("date_format", ["MM/dd/yyyy", "dd/MM/yyyy"])
def test_extracts_equal_a_direct_read_through_lost_tokens(date_format: str) -> None:
    sandbox = AisSandbox(seed=5, customers=60, invoices=80, config=_config(date_format), as_of=AS_OF)
    with served(sandbox) as server:
        with session_for(server, page_size=50) as session:
            assert session.user.simple_date_format == date_format
            _check_everything(sandbox, session, EVERYTHING)
            _check_everything(sandbox, session, EDGES)
            _check_everything(sandbox, session, EDGES, sales=True)
            assert session.stats.reauthentications > 10
        stats = sandbox_stats(server)
    assert stats["reauthentications"] > 10
    assert count_requests(stats, "POST /jderest/v2/dataservice/next", 444) > 0
    assert count_requests(stats, "POST /jderest/v2/dataservice", 444) > 0


@pytest.mark.slow
def test_extracts_of_1000_customers_and_2000_invoices_equal_a_direct_read() -> None:
    sandbox = AisSandbox(seed=7, customers=1000, invoices=2000, config=_config(), as_of=AS_OF)
    with served(sandbox) as server:
        with session_for(server, page_size=50) as session:
            _check_everything(sandbox, session, EVERYTHING)
        stats = sandbox_stats(server)
    assert stats["reauthentications"] > 100


@pytest.mark.slow
def test_dd_mm_yyyy_user_1000_customers_and_2000_invoices() -> None:
    sandbox = AisSandbox(seed=8, customers=1000, invoices=2000, config=_config("dd/MM/yyyy"), as_of=AS_OF)
    with served(sandbox) as server, session_for(server, page_size=50) as session:
        _check_everything(sandbox, session, EDGES)


def test_bad_rows_are_quarantined_and_the_rest_goes_on() -> None:
    sandbox = AisSandbox(seed=5, customers=20, invoices=20, config=_config(), as_of=AS_OF)
    order = sandbox.rows("F4311")[0]
    with served(sandbox) as server:
        upsert_rows(
            server, "F01151", [{"AN8": 10003, "IDLN": 0, "RCK7": 0, "ETP": "E", "EMAL": "not-an-email"}]
        )
        upsert_rows(server, "F0101", [{"AN8": 10004, "ALPH": "   "}])
        upsert_rows(
            server,
            "F4311",
            [{**{k: order[k] for k in ("KCOO", "DOCO", "DCTO", "SFXO", "LNID")}, "CRCD": "XXX"}],
        )
        window = UpdateWindow(datetime(2026, 10, 1), datetime.now() + timedelta(days=2))
        with session_for(server) as session:
            customers, bad_customers = _split(list(extract_customers(session, window, as_of=AS_OF)))
            invoices, bad_invoices = _split(
                list(extract_invoices(session, window, PURCHASE_ORDER, as_of=AS_OF))
            )
    assert {(q.record_key, q.field) for q in bad_customers} == {
        ("10003", "F01151.EMAL"),
        ("10004", "F0101.ALPH"),
    }
    assert "not-an-email" in bad_customers[0].reason or "not-an-email" in bad_customers[1].reason
    assert len(customers) == 18
    key = f"{order['KCOO']}/{order['DOCO']}/{order['DCTO']}/{order['SFXO']}"
    assert [(q.record_key, q.field, q.raw["CRCD"]) for q in bad_invoices] == [(key, "F4311.CRCD", "XXX")]
    assert len(invoices) == 19 and key not in {str(i.key) for i in invoices}


def test_change_probe_reads_stamps_only_and_finds_the_days() -> None:
    sandbox = AisSandbox(seed=5, customers=20, invoices=20, config=_config(), as_of=AS_OF)
    since, until = datetime(2026, 11, 10, 12, 0, 0), datetime(2026, 11, 20)
    expected_latest: dict[date, datetime] = {}
    expected_rows: dict[str, int] = {}
    for table, clock in [(t.name, "UPMT") for t in CUSTOMER_TABLES] + [("F4301", "TDAY"), ("F4311", "TDAY")]:
        count = 0
        for row in sandbox.rows(table):
            day = date(1900 + row["UPMJ"] // 1000, 1, 1) + timedelta(days=row["UPMJ"] % 1000 - 1)
            t = row[clock]
            stamp = datetime(day.year, day.month, day.day, t // 10000, t // 100 % 100, t % 100)
            if since <= stamp < until:
                count += 1
                expected_latest[day] = max(expected_latest.get(day, stamp), stamp)
        expected_rows[table] = count
    with served(sandbox) as server, session_for(server) as session:
        probe = changed_update_dates(session, since, until, (*CUSTOMER_TABLES, *PURCHASE_ORDER.tables))
    assert probe.latest == dict(sorted(expected_latest.items()))
    assert probe.rows == expected_rows
    assert probe.total_rows == sum(expected_rows.values())
    assert min(probe.latest) == date(2026, 11, 10) and max(probe.latest) == date(2026, 11, 19)
