"""docs/performance.md and its chart, written by `make bench` from the measured rows."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jde_stripe_pipeline.bench.cells import Measured, profile_of
from jde_stripe_pipeline.bench.report import endpoint_table, main_table, problems, repeats_table
from jde_stripe_pipeline.bench.svg import Series, line_chart
from jde_stripe_pipeline.bench.targets import checklist

CHART = "performance-rate.svg"
DATA = "performance.json"
"""The rows behind the document, so it can be re-rendered (`--render`) without re-running."""

METHOD = """\
## How it is measured
- **Data**: the AIS sandbox seeded with purchase orders of 1–60 lines (70% 1–5, 25% 6–20, 5% 21–60)
  and their customers. Each scenario is ONE partition (a JDE update day), as one Dagster run syncs it.
  *Initial load*: every row stamped on that day. *Unchanged re-sync*: the same partition again.
  *Incremental day*: an account already synced a week earlier, with the day's new records and 1% of
  the old customers (renamed) and invoices changed (in turn: a line re-priced, a line added, a line
  cancelled, the order re-dated with a line re-priced).
- **The large account is pre-populated directly** (`bench/account.py`), not synced through the limit:
  the old records are extracted and mapped by the project's own code, each mapped request is handed
  to the emulator's request handler in-process (no socket, limits and latency off) exactly as the
  engine sends it (`POST /v1/customers`; `POST /v1/invoices` + `add_lines`, the engine's idempotency
  keys), and the ledger gets the rows the engine's recorder writes for a `created` record (mapping with
  the change hash, audit row) in one bulk insert; each run starts from copies of both files.
- **Systems**, on emulators set up alike (fresh per run; same seed):
  1. *project*: the real sync job of the real Definitions materialized for the partition
     (`execute_in_process`, SQLite Dagster instance) in a child process with the environment a user
     sets; the sink's pacing left at its defaults (`stripe_sink/limits.py`: 24/s global for a test
     key, 96/s for a live key, 24/s per endpoint, at most 20 requests on the wire). Wall
     time = `execute_in_process` (imports excluded), reconciliation included.
  2. *baseline*: a sequential SDK loop (`bench/baseline.py`): search the customer by metadata, then
     update or create it; list the customer's invoices to find the draft, create it or delete its
     items and update it, then one `POST /v1/invoiceitems` per line; a 429 waits 1 s. Same extract and
     mapping as the project. Run on a sample of each kind and category; its Stripe time and requests
     are extrapolated per group by a ratio estimate weighted by size (1 + lines per invoice) and
     marked `≈`.
  3. *minimum*: the lower bound: issue 10's minimum requests per endpoint (1 per new or changed
     customer; create + `add_lines` per new invoice; per changed invoice 1 read + 1 per kind of line
     change, +1 header update on a re-date; the reconciliation reads each untouched invoice once, a
     second time past 10 lines), timed by the profile's limiters: the largest of total/global rate,
     each endpoint's count/its rate, and (sum of mean latencies)/in-flight cap, plus one write's
     median latency for the last answer.
- **Latency**: the emulator's `stripe` preset (seeded log-normal, p99 = 4 × median) with the median
  set per run: writes at the median named in the table, reads at a third of it (the preset's 300/100).
- **Share of binding limit**: the limiters' time for the requests the run sent inside its write phase
  (first write received → last write answered; the read phase when it wrote nothing), with their
  actual latencies, over that phase's duration; the limiter named is the one that binds.
- **Wall s** is what a user waits for (the Dagster run: extract, sync, reconciliation); **Stripe s**
  runs from the first request received to the last answered. **Peak MiB** is the process's own
  high-water mark (`VmHWM`).
- **Per record** (`req/new cus` …): requests of the sync steps attributed to the record by the
  engine's idempotency key or the Stripe id in the path; `listing` = whole-account list pages;
  `recon reads` = the reconciliation step's requests. Baseline: its own count per record.
- **Bench settings**: `JDE_STRIPE_INVOICE_NUMBER_TEMPLATE` empty (no invoice numbers), because the
  emulator checks a number's uniqueness by scanning every invoice — on a 50,000-invoice account that
  costs more than the request. Request counts are the same either way.
"""


def chart(
    rows: Sequence[Measured], scenario: str = "initial", profile: str = "test", latency: float = 300.0
) -> str | None:
    """The SVG of one cell's admitted requests per second (project and baseline) with its limits."""
    cell = [
        r for r in rows if (r.scenario, r.profile, r.latency_ms) == (scenario, profile, latency) and r.series
    ]
    if not cell:
        cell = [r for r in rows if r.system == "project" and r.series]
        if not cell:
            return None
        first = cell[0]
        scenario, profile, latency = first.scenario, first.profile, first.latency_ms
        cell = [
            r
            for r in rows
            if (r.scenario, r.profile, r.latency_ms) == (scenario, profile, latency) and r.series
        ]
    limits = profile_of(profile, latency)
    lines = [("global limit", limits.global_rate)]
    if limits.endpoint_rate and limits.endpoint_rate != limits.global_rate:
        lines.append(("per endpoint", limits.endpoint_rate))
    series = [
        Series(r.system + (" (sample)" if r.estimated else ""), [(x, float(y)) for x, y in r.series])
        for r in cell
    ]
    title = f"Admitted requests per second: {scenario}, {profile} profile, {latency:g} ms median"
    return line_chart(title, series, lines, "seconds since the run started", "requests per second")


def document(
    rows: Sequence[Measured],
    context: Mapping[str, Any],
    extract: Sequence[Mapping[str, Any]],
    has_chart: bool,
) -> str:
    parts = [
        "# Performance (issue 10): `make bench`",
        "",
        "Written by `make bench` (`python -m jde_stripe_pipeline.bench`); re-run it to refresh. "
        "Figures from a shared 2-core machine are noisy: read ratios and counts, and re-run before quoting.",
        "",
        "## This run",
        *(f"- {name}: {value}" for name, value in context.items()),
        "",
        "## Issue 10's targets in this run",
        "",
        *checklist(rows, extract),
        "",
        "## Results",
        "",
        main_table(rows),
        "",
    ]
    repeats = repeats_table(rows)
    if repeats:
        parts += ["## Each run (the medians' spread)", "", repeats, ""]
    if has_chart:
        parts += [f"![admitted requests per second over one run]({CHART})", ""]
    parts += ["## Requests by endpoint", "", endpoint_table(rows)]
    parts += ["## Extract + map (peak memory)", ""]
    for figures in extract:
        parts.append(
            f"- {figures['kind']}: {figures['records']:,} records from {figures['rows']:,} AIS rows in "
            f"{figures['seconds']:.1f} s = {figures['records'] / figures['seconds']:,.0f} records/s, "
            f"{figures['rows'] / figures['seconds']:,.0f} rows/s; peak RSS {figures['peak_rss_mib']:.0f} MiB "
            f"(target < 1024 MiB) {'with' if figures.get('mapped') else 'without'} the mapping"
        )
    found = problems(rows)
    parts += ["", "## Problems seen in this run", ""]
    parts += [f"- {p}" for p in found] if found else ["None."]
    parts += ["", METHOD]
    return "\n".join(parts) + "\n"


def write(
    folder: Path, rows: Sequence[Measured], context: Mapping[str, Any], extract: Sequence[Mapping[str, Any]]
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    svg = chart(rows)
    if svg is not None:
        (folder / CHART).write_text(svg)
    path = folder / "performance.md"
    path.write_text(document(rows, context, extract, svg is not None))
    data = {"context": dict(context), "extract": list(extract), "rows": [_plain(r) for r in rows]}
    (folder / DATA).write_text(json.dumps(data, indent=1, default=str) + "\n")
    return path


def _plain(row: Measured) -> dict[str, Any]:
    """The row as JSON values (not `dataclasses.asdict`: it rebuilds a Counter from its items' pairs)."""
    found: dict[str, Any] = {}
    for item in dataclasses.fields(row):
        value = getattr(row, item.name)
        found[item.name] = dict(value) if isinstance(value, dict) else value
    return found


def load(path: Path) -> tuple[list[Measured], dict[str, Any], list[dict[str, Any]]]:
    """The rows, context and extract figures a bench saved next to its document."""
    data = json.loads(path.read_text())
    rows = []
    for found in data["rows"]:
        found["requests"] = Counter(found["requests"])
        found["series"] = [(float(x), int(y)) for x, y in found["series"]]
        found["errors"] = tuple(found["errors"])
        found["runs"] = tuple((float(w), None if s is None else float(s)) for w, s in found.get("runs", ()))
        rows.append(Measured(**found))
    return rows, dict(data["context"]), list(data["extract"])
