"""One Stripe account's budget: its rate lanes (shared through a `BudgetStore`) and its requests in flight.

Every attempt takes a `Permit` first: a slot of its endpoint's lane (`pacing.book`) and, when that comes,
one of the global lane (booked one after the other: a slot booked on the global lane at the time a busy
endpoint allows would hold up every other endpoint until then); then a place among the requests in
flight; then the lanes' admission (`pacing.admit`: room in the last second however late the thread woke
or long it waited for its place). A place is held only by a request about to go or at Stripe, so the
places measure what Little's law counts; slots are booked at most one per worker thread ahead, and the
admission applies a 429's cut at once even to those.

Requests in flight (Little's law: in flight ≈ rate × latency). The latency of answered requests is
followed as an EWMA; the place limit is `ceil(global pace × latency × LITTLE_HEADROOM) + 2` — enough to
keep the account's fastest lane full even when the log-normal tail holds a few requests long — capped by
the account's in-flight cap divided among the processes pacing it. A `global-concurrency` 429 halves the
cap of this process for a while (AIMD, like the lanes). The engine runs 1.5 threads per place
(`StripeSinkSettings.workers`): a thread also waits for its slot and works outside Stripe between
requests, and threads must never be what holds the rate down.

Sinks of one account in one process share one `AccountBudget` (`budget_for`, keyed by the budget's name:
the API base with the configured budget name, else with a fingerprint of the key); processes share its
lanes through the file of `shared.FileStore`.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from jde_stripe_pipeline.stripe_sink import pacing
from jde_stripe_pipeline.stripe_sink.keys import key_fingerprint
from jde_stripe_pipeline.stripe_sink.limits import CONCURRENCY, PACE_SHARE, Paces, lane_of_reason
from jde_stripe_pipeline.stripe_sink.shared import BudgetStore, open_store, process_alive

LITTLE_HEADROOM: Final = 2.0
LATENCY_WEIGHT: Final = 0.2
"""The EWMA's weight of the newest answer: about the last ten answers count."""


@dataclass(frozen=True)
class Permit:
    """One attempt's place in flight and its lanes; give it back with `answered`/`refused`/`lost`."""

    endpoint: str
    lanes: tuple[str, ...]
    waited: float
    """Seconds spent waiting for a place and a slot."""
    in_flight: int
    """Requests of this process in flight once this one went (itself included)."""
    sent_at: float
    arrived_at: float | None = None
    """When Stripe's answer arrived (`arrived`), before the SDK parsed it; None while on the wire."""


class AccountBudget:
    """Thread-safe; `clock` is wall time shared by processes, `sleep` waits for a booked slot."""

    def __init__(
        self,
        name: str,
        store: BudgetStore,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        pid: int | None = None,
    ):
        self.name = name
        self.store = store
        self._clock = clock
        self._sleep = sleep
        self._pid = os.getpid() if pid is None else pid
        self._places = threading.Condition()
        self._in_flight = 0
        self._processes = 1
        self._latency: float | None = None
        self._concurrency_factor = 1.0
        self._concurrency_cut_at = 0.0
        self._slow_lanes = False
        self._admissions: pacing.State = {}
        self._admissions_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AccountBudget({self.name}, {self.store!r})"

    # -- what the sink calls ---------------------------------------------------------------------------

    def acquire(self, paces: Paces, endpoint: str, burst: int = 1) -> Permit:
        """Wait for the slot every lane allows, then for a place in flight, then for the lanes'
        admission; then the caller sends."""
        started = time.monotonic()
        lanes = paces.lanes(endpoint)
        now_paced: list[tuple[str, float]] = []
        for lane in reversed(lanes):  # the endpoint's own lane first, the global one when that slot comes
            booking = functools.partial(self._book, lane=lane, burst=burst)
            wait, self._processes, factor = self.store.update(booking)
            now_paced.append((lane[0], lane[1] * factor))
            if wait > 0:
                self._sleep(wait)
        self._slow_lanes = any(
            rate < pace for (_, rate), (_, pace) in zip(now_paced, reversed(lanes), strict=True)
        )
        with self._places:
            while self._in_flight >= self.in_flight_limit(paces):
                self._places.wait(timeout=0.25)
            self._in_flight += 1
            in_flight = self._in_flight
        try:
            while (wait := self._admit(tuple(now_paced), burst)) > 0:
                self._sleep(wait)
        except BaseException:
            self._leave_place()
            raise
        names = tuple(name for name, _ in lanes)
        return Permit(endpoint, names, time.monotonic() - started, in_flight, time.monotonic())

    def arrived(self, permit: Permit) -> Permit:
        """The answer's bytes are here (or the connection failed): the place goes back now, not after
        the SDK has parsed the answer (`transport.WireClient`); `answered`/`refused`/`lost` then only
        account for the attempt."""
        self._leave_place()
        return replace(permit, arrived_at=time.monotonic())

    def answered(self, permit: Permit) -> float:
        """Stripe answered (anything but a 429): the latency feeds the EWMA; returns the EWMA."""
        latency = (permit.arrived_at or time.monotonic()) - permit.sent_at
        with self._places:
            previous = self._latency
            ewma = latency if previous is None else previous + LATENCY_WEIGHT * (latency - previous)
            self._latency = ewma
            self._grow_concurrency()
        if self._slow_lanes:
            now = self._clock()
            self.store.update(lambda state: pacing.succeeded(state, permit.lanes, now))
        self._leave_place(permit)
        return ewma

    def refused(self, permit: Permit, paces: Paces, reason: str | None) -> tuple[str, ...]:
        """A 429 from a rate or concurrency limiter: slow down what it names; returns the lanes cut."""
        now = self._clock()
        names = lane_of_reason(permit.endpoint, reason)
        pace = dict(paces.lanes(permit.endpoint))
        cut: list[str] = []
        if CONCURRENCY in names:
            with self._places:
                if now - self._concurrency_cut_at >= pacing.COOLDOWN:
                    self._concurrency_factor = max(
                        1.0 / paces.max_in_flight, self._concurrency_factor * pacing.DECREASE
                    )
                    self._concurrency_cut_at = now
                    cut.append(CONCURRENCY)
        lanes = [(name, pace[name]) for name in names if name in pace]
        if lanes:

            def cut_lanes(state: pacing.State) -> list[str]:
                return [name for name, rate in lanes if pacing.throttled(state, name, rate, now)]

            cut.extend(self.store.update(cut_lanes))
            self._slow_lanes = True
        self._leave_place(permit)
        return tuple(cut)

    def lost(self, permit: Permit) -> None:
        """No answer (a dropped connection, a timeout): only the place is given back."""
        self._leave_place(permit)

    def leave(self) -> None:
        """This process stops pacing the account (its last sink closed)."""
        self.store.update(lambda state: pacing.leave(state, self._pid))

    # -- state -----------------------------------------------------------------------------------------

    @property
    def latency(self) -> float | None:
        """The EWMA of answered requests' latency in seconds (None before the first answer)."""
        return self._latency

    @property
    def in_flight(self) -> int:
        """Requests of this process on the wire now."""
        with self._places:
            return self._in_flight

    def in_flight_limit(self, paces: Paces) -> int:
        """Places in flight for this process now: Little's law on the observed latency, under its share
        of the account's cap."""
        share = math.floor(paces.max_in_flight * self._concurrency_factor / max(self._processes, 1))
        share = max(1, share)
        if self._latency is None:
            return share
        littles = math.ceil(paces.global_rate * self._latency * LITTLE_HEADROOM) + 2
        return max(1, min(share, littles))

    def _book(self, state: pacing.State, lane: tuple[str, float], burst: int) -> tuple[float, int, float]:
        """Book a slot of one lane. Returns the wait for it, the processes sharing the budget, and the
        lane's AIMD factor now."""
        now = self._clock()
        at = pacing.book(state, (lane,), now, burst)
        processes = pacing.sharing_processes(state, self._pid, now, process_alive)
        return at - now, processes, pacing.factor(state, lane[0])

    def _admit(self, lanes: tuple[tuple[str, float], ...], burst: int) -> float:
        """The admission record is this process's (the shared schedule spaces the processes; keeping a
        second of send times in the shared file would cost a large read and write per request)."""
        with self._admissions_lock:
            return pacing.admit(self._admissions, lanes, self._clock(), burst, headroom=1.0 / PACE_SHARE)

    def _grow_concurrency(self) -> None:
        if self._concurrency_factor < 1.0 and self._clock() - self._concurrency_cut_at >= pacing.COOLDOWN:
            self._concurrency_factor = min(1.0, self._concurrency_factor * (1.0 + pacing.INCREASE))

    def _leave_place(self, permit: Permit | None = None) -> None:
        """Give a place back, unless `permit` already gave its own back on arrival."""
        if permit is not None and permit.arrived_at is not None:
            return
        with self._places:
            self._in_flight -= 1
            self._places.notify()


# -- one budget per account and process ----------------------------------------------------------------

_registry_lock = threading.Lock()
_registry: dict[tuple[str, str], tuple[AccountBudget, int]] = {}


def budget_name(api_base: str, configured: str | None, key: str) -> str:
    """The file-safe name of an account's budget: the API base and the configured name, else the key's
    fingerprint (a rotated key then starts a new budget unless a name is configured)."""
    who = f"name:{configured}" if configured else f"key:{key_fingerprint(key)}"
    return hashlib.sha256(f"{api_base.rstrip('/')}\0{who}".encode()).hexdigest()[:24]


def budget_for(name: str, directory: Path | None) -> AccountBudget:
    """The process's budget of that name (made on first use); give it back with `release_budget`."""
    registry_key = (str(directory or ""), name)
    with _registry_lock:
        found = _registry.get(registry_key)
        if found is not None:
            budget, users = found
            _registry[registry_key] = (budget, users + 1)
            return budget
        budget = AccountBudget(name, open_store(directory, name))
        _registry[registry_key] = (budget, 1)
        return budget


def release_budget(budget: AccountBudget) -> None:
    with _registry_lock:
        for registry_key, (known, users) in list(_registry.items()):
            if known is budget:
                if users > 1:
                    _registry[registry_key] = (known, users - 1)
                    return
                del _registry[registry_key]
                break
        else:
            return
    try:
        budget.leave()
    finally:
        budget.store.close()
