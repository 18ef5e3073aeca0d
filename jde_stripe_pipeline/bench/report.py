"""The bench's tables (Markdown, printed and written to docs/performance.md) from the measured rows."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from jde_stripe_pipeline.bench.cells import Measured

SYSTEMS = ("project", "baseline", "minimum")
GROUPS = (
    ("customer:new", "new cus"),
    ("invoice:new", "new inv"),
    ("customer:changed", "chg cus"),
    ("invoice:changed", "chg inv"),
    ("customer:old", "unch cus"),
    ("invoice:old", "unch inv"),
)


def _key(row: Measured) -> tuple[str, str, float, str]:
    return row.scenario, row.profile, row.latency_ms, row.system


def medians(rows: Iterable[Measured]) -> list[Measured]:
    """One row per (scenario, profile, latency, system): the median wall time and share over repeats;
    requests from the first repeat (counts are stable; a difference is reported as an error)."""
    grouped: dict[tuple[str, str, float, str], list[Measured]] = {}
    for row in rows:
        grouped.setdefault(_key(row), []).append(row)
    merged = []
    for group in grouped.values():
        first = group[0]
        shares = [r.share for r in group if r.share is not None]
        errors = list(first.errors)
        if any(r.requests != first.requests for r in group) and not first.estimated:
            errors.append(f"request counts differ between repeats: {[r.total for r in group]}")
        merged.append(
            replace(
                first,
                wall_seconds=statistics.median(r.wall_seconds for r in group),
                stripe_seconds=_median(r.stripe_seconds for r in group),
                share=statistics.median(shares) if shares else None,
                errors=tuple(errors),
                runs=tuple((r.wall_seconds, r.stripe_seconds) for r in group) if len(group) > 1 else (),
            )
        )
    return merged


def _median(values: Iterable[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.median(found) if found else None


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _lookup(rows: Sequence[Measured], row: Measured, system: str) -> Measured | None:
    return next((r for r in rows if _key(r) == (row.scenario, row.profile, row.latency_ms, system)), None)


def main_table(rows: Sequence[Measured]) -> str:
    header = [
        "scenario",
        "profile",
        "median latency",
        "system",
        "wall s",
        "Stripe s",
        "requests",
        *(f"req/{label}" for _, label in GROUPS),
        "listing",
        "recon reads",
        "share of binding limit",
        "429s",
        "× baseline",
        "× lower bound",
        "extract rec/s",
        "peak MiB",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    order = {s: i for i, s in enumerate(SYSTEMS)}
    for row in sorted(rows, key=lambda r: (r.scenario, r.profile, r.latency_ms, order.get(r.system, 9))):
        baseline, minimum = _lookup(rows, row, "baseline"), _lookup(rows, row, "minimum")
        approx = "≈" if row.estimated else ""
        share = "-" if row.share is None else f"{row.share:.0%} ({row.binding})"
        if row.system == "minimum":
            share = f"binding: {row.binding}"
        cells = [
            row.scenario,
            row.profile,
            f"{row.latency_ms:g} ms",
            row.system,
            approx + _number(row.wall_seconds),
            approx + _number(row.stripe_seconds),
            approx + f"{row.total:,}",
            *(_number(row.per_record.get(group), 2) for group, _ in GROUPS),
            str(row.listing) if row.system != "baseline" else "-",
            str(row.reconcile_reads) if row.system != "baseline" else "-",
            share,
            str(row.throttled) if row.system != "minimum" else "-",
            _ratio(row, baseline),
            _ratio(row, minimum),
            _number(row.extract_per_second, 0),
            _number(row.peak_mib, 0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ratio(row: Measured, other: Measured | None) -> str:
    if other is None or other is row or not other.wall_seconds:
        return "-"
    return f"{row.wall_seconds / other.wall_seconds:.2f}"


def repeats_table(rows: Sequence[Measured]) -> str:
    """Each repeated cell's runs, in the order run, wall and Stripe time with their ratios to the lower
    bound: the machine's noise behind the medians. Empty without repeats."""
    lines = []
    for row in rows:
        minimum = _lookup(rows, row, "minimum")
        if row.system != "project" or not row.runs or minimum is None or not minimum.wall_seconds:
            continue
        bound = minimum.wall_seconds
        walls = ", ".join(f"{wall:.1f} s ({wall / bound:.3f} ×)" for wall, _ in row.runs)
        stripes = ", ".join(f"{s:.1f} s ({s / bound:.3f} ×)" for _, s in row.runs if s is not None)
        label = f"{row.scenario}, {row.profile}, {row.latency_ms:g} ms"
        lines.append(f"| {label} | {walls} | {stripes} | {bound:.1f} s |")
    if not lines:
        return ""
    header = (
        "| cell (project) | wall time of each run (× lower bound) | Stripe time of each run | lower bound |"
    )
    return "\n".join([header, "|---|---|---|---|", *lines])


def endpoint_table(rows: Sequence[Measured]) -> str:
    """Requests by endpoint per scenario and profile (at the lowest latency: counts hardly move with it)."""
    out = []
    latency = min((r.latency_ms for r in rows), default=0.0)
    cells = sorted({(r.scenario, r.profile) for r in rows})
    for scenario, profile in cells:
        chosen = {
            r.system: r for r in rows if (r.scenario, r.profile, r.latency_ms) == (scenario, profile, latency)
        }
        endpoints: Counter[str] = Counter()
        for row in chosen.values():
            endpoints.update(row.requests)
        out.append(f"**{scenario}, {profile} profile, {latency:g} ms**\n")
        out.append("| endpoint | minimum | project | baseline |\n|---|---|---|---|")
        for endpoint in sorted(endpoints):
            values = [
                chosen[s].requests.get(endpoint, 0) if s in chosen else "-"
                for s in ("minimum", "project", "baseline")
            ]
            approx = "≈" if chosen.get("baseline") and chosen["baseline"].estimated else ""
            out.append(f"| `{endpoint}` | {values[0]} | {values[1]} | {approx}{values[2]} |")
        out.append("")
    return "\n".join(out)


def problems(rows: Sequence[Measured]) -> list[str]:
    return [
        f"{r.scenario}/{r.profile}/{r.latency_ms:g} ms/{r.system}: {error}"
        for r in rows
        for error in r.errors
    ]
