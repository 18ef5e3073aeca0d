"""Through Dagster itself: `dagster asset materialize` of one partition, twice at once — how issue 11
first met doubled lines (the CLI bypasses the run queue's per-partition limit).

Each materialization has a `DAGSTER_HOME` of its own (several CLI runs migrating one fresh SQLite home
at once break Dagster's own storage, an upstream matter); the ledger is shared, as in production. The
second materialization starts when Stripe has created the first one's first draft, and the first
one's lines are held (at most 6 s) until the second has listed the invoices: the race is staged rather
than hoped for. A last harness run then syncs every other day's changes so the whole of JDE can be
judged.
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from jde_stripe_pipeline.reliability.arena import Arena
from jde_stripe_pipeline.reliability.matrix import Scenario
from jde_stripe_pipeline.reliability.scenarios_process import race_second_run

RUN_CONFIG = """resources:
  stripe:
    config:
      step_retries: 1
      step_retry_delay_seconds: 0
"""


def busiest_day(arena: Arena) -> str:
    """The partition (UPMJ day, JDE local) with the most purchase-order headers changed."""
    days = Counter(row["UPMJ"] for row in arena.servers.admin.rows("F4301") if row["UPMJ"])
    julian = max(days, key=lambda d: (days[d], d))
    return (date(1900 + julian // 1000, 1, 1) + timedelta(days=julian % 1000 - 1)).isoformat()


def _materialize(arena: Arena, label: str, partition: str, env: dict[str, str] | None = None) -> Any:
    home = arena.workdir / f"dagster-home-{label}"
    home.mkdir(exist_ok=True)
    config = arena.workdir / "run_config.yaml"
    config.write_text(RUN_CONFIG)
    dagster = shutil.which("dagster", path=str(Path(sys.executable).parent)) or "dagster"
    command = [dagster, "asset", "materialize", "-m", "jde_stripe_pipeline.definitions", "--select", "*"]
    command += ["--partition", partition, "-c", str(config)]
    return arena.start_run(label, command=command, env={"DAGSTER_HOME": str(home), **(env or {})})


def two_materializations(arena: Arena) -> None:
    partition = busiest_day(arena)
    arena.notes.append(f"partition {partition}")
    second, listed = race_second_run(arena, lambda env: _materialize(arena, "b", partition, env))
    first = _materialize(arena, "a", partition)
    codes = [arena.wait(first).code] + [arena.wait(process).code for process in second]
    arena.notes.append(
        f"the materializations exited {' and '.join(map(str, codes))} (0: Dagster saw success)"
    )
    arena.servers.stripe.clear()
    if not listed.is_set():
        arena.notes.append("the second materialization did not list the invoices while the lines were held")
    arena.run("all days")


SCENARIOS = [
    Scenario(
        "dagster_two_materializations",
        "`dagster asset materialize` of the busiest day twice at once (the 2nd starts at the 1st's first"
        " draft, whose lines wait for the 2nd's listing), then every other day synced",
        two_materializations,
    ),
]
