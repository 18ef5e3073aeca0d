"""Under 20% injected 5xx (commit-then-fail included), 429 bursts and SIGKILLs at random moments, the
final state equals a clean run's: no duplicate, nothing missing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulatorConfig
from jde_stripe_pipeline_tests.sync.conftest import World, assert_stripe_matches_jde, make_world

CHAOS = StripeEmulatorConfig(
    rate_limit_per_second=15.0,  # below Stripe test mode (25/s) and the sink's 300/s: bursts of 429s
    # even on a loaded machine (an O(change) run sends few requests: at 25/s some runs saw none)
    fail_rate=0.07,  # 500 saved under the key (Stripe-Should-Retry: false)
    unavailable_rate=0.07,  # 503 before the idempotency layer
    commit_then_fail_rate=0.06,  # committed, answer lost (500 or dropped connection)
    fault_seed=11,
    search_lag_seconds=5.0,
)


def _run(world: World, run_id: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jde_stripe_pipeline_tests.sync.sync_process",
            world.ais_url,
            world.stripe_url,
            world.ledger_url,
            run_id,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _killed_then_finished(world: World, kills: int, rng: random.Random) -> tuple[int, str]:
    for attempt in range(kills):
        process = _run(world, f"killed-{attempt}")
        time.sleep(rng.uniform(1.5, 3.5))  # the interpreter takes ~1.5 s to start
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    for attempt in range(3):  # a record may still fail under these fault rates: a rerun finishes it
        process = _run(world, f"final-{attempt}")
        out, err = process.communicate(timeout=240)
        if process.returncode == 0:
            return attempt, out.decode()
    raise AssertionError(f"the sync kept failing: {err.decode()[-3000:]}")


def _check(world: World) -> None:
    world.emulator.update_config(
        fail_rate=0, unavailable_rate=0, commit_then_fail_rate=0, rate_limit_per_second=1000
    )
    assert_stripe_matches_jde(world)
    world.emulator.clear_requests_log()
    world.sync()
    assert world.writes() == []


def test_faults_and_kills_end_in_the_clean_state(tmp_path: Path) -> None:
    with make_world(tmp_path, customers=25, invoices=50, emulator_config=CHAOS) as world:
        _killed_then_finished(world, kills=3, rng=random.Random(3))
        stats = world.emulator.stats()
        assert stats["requests"]  # the faults really happened:
        faults = {e["fault"] for e in world.emulator.requests_log() if e["fault"]}
        statuses = {e["status"] for e in world.emulator.requests_log()}
        assert {"fail", "commit_then_fail"} <= faults and 429 in statuses
        _check(world)


@pytest.mark.reliability
def test_faults_and_kills_at_volume(tmp_path: Path) -> None:
    with make_world(tmp_path, customers=200, invoices=400, emulator_config=CHAOS) as world:
        _killed_then_finished(world, kills=4, rng=random.Random(5))
        _check(world)
