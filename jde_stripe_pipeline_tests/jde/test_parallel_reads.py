"""An extract's chunks read side by side over one AIS session: the same records in the same order as
one at a time, and a token lost while several reads are in flight renewed once."""

import threading
import time
from typing import Any

import pytest

from jde_stripe_pipeline.jde.parallel import in_order
from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices, fetch_customers, fetch_invoices
from jde_stripe_pipeline.jde.records import JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline.settings import Settings
from jde_stripe_pipeline_tests.jde.support import (
    AS_OF,
    count_requests,
    sandbox_stats,
    served,
    session_for,
    upsert_rows,
)
from jde_stripe_pipeline_tests.jde.test_extract import EVERYTHING

BROWSE = "POST /jderest/v2/dataservice"
TOKEN = "POST /jderest/v2/tokenrequest"
NEXT = "POST /jderest/v2/dataservice/next"


def _dump(records: list[Any]) -> list[dict[str, Any]]:
    return [record.model_dump(mode="json") for record in records]


def _read_all(server: Any, workers: int, token_max_calls: int | None = None) -> tuple[list[Any], ...]:
    with session_for(server, page_size=20, read_workers=workers) as session:
        customers = list(extract_customers(session, EVERYTHING, as_of=AS_OF, chunk_size=7))
        invoices = list(extract_invoices(session, EVERYTHING, PURCHASE_ORDER, as_of=AS_OF, chunk_size=6))
        keys = [r.key for r in invoices if isinstance(r, JdeInvoice)]
        an8s = sorted({r.an8 for r in invoices if isinstance(r, JdeInvoice)})
        named = list(fetch_customers(session, an8s, as_of=AS_OF, chunk_size=5))
        fetched = list(fetch_invoices(session, PURCHASE_ORDER, keys, as_of=AS_OF, chunk_size=4))
    return customers, invoices, named, fetched


def test_chunks_read_at_once_give_the_same_records_in_the_same_order() -> None:
    sandbox = AisSandbox(seed=5, customers=60, invoices=80, as_of=AS_OF)
    line = sandbox.rows("F4311")[0]
    with served(sandbox) as server:
        bad_email = {"AN8": 10003, "IDLN": 0, "RCK7": 0, "ETP": "E", "EMAL": "not-an-email"}
        upsert_rows(server, "F01151", [bad_email])
        upsert_rows(server, "F0101", [{"AN8": 10041, "ALPH": "   "}])
        upsert_rows(
            server,
            "F4311",
            [{**{k: line[k] for k in ("KCOO", "DOCO", "DCTO", "SFXO", "LNID")}, "CRCD": "XXX"}],
        )
        one_at_a_time = _read_all(server, workers=1)
        at_once = _read_all(server, workers=4)
        sandbox_stats(server)  # the server is still answering
    assert all(len(records) > 20 for records in one_at_a_time)
    quarantined = [r.field for records in one_at_a_time for r in records if isinstance(r, QuarantinedRecord)]
    assert {"F01151.EMAL", "F0101.ALPH", "F4311.CRCD"} <= set(quarantined)  # in their places, in both
    assert [_dump(records) for records in at_once] == [_dump(records) for records in one_at_a_time]


def test_chunks_read_at_once_through_tokens_lost_every_few_calls() -> None:
    config = AisSandboxConfig(token_max_calls=3)
    with served(AisSandbox(seed=5, customers=60, invoices=80, as_of=AS_OF)) as server:
        expected = _read_all(server, workers=1)
    with served(AisSandbox(seed=5, customers=60, invoices=80, config=config, as_of=AS_OF)) as server:
        at_once = _read_all(server, workers=4)
        stats = sandbox_stats(server)
    assert [_dump(records) for records in at_once] == [_dump(records) for records in expected]
    assert stats["reauthentications"] > 10


def test_a_token_lost_with_several_reads_in_flight_is_renewed_once() -> None:
    sandbox = AisSandbox(
        seed=5, customers=60, invoices=80, config=AisSandboxConfig(latency_ms=30), as_of=AS_OF
    )
    with served(sandbox) as server:
        with session_for(server, page_size=20) as session:
            expected = list(extract_invoices(session, EVERYTHING, PURCHASE_ORDER, as_of=AS_OF, chunk_size=6))
        before = sandbox_stats(server)
        with session_for(server, page_size=20, read_workers=4) as session:
            records = extract_invoices(session, EVERYTHING, PURCHASE_ORDER, as_of=AS_OF, chunk_size=6)
            read = [next(records)]  # the first chunk is in; the next four are being read
            time.sleep(0.045)  # each of them mid-call
            assert sandbox.service.expire_tokens() == 1
            read.extend(records)
            renewals = session.stats.reauthentications
        stats = sandbox_stats(server)
    assert _dump(read) == _dump(expected)
    assert renewals == 1
    assert count_requests(stats, TOKEN, 200) - count_requests(before, TOKEN, 200) == 2  # login + 1 renewal
    lost = count_requests(stats, BROWSE, 444) + count_requests(stats, NEXT, 444)
    assert lost >= 2  # several reads met the lost token, one renewed it


def test_in_order_keeps_the_order_reads_ahead_a_few_and_raises_the_first_failure_in_order() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def work(item: int) -> int:
        with lock:
            started.append(item)
        time.sleep(0.001 * (10 - item % 10))  # later items finish first
        if item in (7, 9):
            raise ValueError(f"item {item}")
        return item * 2

    results = in_order(work, list(range(20)), workers=3)
    assert [next(results) for _ in range(5)] == [0, 2, 4, 6, 8]
    assert max(started) <= 5 + 3  # never more than `workers` items ahead of the caller
    assert next(results) == 10 and next(results) == 12
    with pytest.raises(ValueError, match="item 7"):
        next(results)
    assert max(started) < 19  # what was not yet started is cancelled


def _peak_in_flight(session: Any, read: Any) -> int:
    """The most HTTP calls the session had open at once while `read(session)` ran."""
    lock = threading.Lock()
    now = peak = 0
    send = session.http.request

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal now, peak
        with lock:
            now += 1
            peak = max(peak, now)
        try:
            return send(*args, **kwargs)
        finally:
            with lock:
                now -= 1

    session.http.request = counted
    read(session)
    return peak


def test_the_setting_decides_how_many_reads_are_in_flight() -> None:
    """`JDE_AIS_READ_WORKERS` reaches the session the steps open: 1 keeps every read alone."""
    sandbox = AisSandbox(
        seed=5, customers=60, invoices=80, config=AisSandboxConfig(latency_ms=20), as_of=AS_OF
    )
    peaks = {}
    with served(sandbox) as server:
        for workers in (1, 4):
            settings = Settings.from_env(
                {"JDE_TIMEZONE": "America/Chicago", "JDE_AIS_READ_WORKERS": str(workers)}
            )
            with session_for(server, page_size=20, read_workers=settings.jde.read_workers) as session:
                peaks[workers] = _peak_in_flight(
                    session,
                    lambda s: list(
                        extract_invoices(s, EVERYTHING, PURCHASE_ORDER, as_of=AS_OF, chunk_size=6)
                    ),
                )
    assert peaks == {1: 1, 4: 4}
