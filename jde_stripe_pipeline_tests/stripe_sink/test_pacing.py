"""The shared token bucket, on an injected clock (no real time passes)."""

import threading
import time

import pytest

from jde_stripe_pipeline.stripe_sink.pacing import TokenBucket


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_burst_is_free_then_one_token_per_interval() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock, sleep=clock.sleep)
    waits = [bucket.reserve() for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == pytest.approx([0.1, 0.2, 0.3])


def test_long_run_rate_never_exceeds_the_setting() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=20, burst=5, clock=clock, sleep=clock.sleep)
    start = clock()
    for _ in range(205):
        bucket.acquire()
    # 5 free from the burst, then 200 at 20/s: 10 s, not less
    assert clock() - start == pytest.approx(10.0)


def test_idle_time_refills_up_to_burst_only() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=2, clock=clock, sleep=clock.sleep)
    bucket.reserve()
    bucket.reserve()
    clock.sleep(60)  # a long quiet spell refills 2 tokens, not 600
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.1])


def test_partial_refill_shortens_the_wait() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=4, burst=1, clock=clock, sleep=clock.sleep)
    assert bucket.reserve() == 0.0
    clock.sleep(0.1)
    assert bucket.reserve() == pytest.approx(0.15)


def test_threads_share_one_budget_and_each_gets_its_turn() -> None:
    """8 threads x 25 reservations: every slot handed out once, evenly spaced, no thread starved."""
    clock = FakeClock()  # frozen: nobody sleeps, so the reservations show the schedule
    bucket = TokenBucket(rate=50, burst=1, clock=clock, sleep=clock.sleep)
    per_thread: dict[int, list[float]] = {}
    barrier = threading.Barrier(8)

    def worker(index: int) -> None:
        barrier.wait()
        per_thread[index] = [bucket.reserve() for _ in range(25)]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = sorted(wait for waits in per_thread.values() for wait in waits)
    assert every == pytest.approx([i / 50 for i in range(200)])
    for waits in per_thread.values():
        assert waits == sorted(waits)  # each thread's turns come in the order it asked


def test_real_threads_are_paced_by_the_real_clock() -> None:
    bucket = TokenBucket(rate=200, burst=1)
    start = time.monotonic()
    threads = [threading.Thread(target=lambda: [bucket.acquire() for _ in range(10)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - start >= 39 / 200 - 0.01


def test_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(rate=1, burst=0)
