"""Pacing arithmetic, pure: when may the next request leave, and how a 429 slows a lane (AIMD).

Each limiter is a *lane* with a theoretical arrival time `tat` (GCRA, the scheduling form of a token
bucket): a request is booked at `max(now, tat - tolerance)` over all its lanes and moves each lane's `tat`
on by `1 / pace`, so requests are booked evenly spaced, first come first served. Booking happens under the
caller's lock, so no slot is handed out twice; each request costs `1 / pace` of the pace of whoever sent
it, so runs with different settings still share one schedule.

A thread that wakes late for its slot (a loaded machine) would then go right beside the next one, and a
second could hold a request more than the pace. So when it wakes, a request is *admitted* only if each
lane's record of actual sends leaves room for it (`admit`: the pace in any second, and a token of a
bucket at the limit that leaves room for sends reaching Stripe late); else it waits. Spacing comes from
the booking, the bound from the admission.

AIMD: a 429 halves the lane's `factor` (at most once per `COOLDOWN` seconds: the requests in flight when
the limiter filled up answer 429 together) down to `FLOOR`, and pushes its `tat` one slot past now; each
success grows the factor by 1% back to 1. A lane Stripe keeps refusing therefore converges under the real
limit with about one 429 per 70 requests, and a one-off 429 costs a second or two at a lower pace.

The state is a plain JSON-able dict (`{"lanes": {...}, "processes": {...}}`), so the same arithmetic
runs on an in-process state and on the file processes share (`shared.py`). Times are wall-clock seconds
(`time.time()`), the one clock every process on a host agrees on; a `tat` more than `STALE_SECONDS` ahead
(a clock that jumped, a file from before a reboot) is forgotten.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Final

State = dict[str, Any]
FLOOR: Final = 0.05
DECREASE: Final = 0.5
INCREASE: Final = 0.01
COOLDOWN: Final = 0.5
STALE_SECONDS: Final = 300.0
JITTER_SECONDS: Final = 0.1
"""How much later than its neighbours a request admitted here may reach Stripe (a thread or process
paused by a busy machine, the network) without overfilling one of Stripe's seconds (`admit`)."""
PROCESS_TTL: Final = 10.0
"""A process that booked nothing for this long no longer counts as sharing the account's in-flight cap."""


def _lane(state: State, name: str, now: float) -> dict[str, Any]:
    lanes: dict[str, dict[str, Any]] = state.setdefault("lanes", {})
    lane = lanes.get(name)
    if lane is None or not isinstance(lane, dict) or float(lane.get("tat", 0.0)) > now + STALE_SECONDS:
        lane = lanes[name] = {"tat": now, "factor": 1.0, "cut_at": 0.0}
    return lane


def factor(state: State, name: str) -> float:
    lane = state.get("lanes", {}).get(name)
    return float(lane["factor"]) if lane else 1.0


def book(state: State, lanes: Iterable[tuple[str, float]], now: float, burst: int = 1) -> float:
    """Reserve the earliest time every lane allows (>= now) and return it. `lanes`: (name, pace)."""
    entries = [(_lane(state, name, now), pace) for name, pace in lanes]
    at = now
    for lane, pace in entries:
        interval = 1.0 / (pace * lane["factor"])
        at = max(at, lane["tat"] - (burst - 1) * interval)
    for lane, pace in entries:
        lane["tat"] = max(lane["tat"], at) + 1.0 / (pace * lane["factor"])
    return at


def admit(
    state: State, lanes: Iterable[tuple[str, float]], now: float, burst: int = 1, headroom: float = 1.0
) -> float:
    """0.0 and the send recorded in every lane when it fits, else how long to wait (nothing recorded).

    It fits when no lane has had `pace + burst - 1` sends in the last second, and the lane's *limit*
    (`pace × headroom`, Stripe's rate the pace keeps a margin below) has a token for it in a bucket
    that refills at that limit and holds `limit × (1 - JITTER_SECONDS)` less one. Stripe's limiters
    are token buckets holding a second's worth (as the emulator models them), so sends that reach
    Stripe up to `JITTER_SECONDS` late and unevenly still find a token in each: arrivals in any span T
    come from sends in T + jitter, at most `limit × (1 + T)`. (A cap of the limit per 1.1 s, the earlier
    rule, held the sustained rate to limit / 1.1 — 91% — below the pace itself.)"""
    entries = [(_lane(state, name, now), pace) for name, pace in lanes]
    wait = 0.0
    buckets: list[float] = []
    for lane, pace in entries:
        rate = pace * lane["factor"]
        recent = [t for t in lane.get("recent", ()) if t > now - 1.0]
        lane["recent"] = recent
        per_second = max(1, math.floor(rate) + burst - 1)
        if len(recent) >= per_second:
            wait = max(wait, recent[-per_second] + 1.0 - now)
        limit = rate * headroom
        capacity = max(1.0, limit * (1.0 - JITTER_SECONDS) - 1.0)
        since = max(0.0, now - float(lane.get("filled_at", now)))
        tokens = min(capacity, float(lane.get("tokens", capacity)) + since * limit)
        buckets.append(tokens)
        if tokens < 1.0:
            wait = max(wait, (1.0 - tokens) / limit)
    if wait > 0:
        return wait
    for (lane, _), tokens in zip(entries, buckets, strict=True):
        lane["recent"].append(now)
        lane["tokens"] = tokens - 1.0
        lane["filled_at"] = now
    return 0.0


def throttled(state: State, name: str, pace: float, now: float) -> bool:
    """A 429 from this lane's limiter: halve its pace (once per cooldown). True if it was cut now."""
    lane = _lane(state, name, now)
    if now - lane["cut_at"] < COOLDOWN:
        return False
    lane["factor"] = max(FLOOR, lane["factor"] * DECREASE)
    lane["cut_at"] = now
    lane["tat"] = max(lane["tat"], now + 1.0 / (pace * lane["factor"]))
    return True


def succeeded(state: State, names: Iterable[str], now: float) -> None:
    """An answer that was not a 429: each lane's pace creeps back towards its ceiling."""
    for name in names:
        lane = state.get("lanes", {}).get(name)
        if lane and lane["factor"] < 1.0 and now - lane["cut_at"] >= COOLDOWN:
            lane["factor"] = min(1.0, lane["factor"] * (1.0 + INCREASE))


def sharing_processes(state: State, pid: int, now: float, alive: Callable[[int], bool]) -> int:
    """Mark `pid` as pacing now and count the processes sharing the budget (itself included): those seen
    within `PROCESS_TTL` that still exist."""
    processes: dict[str, float] = state.setdefault("processes", {})
    processes[str(pid)] = now
    for other, seen in list(processes.items()):
        if other != str(pid) and (now - float(seen) > PROCESS_TTL or not alive(int(other))):
            del processes[other]
    return len(processes)


def leave(state: State, pid: int) -> None:
    """The process stops pacing (its sink closed): the others may use its share at once."""
    state.setdefault("processes", {}).pop(str(pid), None)
