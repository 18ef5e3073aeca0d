"""`jde-stripe demo`: the whole pipeline, through Dagster, on the embedded sandboxes and SQLite.

The imperative shell of the demo. It starts both sandboxes, writes a fresh demo home (`.demo/` by default:
`dagster_home/` holds Dagster's SQLite instance, the ledger and an encrypted credential store with the
sandboxes' logins, kept after the demo so that `jde-stripe audit` and `dagster-webserver` can read
them), parses its settings from the environment a user would export, then runs the real sync job of
definitions built from those settings once per seeded partition. It never changes its own process
environment: the resources read the sandboxes' logins from the demo's credential store. Nothing is
left running when it returns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import shlex
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import requests

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT
from jde_stripe_pipeline.demo.changes import AppliedChanges, julian_to_key, make_changes
from jde_stripe_pipeline.demo.home import (
    DemoError,
    DemoHome,
    demo_environment,
    prepare_home,
    store_credentials,
)
from jde_stripe_pipeline.demo.partitions import SeededDays, seeded_days
from jde_stripe_pipeline.demo.readback import (
    holdings,
    moved_records,
    open_problems,
    outcomes_by_account,
    stripe_invoices,
    synced_keys,
    total_outcomes,
)
from jde_stripe_pipeline.demo.sandboxes import RunningSandboxes, SandboxSpec, export_lines, running_sandboxes
from jde_stripe_pipeline.demo.summary import (
    MOVING_OUTCOMES,
    CheckResult,
    DemoReport,
    PartitionRun,
    SyncRound,
    count_writes,
)
from jde_stripe_pipeline.demo.ui import dagster_ui
from jde_stripe_pipeline.sandboxes.ais.admin_client import AisAdmin
from jde_stripe_pipeline.sandboxes.foreground import wait_until_interrupted
from jde_stripe_pipeline.settings import Settings

Echo = Callable[[str], None]

INVOICE_SOURCE = "purchase_order"
SEED_DAYS = 28
"""The AIS sandbox stamps its seed rows 1-28 days before its as-of date."""
QUIET_RUN_CONFIG: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass(frozen=True)
class DemoOptions:
    seed: int = 7
    customers: int = 60
    invoices: int = 120
    home: Path = Path(".demo")
    change_records: bool = True
    days: int | None = None
    """Sync only the latest N days with changes (a quicker look); None: every seeded day."""
    ui: bool = False
    ui_host: str = "127.0.0.1"
    ui_port: int = 3000
    """0 picks a free port."""
    timezone: str = "America/Chicago"
    """The AIS sandbox's zone (JDE_TIMEZONE of the demo)."""
    source: str = INVOICE_SOURCE
    """`JDE_INVOICE_SOURCE` of the demo: `purchase_order`, or `ar_invoice` (posted A/R invoices)."""
    accounts: bool = True
    """Two Stripe accounts (JDE 00001 → us, 00200 → eu); False: one account for every company."""


def sync_job_definition(settings: Settings, home: DemoHome) -> dg.JobDefinition:
    """The real sync job of definitions built from the demo's settings, on the demo's ledger and store."""
    from jde_stripe_pipeline.orchestration.definitions import build_definitions
    from jde_stripe_pipeline.orchestration.jobs import sync_job

    defs = build_definitions(settings, credentials=home.credentials, state_url=home.state_url)
    return defs.resolve_job_def(sync_job.name)


def materialize_partition(job: dg.JobDefinition, instance: dg.DagsterInstance, key: str) -> PartitionRun:
    started = time.perf_counter()
    result = job.execute_in_process(
        partition_key=key, instance=instance, run_config=QUIET_RUN_CONFIG, raise_on_error=False
    )
    checks = tuple(
        CheckResult(
            asset=evaluation.asset_key.to_user_string(),
            name=evaluation.check_name,
            passed=evaluation.passed,
            severity=evaluation.severity.value,
        )
        for evaluation in result.get_asset_check_evaluations()
    )
    failures = tuple(
        f"{event.step_key}: {error.message.strip() if error else 'failed'}"
        for event in result.get_step_failure_events()
        for error in [event.step_failure_data.error]
    )
    return PartitionRun(key, result.run_id, result.success, time.perf_counter() - started, checks, failures)


def sync_round(
    title: str,
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    keys: Sequence[str],
    echo: Echo,
    sandboxes: RunningSandboxes,
    state_url: str,
    accounts: Sequence[str] = (DEFAULT_ACCOUNT,),
) -> SyncRound:
    """One run per partition, with progress; what the ledger recorded (per Stripe account) and what
    Stripe was sent."""
    sandboxes.stripe.clear_requests_log()
    runs = []
    for index, key in enumerate(keys, start=1):
        run = materialize_partition(job, instance, key)
        runs.append(run)
        checks = sum(c.passed for c in run.checks)
        state = "ok" if run.reconciliation_passed else "FAILED"
        echo(
            f"  [{index}/{len(keys)}] partition {key}: {state}, checks passed {checks}/{len(run.checks)} "
            f"({run.seconds:.1f}s)"
        )
    by_account = outcomes_by_account(runs, accounts, state_url)
    return SyncRound(
        title=title,
        runs=tuple(runs),
        customer_outcomes=total_outcomes(by_account, "customer"),
        invoice_outcomes=total_outcomes(by_account, "invoice"),
        stripe_writes=count_writes(sandboxes.stripe.requests_log()),
        account_outcomes=by_account,
    )


def _command_name() -> str:
    return sys.argv[0] if Path(sys.argv[0]).name == "jde-stripe" else "jde-stripe"


def run_demo(
    options: DemoOptions,
    echo: Echo,
    show: Callable[[DemoReport], None],
    wait: Callable[[], None] = wait_until_interrupted,
    environ: Mapping[str, str] | None = None,
) -> DemoReport:
    """The demo end to end: `show` gets the report while the sandboxes still run; with `ui`, the UI
    then runs until `wait` returns. The report's `passed` decides the exit code. `environ`: the shell's
    variables (mapping and pacing settings are honoured; connections are the sandboxes')."""
    warnings.filterwarnings("ignore", module="dagster.*")
    home = prepare_home(options.home)
    spec = SandboxSpec(
        options.seed, options.customers, options.invoices, options.timezone, accounts=options.accounts
    )
    as_of = spec.day
    first_day = as_of - dt.timedelta(days=SEED_DAYS)
    started = time.perf_counter()
    echo(f"Seeding JDE: {spec.customers} customers, {spec.invoices} invoices (seed {spec.seed}) ...")
    with running_sandboxes(spec) as sandboxes:
        env = demo_environment(os.environ if environ is None else environ, sandboxes, home, options.source)
        env["JDE_STRIPE_START_DATE"] = first_day.isoformat()
        settings = Settings.from_env(env)
        store_credentials(env, home, settings.accounts.names)
        echo(
            f"AIS sandbox {sandboxes.ais_server.url}, Stripe emulator {sandboxes.stripe_server.url}, "
            f"DAGSTER_HOME {home.dagster_home}"
        )
        with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
            report = _sync_and_change(
                options, settings, spec, home, first_day, as_of, sandboxes, instance, echo
            )
        echo(f"Done in {time.perf_counter() - started:.1f}s")
        show(report)
        if options.ui:
            with dagster_ui(env, options.ui_host, options.ui_port, home.root / "webserver.log") as url:
                shell = {
                    key: env[key] for key in ("DAGSTER_HOME", "JDE_INVOICE_SOURCE", "JDE_STRIPE_START_DATE")
                }
                echo(f"Dagster UI: {url}  (Ctrl-C stops it and the sandboxes)")
                echo("To point another shell at the running sandboxes and this Dagster instance:")
                for line in export_lines({**sandboxes.environment(), **shell}):
                    echo(f"  {line}")
                wait()
            echo("Stopped the Dagster UI and the sandboxes.")
    return report


def _sync_and_change(
    options: DemoOptions,
    settings: Settings,
    spec: SandboxSpec,
    home: DemoHome,
    first_day: dt.date,
    as_of: dt.date,
    sandboxes: RunningSandboxes,
    instance: dg.DagsterInstance,
    echo: Echo,
) -> DemoReport:
    job = sync_job_definition(settings, home)
    credentials = home.credentials.source()
    seeded = seeded_days(settings, credentials, first_day, as_of + dt.timedelta(days=1))
    days = seeded.days[-options.days :] if options.days is not None else seeded.days
    if not days:
        raise DemoError("the AIS sandbox reports no changed rows: nothing to sync")
    keys = seeded.run_keys(job, settings, days)
    accounts = settings.accounts.names
    if settings.accounts.routed:
        echo(
            "Stripe accounts: "
            + "; ".join(
                f"{held.name} <- JDE {', '.join(held.companies)}" for held in holdings(settings, sandboxes)
            )
        )
    echo(f"First sync: {len(keys)} partitions with JDE changes ({days[0]} .. {days[-1]})")
    first = sync_round("First sync", job, instance, keys, echo, sandboxes, home.state_url, accounts)
    report = DemoReport(
        seeded=f"{spec.customers} customers / {spec.invoices} invoices seeded (seed {spec.seed}), "
        f"{len(days)} days, {len(keys)} partitions",
        first=first,
        stripe_customers=len(sandboxes.stripe.objects("customer")),
        stripe_invoices=stripe_invoices(sandboxes),
        problems=open_problems(days, accounts, home.state_url),
        ledger_location=str(home.ledger),
        audit_example="",
        holdings=holdings(settings, sandboxes),
    )
    if options.change_records:
        run_keys = functools.partial(SeededDays([], {}).run_keys, job, settings)
        report = _second_round(
            report, job, instance, sandboxes, echo, home.state_url, run_keys, options.source, accounts
        )
    audit_key = next((c.record_key for c in report.changes if c.object_type == "invoice"), None)
    synced = synced_keys(accounts, "invoice", home.state_url)
    return _with_audit_example(report, home, audit_key or next(iter(synced), None))


def _second_round(
    report: DemoReport,
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    sandboxes: RunningSandboxes,
    echo: Echo,
    state_url: str,
    run_keys: Callable[[Sequence[str]], list[str]],
    source: str = INVOICE_SOURCE,
    accounts: Sequence[str] = (DEFAULT_ACCOUNT,),
) -> DemoReport:
    from jde_stripe_pipeline.demo.ar_changes import make_ar_changes

    invoices = set(synced_keys(accounts, "invoice", state_url))
    customers = set(synced_keys(accounts, "customer", state_url))
    change = make_ar_changes if source == "ar_invoice" else make_changes
    with requests.Session() as http:
        applied: AppliedChanges = change(AisAdmin(sandboxes.ais_server.url, http), invoices, customers)
    echo("Changed in JDE: " + "; ".join(f"{c.object_type} {c.record_key}" for c in applied.changes))
    key = julian_to_key(applied.julian_day)
    keys = run_keys([key])  # the day's pairs of every account, with several accounts
    echo(f"Second sync: {', '.join(keys)}")
    second = sync_round(
        "Second sync (after the JDE changes)", job, instance, keys, echo, sandboxes, state_url, accounts
    )
    moving = sum(
        n
        for outcomes in (second.customer_outcomes, second.invoice_outcomes)
        for o, n in outcomes.items()
        if o in MOVING_OUTCOMES
    )
    moved = moved_records(
        {r.run_id for r in second.runs},
        [(c.object_type, c.record_key) for c in applied.changes],
        moving,
        accounts,
        state_url,
    )
    return dataclasses.replace(report, changes=applied.changes, second=second, moved=moved)


def _with_audit_example(report: DemoReport, home: DemoHome, key: str | None) -> DemoReport:
    example = (
        f"DAGSTER_HOME={shlex.quote(str(home.dagster_home))} {_command_name()} audit {shlex.quote(key)}"
        if key
        else "(no invoice synced)"
    )
    return dataclasses.replace(report, audit_example=example)
