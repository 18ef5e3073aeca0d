"""Pacing arithmetic, pure: when may the next request leave, and how a 429 slows a lane (AIMD).

Each limiter is a *lane* with a theoretical arrival time `tat` (GCRA, the scheduling form of a token
bucket): a request leaves at `max(now, tat - tolerance)` over all its lanes and moves each lane's `tat` on
by `1 / pace`, so requests leave evenly spaced and no one-second window holds more than `pace + burst - 1`.
Booking happens under the caller's lock, so no slot is handed out twice; each request costs
`1 / pace` of the pace of whoever sent it, so runs with different settings still share one schedule.

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

from collections.abc import Callable, Iterable
from typing import Any, Final

State = dict[str, Any]
FLOOR: Final = 0.05
DECREASE: Final = 0.5
INCREASE: Final = 0.01
COOLDOWN: Final = 0.5
STALE_SECONDS: Final = 300.0
PROCESS_TTL: Final = 10.0
"""A process that booked nothing for this long no longer counts as sharing the account's in-flight cap."""


def _lane(state: State, name: str, now: float) -> dict[str, float]:
    lanes: dict[str, dict[str, float]] = state.setdefault("lanes", {})
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
