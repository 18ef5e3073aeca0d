"""System 1: this project, through the path Dagster runs — the real sync job of the real Definitions,
materialized for one partition (`execute_in_process`, as the demo does), on a SQLite Dagster instance
of its own, with the settings a user gives in the environment (the sink's pacing left at its
defaults, `stripe_sink/limits.py`).

Runs in a child process (`child.run_in_child`); reports the epoch start and end of every step, each
asset's materialization counts, and the run's failures.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jde_stripe_pipeline.bench.child import RunFigures, run_in_child
from jde_stripe_pipeline.ledger.model import OUTCOMES

RUN = "run"
"""The phase from `execute_in_process` to its return: the run's wall time (imports excluded)."""
STEP_EVENTS = {"STEP_START": 0, "STEP_SUCCESS": 1, "STEP_FAILURE": 1}
_COUNTED = OUTCOMES | {"records", "stripe_requests", "mismatches", "invoices"}
"""The materialization metadata kept as counts: one per sync outcome (the ledger's list), plus these."""


def run_project(env: Mapping[str, str], partition_key: str) -> RunFigures:
    """Materialize every asset of the sync job for `partition_key` in a child process."""
    return run_in_child(_materialize, env, {"partition_key": partition_key})


Outcome = tuple[bool, dict[str, tuple[float, float]], dict[str, Any], list[str]]


def _materialize(env: Mapping[str, str], options: Mapping[str, Any]) -> Outcome:
    """The child's work: a SQLite Dagster instance under DAGSTER_HOME, as the demo writes it."""
    import dagster as dg

    from jde_stripe_pipeline.demo.home import DAGSTER_YAML

    home = Path(env.get("DAGSTER_HOME") or tempfile.mkdtemp(prefix="bench-dagster-"))
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(DAGSTER_YAML.format(history=json.dumps(str(home / "history"))))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return materialize(str(options["partition_key"]), instance)


def materialize(partition_key: str, instance: Any) -> Outcome:
    """The sync job of the definitions, for one partition, in this process (the environment must
    already point at the sandboxes): (success, epoch span of the run and of each step, each asset's
    materialization counts, step failures). The definitions are built from the environment now, as
    the code location builds them (not `jde_stripe_pipeline.definitions`, which a process imports once)."""
    warnings.filterwarnings("ignore")
    from jde_stripe_pipeline.demo.run import QUIET_RUN_CONFIG
    from jde_stripe_pipeline.orchestration.definitions import build_definitions
    from jde_stripe_pipeline.orchestration.jobs import sync_job
    from jde_stripe_pipeline.settings import Settings

    defs = build_definitions(Settings.from_env(os.environ))
    job = defs.resolve_job_def(sync_job.name)
    run_started = time.time()
    result = job.execute_in_process(
        partition_key=partition_key, instance=instance, run_config=QUIET_RUN_CONFIG, raise_on_error=False
    )
    phases: dict[str, list[float]] = {RUN: [run_started, time.time()]}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is not None and event.step_key and event.event_type_value in STEP_EVENTS:
            span = phases.setdefault(event.step_key, [entry.timestamp, entry.timestamp])
            span[STEP_EVENTS[event.event_type_value]] = entry.timestamp
    counts: dict[str, Any] = {}
    for node in job.graph.node_names():
        for materialization in result.asset_materializations_for_node(node):
            values = {k: v.value for k, v in materialization.metadata.items() if k in _COUNTED}
            counts[node] = {k: int(v) for k, v in values.items() if isinstance(v, int | float)}
    errors = [
        f"{event.step_key}: {error.message.strip() if error else 'failed'}"
        for event in result.get_step_failure_events()
        for error in [event.step_failure_data.error]
    ]
    return result.success, {k: (v[0], v[1]) for k, v in phases.items()}, counts, errors
