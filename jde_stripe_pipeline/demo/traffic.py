"""What the scale-out run measured (pure): each Stripe account's requests as the emulator logged them, and
the Dagster runs of each account, reduced to the figures issue 13 asks about — did the accounts' runs
overlap in time, and did each account stay within its own rate budget (as Stripe's token bucket
counts it: `beyond_bucket`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountTraffic:
    """One account's requests at the emulator: when they arrived, the busiest second, the 429s."""

    account: str
    requests: int
    first: float
    last: float
    peak_per_second: int
    throttled: int
    seconds: frozenset[int]
    """The whole seconds (epoch) in which the account sent at least one request."""
    arrivals: tuple[float, ...] = ()


@dataclass(frozen=True)
class RunSpan:
    """One Dagster run of one account: its pair and when it ran (epoch seconds)."""

    account: str
    day: str
    status: str
    start: float
    end: float


def peak_per_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most arrivals within any `window` seconds (a sliding window, not calendar seconds)."""
    ordered = sorted(times)
    peak, low = 0, 0
    for high, at in enumerate(ordered):
        while at - ordered[low] >= window:
            low += 1
        peak = max(peak, high - low + 1)
    return peak


def beyond_bucket(times: Sequence[float], rate: float) -> int:
    """The arrivals a token bucket at `rate` would refuse: Stripe's limiter as the emulator models it,
    holding a second's worth (`rate` tokens), full at the first arrival, refilled continuously. Unlike
    the busiest sliding second, this is what decides a 429: a bucket lets a paced stream send a short
    burst above the rate (the sink's `burst`) and take the tokens it saved while it sent less."""
    tokens, last, refused = rate, None, 0
    for at in sorted(times):
        if last is not None:
            tokens = min(rate, tokens + (at - last) * rate)
        last = at
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            refused += 1
    return refused


def account_traffic(
    entries: Iterable[Mapping[str, object]], names: Mapping[str, str]
) -> list[AccountTraffic]:
    """Per account (emulator account id → routing name in `names`), from the emulator's request log
    entries (`received_at`, `account`, `status`); accounts in the order of `names`."""
    arrivals: dict[str, list[float]] = {name: [] for name in names.values()}
    throttled: dict[str, int] = dict.fromkeys(names.values(), 0)
    for entry in entries:
        name = names.get(str(entry.get("account")))
        if name is None:
            continue
        arrivals[name].append(float(entry["received_at"]))  # type: ignore[arg-type]
        throttled[name] += entry.get("status") == 429
    return [
        AccountTraffic(
            account=name,
            requests=len(times),
            first=min(times, default=0.0),
            last=max(times, default=0.0),
            peak_per_second=peak_per_window(times),
            throttled=throttled[name],
            seconds=frozenset(math.floor(t) for t in times),
            arrivals=tuple(sorted(times)),
        )
        for name, times in arrivals.items()
    ]


def overlap(spans: Sequence[tuple[float, float]]) -> float:
    """Seconds during which every one of these [start, end] intervals was open (0 if they never were)."""
    if not spans:
        return 0.0
    return max(0.0, min(end for _, end in spans) - max(start for start, _ in spans))


def most_at_once(runs: Iterable[RunSpan]) -> int:
    """The most runs that were running at the same moment."""
    events = sorted((t, step) for run in runs for t, step in ((run.start, 1), (run.end, -1)))
    running = peak = 0
    for _, step in events:  # at equal times an end (-1) sorts before a start: touching runs do not overlap
        running += step
        peak = max(peak, running)
    return peak


def runs_overlap(runs: Sequence[RunSpan]) -> float:
    """Seconds during which a run of every account was running at once."""
    accounts = sorted({run.account for run in runs})
    moments = sorted({t for run in runs for t in (run.start, run.end)})
    total = 0.0
    for start, end in itertools.pairwise(moments):
        middle = (start + end) / 2
        live = {run.account for run in runs if run.start <= middle < run.end}
        total += (end - start) if len(accounts) > 1 and live == set(accounts) else 0.0
    return total


def markdown(traffic: Sequence[AccountTraffic], runs: Sequence[RunSpan], budget: float, pace: float) -> str:
    """The measured table and the overlap figures, as docs/scaleout.md shows them."""
    lines = [
        "| account | runs | runs from → to (s) | Stripe requests | requests from → to (s) | seconds with "
        "requests | peak req/s (any 1 s) | budget | beyond the budget's bucket | 429s | most runs at once |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    zero = min([run.start for run in runs] + [t.first for t in traffic if t.requests], default=0.0)
    for item in traffic:
        mine = [run for run in runs if run.account == item.account]
        span = (
            f"{min(r.start for r in mine) - zero:.1f} → {max(r.end for r in mine) - zero:.1f}"
            if mine
            else "-"
        )
        lines.append(
            f"| {item.account} | {len(mine)} | {span} | {item.requests} | "
            f"{item.first - zero:.1f} → {item.last - zero:.1f} | {len(item.seconds)} | "
            f"{item.peak_per_second} | {budget:g}/s (paced at {pace:g}/s) | "
            f"{beyond_bucket(item.arrivals, budget)} | {item.throttled} | "
            f"{most_at_once(mine)} |"
        )
    both = frozenset.intersection(*(t.seconds for t in traffic)) if traffic else frozenset()
    together = peak_per_window([at for item in traffic for at in item.arrivals])
    lines += [
        "",
        f"- runs: {len(runs)}, {sum(r.status == 'SUCCESS' for r in runs)} succeeded; at most "
        f"{most_at_once(runs)} running at once",
        f"- the accounts' runs overlapped for {runs_overlap(runs):.1f} s (a run of each account running)",
        f"- their Stripe requests overlapped for {overlap([(t.first, t.last) for t in traffic]):.1f} s "
        f"(first → last request), and both accounts sent requests in {len(both)} of the same seconds",
        f"- both accounts together: peak {together} req/s in any 1 s (each account's budget: {budget:g}/s)",
    ]
    return "\n".join(lines)
