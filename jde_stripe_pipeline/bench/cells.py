"""One cell of the matrix: a scenario under one limits profile and one median latency, run by the
project and by the baseline on emulators set up alike, measured from the emulator's request log."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jde_stripe_pipeline.bench import requests_log as log
from jde_stripe_pipeline.bench.account import AccountSnapshot, scratch_root
from jde_stripe_pipeline.bench.baseline import CUSTOMERS, EXTRACT, extrapolate, run_baseline
from jde_stripe_pipeline.bench.child import RunFigures
from jde_stripe_pipeline.bench.limits import Profile, lower_bound, share_of_binding
from jde_stripe_pipeline.bench.project import RUN, run_project
from jde_stripe_pipeline.bench.world import World, minimum_per_record, minimum_requests
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.sandboxes.ais.cli import ais_environment
from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    PROFILES,
    StripeEmulator,
    StripeEmulatorConfig,
)

RECONCILIATION_STEP = "billing_reconciliation"
EXTRACT_STEPS = ("jde_customers", "jde_invoices")
BENCH_ENV = {"JDE_INVOICE_SOURCE": "purchase_order", "JDE_STRIPE_INVOICE_NUMBER_TEMPLATE": ""}
"""Invoice numbers off: the emulator checks a number's uniqueness by scanning every invoice, which on a
50,000-invoice account costs more than the request itself (reported to the lead). Counts are the same."""


def api_key(profile: str) -> str:
    """A live-mode key for the `live` profile, so the sink paces as it would for a live key."""
    return DEFAULT_API_KEY.replace("sk_test_", "sk_live_") if profile == "live" else DEFAULT_API_KEY


def profile_of(name: str, latency_ms: float) -> Profile:
    limits = PROFILES[name]
    return Profile(
        name,
        limits.global_rate,
        limits.endpoint_rate,
        limits.search_rate,
        limits.concurrency,
        write_ms=latency_ms,
        read_ms=latency_ms / 3,
    )


def emulator_config(profile: Profile, seed: int) -> StripeEmulatorConfig:
    """The `stripe` latency preset with the median set per run: writes `latency`, reads a third of it
    (the preset's 300/100 ratio), p99 = 4 × median, seeded."""
    return StripeEmulatorConfig(
        api_keys=(api_key(profile.name),),
        profile=profile.name,
        latency="stripe",
        latency_write_ms=profile.write_ms,
        latency_read_ms=profile.read_ms,
        latency_seed=seed,
    )


@dataclass
class Measured:
    """One system's figures in one cell (the lower bound is a system too: `minimum`)."""

    scenario: str
    profile: str
    latency_ms: float
    system: str
    wall_seconds: float
    stripe_seconds: float | None = None
    """First request received → last answered (the baseline: its extrapolated Stripe time)."""
    requests: Counter[str] = field(default_factory=Counter)
    per_record: dict[str, float] = field(default_factory=dict)
    """`customer:new` → mean requests per record in the sync (reconciliation apart)."""
    listing: int = 0
    reconcile_reads: int = 0
    share: float | None = None
    binding: str = "-"
    throttled: int = 0
    extract_per_second: float | None = None
    peak_mib: float | None = None
    cpu_seconds: float | None = None
    estimated: bool = False
    errors: tuple[str, ...] = ()
    series: list[tuple[float, int]] = field(default_factory=list)
    runs: tuple[tuple[float, float | None], ...] = ()
    """With repeats (`report.medians`): each run's (wall, Stripe) seconds, the spread behind the medians."""

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def system_env(
    world: World, ais_url: str, stripe_url: str, key: str, folder: Path, ledger: Path
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JDE_", "STRIPE_", "DAGSTER_"))}
    env.update(ais_environment(ais_url, world.sandbox.config))
    env.update(BENCH_ENV)
    env.update(
        STRIPE_API_KEY=key,
        STRIPE_API_BASE=stripe_url,
        JDE_STRIPE_STATE_URL=f"sqlite:///{ledger}",
        DAGSTER_HOME=str(folder / "dagster"),
    )
    return env


@contextmanager
def emulator_serving(
    config: StripeEmulatorConfig, db_path: Path | None = None
) -> Iterator[tuple[StripeEmulator, str]]:
    emulator = StripeEmulator(config, db_path=db_path)
    try:
        with emulator.serve() as server:
            yield emulator, server.url
    finally:
        emulator.close()


def minimum_row(world: World, scenario: str, profile: Profile) -> Measured:
    need = minimum_requests(world, scenario)
    seconds, limiter = lower_bound(need, profile)
    row = Measured(
        scenario, profile.name, profile.write_ms, "minimum", seconds, seconds, Counter(need), binding=limiter
    )
    row.per_record = minimum_per_record(world, scenario)
    row.reconcile_reads = sum(need.values()) if scenario == "resync" else 0
    return row


def _categories(world: World, scenario: str) -> dict[str, str]:
    if scenario == "resync":
        return {
            **{f"customer:{k}": "old" for k in world.customers},
            **{f"invoice:{k}": "old" for k in world.invoices},
        }
    found: dict[str, str] = {f"customer:{k}": c for k, c in world.customers.items() if c != "old"}
    found.update({f"invoice:{k}": f.category for k, f in world.invoices.items() if f.category != "old"})
    return found


def _analyse(
    measured: Measured, entries: Sequence[Mapping[str, Any]], profile: Profile, run_start: float
) -> Measured:
    measured.requests = log.by_endpoint(entries)
    measured.throttled = sum(log.throttled(entries).values())
    if log.admitted(entries):
        span = log.admitted(entries)
        measured.stripe_seconds = max(float(e["answered_at"]) for e in span) - min(
            float(e["received_at"]) for e in span
        )
    window = log.write_phase(entries)
    if window is None and log.admitted(entries):
        window = (
            min(float(e["received_at"]) for e in entries),
            max(float(e["answered_at"]) for e in entries),
        )
    if window is not None:
        inside = log.within(log.admitted(entries), *window)
        share, limiter = share_of_binding(
            log.by_endpoint(inside), profile, log.latency_seconds(inside), window[1] - window[0]
        )
        measured.share, measured.binding = share, limiter
    measured.series = log.rate_series(entries, run_start)
    return measured


def _means(
    counts: Mapping[tuple[str, str], int], categories: Mapping[str, str], wanted: Sequence[str]
) -> dict[str, float]:
    totals: Counter[str] = Counter()
    records: Counter[str] = Counter()
    for key in wanted:
        group = f"{key.split(':', 1)[0]}:{categories[key]}"
        records[group] += 1
        kind, record = key.split(":", 1)
        totals[group] += counts.get((kind, record), 0)
    return {group: totals[group] / records[group] for group in records}


def project_row(
    world: World, scenario: str, profile: Profile, emulator: StripeEmulator, env: Mapping[str, str]
) -> Measured:
    emulator.clear_requests_log()
    figures = run_project(env, world.partition_key)
    entries = emulator.requests_log()
    run_start, run_end = figures.phases.get(RUN, (figures.started, figures.finished))
    measured = Measured(scenario, profile.name, profile.write_ms, "project", run_end - run_start)
    _analyse(measured, entries, profile, run_start)
    reconciliation = figures.phases.get(RECONCILIATION_STEP, (run_end, run_end))
    counts = project_counts(entries, reconciliation, env["JDE_STRIPE_STATE_URL"])
    measured.reconcile_reads, measured.listing = sum(counts.reconcile.values()), counts.listing
    categories = _categories(world, scenario)
    measured.per_record = _means(counts.per_record, categories, list(categories))
    extract_seconds = sum(b - a for step, (a, b) in figures.phases.items() if step in EXTRACT_STEPS)
    records = sum(int(figures.counts.get(step, {}).get("records", 0)) for step in EXTRACT_STEPS)
    measured.extract_per_second = records / extract_seconds if extract_seconds > 0 else None
    measured.peak_mib, measured.cpu_seconds = figures.peak_rss_mib, figures.cpu_seconds
    measured.errors = figures.errors + _failed(figures)
    return measured


@dataclass(frozen=True)
class ProjectCounts:
    """A project run's admitted requests: by endpoint in the sync steps and in the reconciliation,
    the sync steps' requests per record (`(kind, JDE key)`), whole-account listing pages, 429s."""

    sync: Counter[str]
    reconcile: Counter[str]
    per_record: Counter[tuple[str, str]]
    listing: int
    unattributed: int
    throttled: int


def project_counts(
    entries: Sequence[Mapping[str, Any]], reconciliation: tuple[float, float], ledger_url: str
) -> ProjectCounts:
    """The requests received while the reconciliation step ran are its own, the rest the sync steps'
    (`stripe_customers` may run after it: both follow `stripe_invoices`); records found by key or by
    the ledger's Stripe ids."""
    start, end = reconciliation

    def reconciling(entry: Mapping[str, Any]) -> bool:
        return start <= float(entry["received_at"]) <= end

    sync = [e for e in entries if not reconciling(e)]
    rest = [e for e in entries if reconciling(e)]
    per_record, listing, unknown = log.per_record(sync, _ledger_ids(ledger_url))
    throttled = sum(log.throttled(entries).values())
    return ProjectCounts(
        log.by_endpoint(sync), log.by_endpoint(rest), per_record, listing, unknown, throttled
    )


def _failed(figures: RunFigures) -> tuple[str, ...]:
    problems = []
    for step, counts in figures.counts.items():
        for outcome in ("failed", "quarantined", "conflict", "mismatches"):
            if counts.get(outcome):
                problems.append(f"{step}: {counts[outcome]} {outcome}")
    return tuple(problems) if figures.success or problems else ("the run failed",)


def _ledger_ids(url: str) -> dict[str, tuple[str, str]]:
    with Ledger.open(url) as ledger:
        return {
            m.stripe_id: (kind, m.jde_key)
            for kind in ("customer", "invoice")
            for m in ledger.all_mappings(kind)
        }


def baseline_row(
    world: World,
    scenario: str,
    profile: Profile,
    emulator: StripeEmulator,
    env: Mapping[str, str],
    sample: int,
) -> Measured:
    emulator.clear_requests_log()
    categories = _categories(world, scenario)
    figures = run_baseline(env, world.day, categories, sample)
    entries = emulator.requests_log()
    extract_start, extract_end = figures.phases.get(EXTRACT, (figures.started, figures.started))
    stripe_seconds, extrapolated, groups = extrapolate(figures)
    measured = Measured(
        scenario, profile.name, profile.write_ms, "baseline", (extract_end - extract_start) + stripe_seconds
    )
    _analyse(measured, entries, profile, figures.phases.get(CUSTOMERS, (extract_end, 0))[0])
    measured.per_record = {group: mean for group, (_n, mean) in groups.items()}
    measured.stripe_seconds = stripe_seconds
    sampled = len(figures.counts.get("per_record", {}))
    measured.estimated = sampled < len(figures.counts.get("records", {}))
    if measured.estimated:
        measured.requests = extrapolated
    records = len(figures.counts.get("records", {}))
    measured.extract_per_second = (
        records / (extract_end - extract_start) if extract_end > extract_start else None
    )
    measured.peak_mib, measured.cpu_seconds = figures.peak_rss_mib, figures.cpu_seconds
    measured.errors = figures.errors
    return measured


def scratch_folder(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=scratch_root()))


def initial_cells(
    world: World, ais_url: str, profile: Profile, seed: int, sample: int, scenarios: Sequence[str]
) -> list[Measured]:
    """The initial load and the unchanged re-sync after it, for the project then the baseline."""
    rows: list[Measured] = [minimum_row(world, s, profile) for s in scenarios]
    for system in ("project", "baseline"):
        folder = scratch_folder(f"bench-{system}-")
        try:
            with emulator_serving(emulator_config(profile, seed)) as (emulator, url):
                env = system_env(world, ais_url, url, api_key(profile.name), folder, folder / "ledger.sqlite")
                for scenario in ("initial", "resync"):
                    if system == "project":
                        row = project_row(world, scenario, profile, emulator, env)
                    else:
                        row = baseline_row(world, scenario, profile, emulator, env, sample)
                    if scenario in scenarios:
                        rows.append(row)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return rows


def incremental_cells(
    world: World, ais_url: str, profile: Profile, seed: int, sample: int, snapshot: AccountSnapshot
) -> list[Measured]:
    """The incremental day on copies of the pre-populated account, for the project then the baseline."""
    rows = [minimum_row(world, "incremental", profile)]
    for system in ("project", "baseline"):
        folder = scratch_folder(f"bench-{system}-")
        try:
            stripe_db, ledger_db = snapshot.copy_to(folder)
            with emulator_serving(emulator_config(profile, seed), stripe_db) as (emulator, url):
                env = system_env(world, ais_url, url, api_key(profile.name), folder, ledger_db)
                if system == "project":
                    rows.append(project_row(world, "incremental", profile, emulator, env))
                else:
                    rows.append(baseline_row(world, "incremental", profile, emulator, env, sample))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return rows
