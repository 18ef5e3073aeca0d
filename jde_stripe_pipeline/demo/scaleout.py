"""`python -m jde_stripe_pipeline.demo.scaleout` (`make scaleout`): issue 13's scale-out, tried locally.

What production runs, on the sandboxes: a throwaway PostgreSQL database (created on `--pg-host`, dropped
at the end) holds Dagster's storage and the ledger; a temporary DAGSTER_HOME holds
`deploy/dagster.postgres.yaml` as is (QueuedRunCoordinator, one run per Stripe account at a time through
`dagster/partition/account`); `dagster-daemon run` dequeues and launches the runs (Dagster's default run
launcher: a process per run). The AIS sandbox is seeded with two JDE companies and the Stripe emulator
holds their two accounts (`us`, `eu`), each limited to `--rate-limit` requests/s as Stripe limits an
account. `dagster job backfill` submits the (day, account) pairs of the latest `--days` seeded days of
both accounts. When every run has ended it prints, from the emulator's request log and Dagster's run
records, how long the two accounts' runs overlapped and each account's busiest second against its
budget. Exit 1 if a run failed, the accounts never overlapped, or an account went over its budget as
Stripe counts it: a request a token bucket at the budget would refuse (`traffic.beyond_bucket`), or a 429.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psycopg2

from jde_stripe_pipeline.demo.home import CLEARED_VARIABLES
from jde_stripe_pipeline.demo.sandboxes import RunningSandboxes, SandboxSpec, running_sandboxes
from jde_stripe_pipeline.demo.traffic import (
    RunSpan,
    account_traffic,
    beyond_bucket,
    markdown,
    most_at_once,
    runs_overlap,
)
from jde_stripe_pipeline.orchestration.account_partitions import ACCOUNT, DAY
from jde_stripe_pipeline.stripe_sink.limits import PACE_SHARE

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTANCE_YAML = REPO_ROOT / "deploy" / "dagster.postgres.yaml"
BIN = Path(sys.executable).parent
DONE = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@contextmanager
def throwaway_database(host: str, port: int, user: str) -> Iterator[str]:
    """A new, empty database on the server (trust auth), dropped on exit with whatever still uses it."""
    name = f"jde_scaleout_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host=host, port=port, user=user, dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def pair_keys(accounts: Sequence[str], days: Sequence[dt.date]) -> list[str]:
    """Every (day, account) pair, day by day (the order the backfill submits them in)."""
    return [
        str(dg.MultiPartitionKey({DAY: day.isoformat(), ACCOUNT: account}))
        for day in days
        for account in accounts
    ]


def environment(
    sandboxes: RunningSandboxes,
    home: Path,
    pg: dict[str, str],
    timezone: str,
    first_day: dt.date,
    pace: float,
) -> dict[str, str]:
    """The daemon's (and so every run's) environment: the sandboxes, the instance, the ledger; nothing
    of the caller's JDE, Stripe or Dagster settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in CLEARED_VARIABLES and not k.startswith(("JDE_", "STRIPE_", "DAGSTER_"))
    }
    env.update(sandboxes.environment())
    env.update(pg)
    state_url = f"postgresql+psycopg2://{pg['DAGSTER_PG_USERNAME']}@{pg['DAGSTER_PG_HOST']}:"
    env.update(
        DAGSTER_HOME=str(home),
        JDE_TIMEZONE=timezone,
        JDE_STRIPE_START_DATE=first_day.isoformat(),
        JDE_STRIPE_STATE_URL=f"{state_url}{pg['DAGSTER_PG_PORT']}/{pg['DAGSTER_PG_DB']}",
        JDE_STRIPE_BUDGET_DIR=str(home / "budgets"),
        JDE_STRIPE_RATE_PER_SECOND=f"{pace:g}",
        JDE_STRIPE_ENDPOINT_RATE_PER_SECOND=f"{pace:g}",
    )
    return env


def wait_for_runs(instance: dg.DagsterInstance, count: int, timeout: float) -> list[dg.RunRecord]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = instance.get_run_records()
        if len(records) >= count and all(r.dagster_run.status in DONE for r in records):
            return list(records)
        time.sleep(2.0)
    raise TimeoutError(f"the runs did not all end within {timeout:.0f} s")


def spans(records: Sequence[dg.RunRecord]) -> list[RunSpan]:
    return [
        RunSpan(
            account=r.dagster_run.tags.get(f"dagster/partition/{ACCOUNT}", "?"),
            day=r.dagster_run.tags.get(f"dagster/partition/{DAY}", "?"),
            status=r.dagster_run.status.value,
            start=r.start_time or 0.0,
            end=r.end_time or 0.0,
        )
        for r in records
    ]


def scale_out(args: argparse.Namespace) -> int:
    spec = SandboxSpec(
        args.seed, args.customers, args.invoices, args.timezone, stripe_rate_limit=args.rate_limit
    )
    days = [spec.day - dt.timedelta(days=n) for n in range(args.days, 0, -1)]
    root = Path(tempfile.mkdtemp(prefix="jde-stripe-scaleout-"))
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCE_YAML, home / "dagster.yaml")
    workspace = root / "workspace.yaml"
    workspace.write_text("load_from:\n  - python_module: jde_stripe_pipeline.definitions\n")
    print(
        f"Seeding JDE: {spec.customers} customers, {spec.invoices} invoices; DAGSTER_HOME {home}", flush=True
    )
    try:
        with (
            throwaway_database(args.pg_host, args.pg_port, args.pg_user) as database,
            running_sandboxes(spec) as sandboxes,
        ):
            pg = {
                "DAGSTER_PG_HOST": args.pg_host,
                "DAGSTER_PG_PORT": str(args.pg_port),
                "DAGSTER_PG_USERNAME": args.pg_user,
                "DAGSTER_PG_PASSWORD": "",
                "DAGSTER_PG_DB": database,
            }
            pace = round(args.rate_limit * PACE_SHARE, 2)
            env = environment(sandboxes, home, pg, args.timezone, days[0] - dt.timedelta(days=28), pace)
            os.environ.update(pg)  # this process reads the same instance (its yaml names these variables)
            keys = pair_keys([a.name for a in sandboxes.accounts], days)
            return _run(args, env, root, workspace, home, keys, sandboxes, pace)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(
    args: argparse.Namespace,
    env: dict[str, str],
    root: Path,
    workspace: Path,
    home: Path,
    keys: list[str],
    sandboxes: RunningSandboxes,
    pace: float,
) -> int:
    daemon_log = (root / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)],
        env=env,
        cwd=root,
        stdout=daemon_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        print(f"dagster-daemon started (pid {daemon.pid}); backfilling {len(keys)} pairs: {', '.join(keys)}")
        backfill = [str(BIN / "dagster"), "job", "backfill", "-w", str(workspace), "-j", "jde_stripe_sync"]
        done = subprocess.run(
            [*backfill, "--partitions", ",".join(keys), "--noprompt"],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            print(done.stdout[-2000:] + done.stderr[-4000:], file=sys.stderr)
            return 1
        with dg.DagsterInstance.from_config(str(home)) as instance:
            records = wait_for_runs(instance, len(keys), args.timeout)
        print(f"every run ended {time.monotonic() - started:.0f} s after the backfill began")
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        daemon_log.close()
    names = {a.emulator_account: a.name for a in sandboxes.accounts}
    traffic = account_traffic(sandboxes.stripe.requests_log(path_prefix="/v1/"), names)
    runs = spans(records)
    print(markdown(traffic, runs, args.rate_limit, pace))
    problems = [f"run {r.account}|{r.day}: {r.status}" for r in runs if r.status != "SUCCESS"]
    problems += [
        f"{t.account}: {n} requests beyond its {args.rate_limit:g}/s bucket"
        for t in traffic
        if (n := beyond_bucket(t.arrivals, args.rate_limit))
    ]
    problems += [f"{t.account}: {t.throttled} answered 429" for t in traffic if t.throttled]
    problems += [
        f"{account}: {n} runs at once"
        for account in names.values()
        if (n := most_at_once([r for r in runs if r.account == account])) > 1
    ]
    if runs_overlap(runs) <= 0:
        problems.append("the accounts' runs never overlapped")
    print("Result: " + ("PASSED" if not problems else "FAILED: " + "; ".join(problems)))
    return 0 if not problems else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jde_stripe_pipeline.demo.scaleout", description=__doc__)
    parser.add_argument("--days", type=int, default=4, help="the latest N seeded days, both accounts each")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--invoices", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timezone", default="America/Chicago")
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=25.0,
        help=f"each emulated account's limit, req/s (the sink paces at {PACE_SHARE * 100:.0f}%% of it)",
    )
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds to wait for the runs")
    return scale_out(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
