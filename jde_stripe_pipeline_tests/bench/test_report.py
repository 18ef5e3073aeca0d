"""The bench's report of repeated runs: medians, and each run behind them (the machine's noise)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from jde_stripe_pipeline.bench.cells import Measured
from jde_stripe_pipeline.bench.docs import load, write
from jde_stripe_pipeline.bench.report import medians, repeats_table
from jde_stripe_pipeline.bench.targets import checklist


def _run(system: str, wall: float, stripe: float) -> Measured:
    return Measured("initial", "live", 300.0, system, wall, stripe, Counter({"POST /v1/invoices": 10}))


def test_repeats_keep_each_runs_times_beside_the_median_and_survive_a_re_render(tmp_path: Path) -> None:
    rows = medians(
        [
            _run("project", 98.0, 95.0),
            _run("project", 99.5, 96.2),
            _run("project", 97.1, 94.6),
            *[_run("minimum", 89.6, 89.6)] * 3,
        ]
    )
    project = next(r for r in rows if r.system == "project")
    assert project.wall_seconds == 98.0
    assert project.runs == ((98.0, 95.0), (99.5, 96.2), (97.1, 94.6))
    table = repeats_table(rows)
    assert "98.0 s (1.094 ×), 99.5 s (1.110 ×), 97.1 s (1.084 ×)" in table
    assert "| 89.6 s |" in table
    line = next(item for item in checklist(rows, []) if "initial load" in item)
    assert "worst 1.09 ×" in line and "single runs 1.084–1.110 ×" in line
    write(tmp_path, rows, {"date": "today"}, [])
    again, _, _ = load(tmp_path / "performance.json")
    assert next(r for r in again if r.system == "project").runs == project.runs


def test_a_single_run_has_no_spread_to_show() -> None:
    rows = medians([_run("project", 98.0, 95.0), _run("minimum", 89.6, 89.6)])
    assert repeats_table(rows) == ""
    assert not any("single runs" in item for item in checklist(rows, []))
