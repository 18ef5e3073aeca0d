"""The scale-out's figures (`demo/traffic.py`) on hand-made request logs and runs whose answers are known."""

from __future__ import annotations

from jde_stripe_pipeline.demo.traffic import (
    RunSpan,
    account_traffic,
    beyond_bucket,
    markdown,
    most_at_once,
    overlap,
    peak_per_window,
    runs_overlap,
)


def test_the_peak_is_the_busiest_sliding_second_not_a_calendar_second() -> None:
    # 3 in [0.6, 1.0) and 3 in [1.0, 1.5): no calendar second holds more than 3, a sliding one holds 6
    times = [0.6, 0.7, 0.8, 1.0, 1.2, 1.5, 3.0]
    assert peak_per_window(times) == 6
    assert peak_per_window([0.0, 1.0, 2.0]) == 1  # exactly one second apart: one per window
    assert peak_per_window([]) == 0


def test_a_burst_above_the_rate_fits_the_bucket_a_flood_does_not() -> None:
    # 28 in one second, evenly: the busiest sliding second is over 25/s, but a bucket of 25 tokens
    # refilled at 25/s never runs dry (it loses 3 tokens in that second); what Stripe counts is the bucket
    burst = [k / 28 for k in range(28)]
    assert peak_per_window(burst) == 28
    assert beyond_bucket(burst, 25) == 0
    # 40 within 0.1 s: 25 tokens and the 2.5 refilled meanwhile serve 27; 13 would be refused
    flood = [k * 0.1 / 39 for k in range(40)]
    assert beyond_bucket(flood, 25) == 13
    # steady at the rate for a minute after the bucket is spent: each arrival finds the token it refilled
    assert beyond_bucket([k / 25 for k in range(25 * 60)] + [60 + k / 25 for k in range(25 * 60)], 25) == 0
    # a steady stream just above the rate drains the bucket, then is refused at the excess
    assert beyond_bucket([k / 30 for k in range(30 * 60)], 25) > 0


def test_traffic_per_account_counts_429s_and_ignores_other_accounts() -> None:
    log = [
        {"account": "acct_us", "received_at": 10.1, "status": 200},
        {"account": "acct_eu", "received_at": 10.4, "status": 200},
        {"account": "acct_us", "received_at": 10.5, "status": 429},
        {"account": "acct_other", "received_at": 10.6, "status": 200},
        {"account": "acct_eu", "received_at": 12.2, "status": 200},
    ]
    us, eu = account_traffic(log, {"acct_us": "us", "acct_eu": "eu"})
    assert (us.account, us.requests, us.peak_per_second, us.throttled) == ("us", 2, 2, 1)
    assert (eu.first, eu.last, eu.seconds) == (10.4, 12.2, frozenset({10, 12}))
    assert overlap([(us.first, us.last), (eu.first, eu.last)]) == 10.5 - 10.4
    assert "both accounts together: peak 3 req/s in any 1 s" in markdown([us, eu], [], 25, 23)


def test_runs_overlap_only_while_a_run_of_every_account_runs() -> None:
    runs = [
        RunSpan("us", "d1", "SUCCESS", 0.0, 10.0),
        RunSpan("us", "d2", "SUCCESS", 10.0, 20.0),  # starts as the first ends: one at a time
        RunSpan("eu", "d1", "SUCCESS", 5.0, 8.0),
        RunSpan("eu", "d2", "SUCCESS", 18.0, 30.0),
    ]
    assert runs_overlap(runs) == 3.0 + 2.0
    assert most_at_once([r for r in runs if r.account == "us"]) == 1
    assert most_at_once(runs) == 2
    assert runs_overlap([r for r in runs if r.account == "us"]) == 0.0  # one account: nothing to overlap


def test_the_table_names_each_account_with_its_peak_and_budget() -> None:
    log = [{"account": "acct_us", "received_at": 1.0, "status": 200}]
    text = markdown(
        account_traffic(log, {"acct_us": "us"}), [RunSpan("us", "d1", "SUCCESS", 0.5, 2.0)], 25, 23
    )
    assert "| us | 1 | 0.0 → 1.5 | 1 | 0.5 → 0.5 | 1 | 1 | 25/s (paced at 23/s) | 0 | 0 | 1 |" in text
