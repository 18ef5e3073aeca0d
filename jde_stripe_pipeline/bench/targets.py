"""Issue 10's targets, checked against one bench run's rows: what holds, what does not, the worst case."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jde_stripe_pipeline.bench.cells import Measured

MIB_LIMIT = 1024


def _project(rows: Sequence[Measured], scenario: str) -> list[Measured]:
    return [r for r in rows if r.system == "project" and r.scenario == scenario]


def _minimum(rows: Sequence[Measured], row: Measured) -> Measured | None:
    key = (row.scenario, row.profile, row.latency_ms, "minimum")
    return next((r for r in rows if (r.scenario, r.profile, r.latency_ms, r.system) == key), None)


def _line(held: bool | None, text: str, worst: str) -> str:
    mark = "–" if held is None else "✓" if held else "✗"
    return f"- {mark} {text}: {worst}"


def _per_record(rows: Sequence[Measured], group: str, limit: float) -> tuple[bool | None, str]:
    values = [(r.per_record[group], r) for r in rows if group in r.per_record]
    if not values:
        return None, "not measured"
    worst, row = max(values, key=lambda item: item[0])
    return worst <= limit + 1e-9, f"worst {worst:.2f} ({row.scenario}, {row.profile}, {row.latency_ms:g} ms)"


def checklist(rows: Sequence[Measured], extract: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per target of issue 10 (✓ held in every cell, ✗ missed somewhere, – not measured)."""
    project = [r for r in rows if r.system == "project"]
    lines = []
    for group, limit, text in (
        ("customer:new", 1.0, "1 request per new customer"),
        ("customer:changed", 1.0, "1 request per changed customer"),
        ("invoice:new", 2.0, "at most 2 requests per new invoice"),
        ("customer:old", 0.0, "no request for an unchanged customer (sync steps)"),
        ("invoice:old", 0.0, "no request for an unchanged invoice (sync steps)"),
    ):
        held, worst = _per_record(project, group, limit)
        lines.append(_line(held, text, worst))
    changed = [
        (r.per_record["invoice:changed"], m.per_record["invoice:changed"], r)
        for r in project
        if "invoice:changed" in r.per_record
        and (m := _minimum(rows, r))
        and "invoice:changed" in m.per_record
    ]
    if changed:
        got, need, row = max(changed, key=lambda item: item[0] - item[1])
        lines.append(
            _line(
                got <= need + 1e-9,
                "a changed invoice: 1 read + 1 per kind of line change (+1 header)",
                f"{got:.2f} per changed invoice against {need:.2f} ({row.profile}, {row.latency_ms:g} ms)",
            )
        )
    incremental = _project(rows, "incremental")
    if incremental:
        listing = max(r.listing for r in incremental)
        lines.append(
            _line(listing == 0, "incremental day: no whole-account listing", f"up to {listing} list pages")
        )
        ratios = [(r.total / m.total, r) for r in incremental if (m := _minimum(rows, r)) and m.total]
        if ratios:
            ratio, row = max(ratios, key=lambda item: item[0])
            lines.append(
                _line(
                    ratio <= 1.1,
                    "incremental day: requests within 1.1 × the change's minimum",
                    f"{ratio:.2f} × ({row.profile})",
                )
            )
    fill = [r for r in project if r.latency_ms >= 300 and r.scenario == "initial" and r.share is not None]
    if fill:
        low = min(fill, key=lambda r: r.share or 0.0)
        lines.append(
            _line(
                all((r.share or 0) >= 0.9 for r in fill),
                "write phase ≥ 90% of the binding limit at 300 ms and 1 s (initial load)",
                f"lowest {low.share:.0%} of {low.binding} ({low.profile}, {low.latency_ms:g} ms)",
            )
        )
    sent = sum(r.total + r.throttled for r in project)
    throttled = sum(r.throttled for r in project)
    failed = [e for r in project for e in r.errors]
    lines.append(_line(not failed, "no record fails", f"{len(failed)} problem(s)" if failed else "none"))
    if sent:
        lines.append(
            _line(
                throttled <= 0.01 * sent,
                "throttled ≤ 1% of requests sent",
                f"{throttled} of {sent} ({throttled / sent:.1%})",
            )
        )
    loads = [
        (r.wall_seconds / m.wall_seconds, r)
        for r in _project(rows, "initial")
        if (m := _minimum(rows, r)) and m.wall_seconds
    ]
    if loads:
        ratio, row = max(loads, key=lambda item: item[0])
        bounds = [(r.stripe_seconds or 0.0) / m.wall_seconds for _, r in loads if (m := _minimum(rows, r))]
        runs = [
            wall / m.wall_seconds for _, r in loads if (m := _minimum(rows, r)) for wall, _stripe in r.runs
        ]
        spread = f"; single runs {min(runs):.3f}–{max(runs):.3f} ×" if runs else ""
        lines.append(
            _line(
                ratio <= 1.1,
                "initial load ≤ 1.1 × the lower bound",
                f"worst {ratio:.2f} × in wall time ({row.profile}, {row.latency_ms:g} ms; extract, Dagster "
                f"and reconciliation included{spread}), worst {max(bounds):.2f} × in Stripe time",
            )
        )
    for figures in extract:
        if figures.get("kind") == "customers":
            peak = float(figures["peak_rss_mib"])
            lines.append(
                _line(
                    peak < MIB_LIMIT and int(figures["records"]) >= 100_000,
                    "extract + map of 100,000 customers under 1 GiB",
                    f"{peak:.0f} MiB for {int(figures['records']):,} customers",
                )
            )
    return lines
