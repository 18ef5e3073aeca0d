"""An account's budget: places in flight by Little's law, AIMD on 429, one budget per account and process,
and one schedule shared by processes through the locked file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from jde_stripe_pipeline.stripe_sink import pacing
from jde_stripe_pipeline.stripe_sink.budget import (
    AccountBudget,
    budget_for,
    budget_name,
    release_budget,
)
from jde_stripe_pipeline.stripe_sink.limits import Paces
from jde_stripe_pipeline.stripe_sink.shared import FileStore, MemoryStore

TEST = Paces.for_mode("test")
LIVE = Paces.for_mode("live")
INVOICES = "POST /v1/invoices"


def _answered_after(budget: AccountBudget, seconds: float) -> None:
    permit = budget.acquire(replace(TEST, global_rate=1e6, endpoint_rate=1e6), INVOICES)
    budget.answered(replace(permit, sent_at=time.monotonic() - seconds))


def test_places_in_flight_follow_littles_law_under_the_cap() -> None:
    budget = AccountBudget("b", MemoryStore())
    assert budget.in_flight_limit(TEST) == 20  # no latency seen yet: the cap
    _answered_after(budget, 0.3)
    assert budget.latency == pytest.approx(0.3, abs=0.02)
    assert budget.in_flight_limit(TEST) == 17  # ceil(24/s x 0.3 s x 2) + 2
    assert budget.in_flight_limit(LIVE) == 20  # 96/s x 0.3 s x 2 would be 60: capped
    fast = AccountBudget("fast", MemoryStore())
    _answered_after(fast, 0.01)
    assert fast.in_flight_limit(TEST) == 3


def test_a_concurrency_429_halves_the_places_and_a_rate_429_slows_its_lane() -> None:
    budget = AccountBudget("b", MemoryStore())
    permit = budget.acquire(TEST, INVOICES)
    assert budget.refused(permit, TEST, "global-concurrency") == ("concurrency",)
    assert budget.in_flight_limit(TEST) == 10
    permit = budget.acquire(TEST, INVOICES)
    assert budget.refused(permit, TEST, "endpoint-rate") == (f"endpoint {INVOICES}",)
    state = budget.store.update(lambda s: json.loads(json.dumps(s)))
    assert pacing.factor(state, f"endpoint {INVOICES}") == 0.5
    assert pacing.factor(state, "global") == 1.0


def test_a_full_budget_makes_the_next_request_wait_for_a_place() -> None:
    budget = AccountBudget("b", MemoryStore())
    paces = replace(TEST, global_rate=1e6, endpoint_rate=1e6, max_in_flight=2)
    held = [budget.acquire(paces, INVOICES), budget.acquire(paces, INVOICES)]
    order: list[str] = []

    def third() -> None:
        budget.acquire(paces, INVOICES)
        order.append("third went")

    thread = threading.Thread(target=third)
    thread.start()
    thread.join(timeout=0.3)
    assert order == []  # still waiting: two in flight
    order.append("one answered")
    budget.answered(held[0])
    thread.join(timeout=5)
    assert order == ["one answered", "third went"]


def test_sinks_of_one_account_share_one_budget_per_process() -> None:
    name = budget_name("http://127.0.0.1:1", None, "sk_test_abc")
    assert name == budget_name("http://127.0.0.1:1/", None, "sk_test_abc")
    assert name != budget_name("http://127.0.0.1:1", None, "sk_test_other")
    assert budget_name("http://x", "acct-a", "sk_test_1") == budget_name("http://x", "acct-a", "sk_test_2")
    assert "sk_test_abc" not in name
    first, second = budget_for(name, None), budget_for(name, None)
    assert first is second
    release_budget(first)
    assert budget_for(name, None) is first  # still held by the second user
    release_budget(first)
    release_budget(second)
    assert budget_for(name, None) is not first  # all released: a fresh one
    release_budget(budget_for(name, None))


def test_two_processes_sharing_the_file_are_the_other_ones_in_flight_share(tmp_path: Path) -> None:
    path = tmp_path / "shared.json"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path.write_text(json.dumps({"processes": {str(other.pid): time.time()}}))
        budget = AccountBudget("b", FileStore(path))
        budget.lost(budget.acquire(TEST, INVOICES))
        assert budget.in_flight_limit(TEST) == 10  # 20 between two processes
        other.kill()
        other.wait()
        budget.lost(budget.acquire(TEST, INVOICES))
        assert budget.in_flight_limit(TEST) == 20  # the other one died: its share comes back
    finally:
        other.kill()


_BOOKER = """
import json, sys
from pathlib import Path
from jde_stripe_pipeline.stripe_sink import pacing
from jde_stripe_pipeline.stripe_sink.shared import FileStore
store = FileStore(Path(sys.argv[1]))
lanes = (("global", 20.0),)
print(json.dumps([store.update(lambda s: pacing.book(s, lanes, 1000.0)) for _ in range(40)]))
"""


def test_processes_book_one_schedule_through_the_locked_file(tmp_path: Path) -> None:
    """Two processes book 40 slots each at the same instant: 80 distinct slots 1/20 s apart, none twice."""
    path = tmp_path / "shared.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    runs = [
        subprocess.Popen([sys.executable, "-c", _BOOKER, str(path)], stdout=subprocess.PIPE, env=env)
        for _ in range(2)
    ]
    booked = sorted(t for run in runs for t in json.loads(run.communicate(timeout=60)[0]))
    assert booked == pytest.approx([1000.0 + i / 20 for i in range(80)])
