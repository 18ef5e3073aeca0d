"""The pure pacing arithmetic (GCRA lanes, AIMD) and Stripe's numbers, with the clock passed in."""

from __future__ import annotations

import pytest

from jde_stripe_pipeline.stripe_sink import pacing
from jde_stripe_pipeline.stripe_sink.limits import (
    GLOBAL_LANE,
    SEARCH_LANE,
    Paces,
    default_pace,
    endpoint_name,
    lane_of_reason,
)

INVOICES = "POST /v1/invoices"
CUSTOMERS = "POST /v1/customers"


def test_documented_limits_by_key_mode_less_the_margin() -> None:
    test, live = Paces.for_mode("test"), Paces.for_mode("live")
    assert (test.global_rate, test.endpoint_rate, test.search_rate) == (24.0, 24.0, 19.2)
    assert (live.global_rate, live.endpoint_rate, live.search_rate) == (96.0, 24.0, 19.2)
    assert test.max_in_flight == live.max_in_flight == 20
    assert default_pace(25) < 25 and default_pace(100) < 100 and default_pace(20) < 20
    assert Paces.for_mode("live", global_rate=50, endpoint_rate=5).lanes(INVOICES) == (
        (GLOBAL_LANE, 50),
        (f"endpoint {INVOICES}", 5),
    )


def test_endpoint_names_collapse_ids_and_keep_search() -> None:
    assert endpoint_name("post", "/v1/invoices") == "POST /v1/invoices"
    assert endpoint_name("POST", "/v1/invoices/in_1/add_lines") == "POST /v1/invoices/{id}/add_lines"
    assert endpoint_name("POST", "/v1/invoices/{id}/add_lines") == "POST /v1/invoices/{id}/add_lines"
    assert endpoint_name("GET", "/v1/customers/search?query=x") == "GET /v1/customers/search"
    assert endpoint_name("GET", "/v1/customers/cus_9") == "GET /v1/customers/{id}"
    assert Paces.for_mode("test").lanes("GET /v1/customers/search")[1] == (SEARCH_LANE, 19.2)


def test_the_reason_header_names_the_lane_to_slow() -> None:
    assert lane_of_reason(INVOICES, "global-rate") == (GLOBAL_LANE,)
    assert lane_of_reason(INVOICES, "endpoint-rate") == (f"endpoint {INVOICES}",)
    assert lane_of_reason("GET /v1/customers/search", "endpoint-rate") == (SEARCH_LANE,)
    assert lane_of_reason(INVOICES, "global-concurrency") == ("concurrency",)
    assert lane_of_reason(INVOICES, None) == (GLOBAL_LANE, f"endpoint {INVOICES}")


def _sends(
    state: pacing.State, lanes_of: list[tuple[tuple[str, float], ...]], now: float = 0.0
) -> list[float]:
    return [pacing.book(state, lanes, now) for lanes in lanes_of]


def test_one_endpoint_is_held_to_its_own_pace_under_a_higher_global() -> None:
    live = Paces.for_mode("live")
    sends = _sends({}, [live.lanes(INVOICES)] * 48)
    assert sends == pytest.approx([i / 24.0 for i in range(48)])
    assert sends[24] == pytest.approx(1.0)  # the 25th goes a full second after the first


def test_two_endpoints_each_get_their_own_pace_under_live_and_share_the_global_under_test() -> None:
    live, test = Paces.for_mode("live"), Paces.for_mode("test")
    both = [live.lanes(INVOICES), live.lanes(CUSTOMERS)] * 24
    assert sum(1 for t in _sends({}, both) if t < 0.999) == 48  # 24 + 24 under a 96/s global
    both = [test.lanes(INVOICES), test.lanes(CUSTOMERS)] * 24
    assert sum(1 for t in _sends({}, both) if t < 0.999) == 24  # the 24/s global binds


def test_no_one_second_window_holds_more_than_pace_plus_burst() -> None:
    state: pacing.State = {}
    lanes = ((GLOBAL_LANE, 20.0),)
    sends = [pacing.book(state, lanes, now=0.0, burst=3) for _ in range(60)]
    worst = max(sum(1 for t in sends if start <= t < start + 1.0) for start in sends)
    assert worst == 20 + 3 - 1


def test_a_quiet_spell_saves_no_more_than_the_burst() -> None:
    state: pacing.State = {}
    lanes = ((GLOBAL_LANE, 10.0),)
    for _ in range(5):
        pacing.book(state, lanes, now=0.0)
    later = [pacing.book(state, lanes, now=100.0, burst=2) for _ in range(3)]
    assert later == pytest.approx([100.0, 100.0, 100.1])


def test_a_429_halves_the_lane_once_per_cooldown_and_successes_bring_it_back() -> None:
    state: pacing.State = {}
    lane = f"endpoint {INVOICES}"
    pacing.book(state, ((lane, 20.0),), now=0.0)
    assert pacing.throttled(state, lane, 20.0, now=1.0)
    assert not pacing.throttled(state, lane, 20.0, now=1.1)  # the same burst of 429s: one cut
    assert pacing.factor(state, lane) == 0.5
    assert pacing.book(state, ((lane, 20.0),), now=1.0) >= 1.0 + 1 / 10  # pushed one slot past the 429
    pacing.succeeded(state, [lane], now=1.2)  # answers sent before the cut do not count
    assert pacing.factor(state, lane) == 0.5
    for _ in range(70):
        pacing.succeeded(state, [lane], now=2.0)
    assert pacing.factor(state, lane) == 1.0
    for step in range(20):
        pacing.throttled(state, lane, 20.0, now=10.0 + step)
    assert pacing.factor(state, lane) == pacing.FLOOR


def test_a_schedule_from_a_clock_that_jumped_is_forgotten() -> None:
    state: pacing.State = {"lanes": {GLOBAL_LANE: {"tat": 10_000.0, "factor": 1.0, "cut_at": 0.0}}}
    assert pacing.book(state, ((GLOBAL_LANE, 10.0),), now=5.0) == 5.0


def test_processes_that_died_or_went_quiet_stop_sharing() -> None:
    state: pacing.State = {}
    assert pacing.sharing_processes(state, 1, now=0.0, alive=lambda pid: True) == 1
    assert pacing.sharing_processes(state, 2, now=1.0, alive=lambda pid: True) == 2
    assert pacing.sharing_processes(state, 3, now=2.0, alive=lambda pid: pid != 2) == 2
    assert pacing.sharing_processes(state, 3, now=2.0 + pacing.PROCESS_TTL + 1, alive=lambda p: True) == 1
    pacing.leave(state, 3)
    assert state["processes"] == {}


def test_threads_that_woke_late_are_admitted_only_while_there_is_room_in_the_last_second() -> None:
    """Pace 24 under a limit of 25: at most 24 sends in any second, and no more than a bucket at 25/s
    holding 25 × 0.9 - 1 = 21.5 allows, so that sends reaching Stripe up to 0.1 s late and bunched still
    find a token in each of Stripe's one-second buckets."""
    state: pacing.State = {}
    lanes = ((GLOBAL_LANE, 24.0),)
    assert all(pacing.admit(state, lanes, now=0.0, headroom=25 / 24) == 0.0 for _ in range(21))
    assert pacing.admit(state, lanes, now=0.0, headroom=25 / 24) == pytest.approx(0.5 / 25)  # bucket empty
    assert len(state["lanes"][GLOBAL_LANE]["recent"]) == 21  # a refused admission records nothing
    assert all(pacing.admit(state, lanes, now=0.5 + 0.01 * i, headroom=25 / 24) == 0.0 for i in range(3))
    assert pacing.admit(state, lanes, now=0.6, headroom=25 / 24) == pytest.approx(0.4)  # 24 in the last 1 s
    assert pacing.admit(state, lanes, now=1.0, headroom=25 / 24) == 0.0


def test_a_steady_flow_at_the_pace_is_never_held_back_by_the_admission() -> None:
    """The admission bounds bursts, not the sustained rate: 24/s evenly spaced goes through as booked
    (the earlier rule, the limit per 1.1 s, held it to 25 / 1.1 = 22.7/s)."""
    state: pacing.State = {}
    lanes = ((GLOBAL_LANE, 24.0),)
    spacing = 1 / 24.0 + 1e-9  # as booked, to the nanosecond (float sums land either side of it)
    waits = [pacing.admit(state, lanes, now=i * spacing, headroom=25 / 24) for i in range(24 * 10)]
    assert waits == [0.0] * len(waits)
