"""`make bench`: the project, a naive baseline and the lower bound, side by side (issue 10).

    python -m jde_stripe_pipeline.bench [--quick | --full] [--profiles test,live] [--latencies 50,300,1000]
        [--scenarios initial,resync,incremental] [--repeat N] [--no-write] [size flags…]

Default sizes finish in 12-15 minutes on a quiet 2-core machine (the baseline is sequential: its
1 s-latency cells are the slowest part, so it runs on a sample and is extrapolated, marked ≈); `--full`
runs issue 10's sizes (1,000 customers and 2,000 invoices; an account of 20,000 customers and 50,000
invoices, 1% changed) and takes hours, mostly building and syncing the large account; `--quick` is a
few minutes (test profile, 300 ms). Prints the tables and writes docs/performance.md with a chart of
one run's rate.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import time
from collections.abc import Sequence
from datetime import datetime
from datetime import time as clock
from pathlib import Path

from jde_stripe_pipeline.bench import extract
from jde_stripe_pipeline.bench.account import prepopulate
from jde_stripe_pipeline.bench.cells import (
    BENCH_ENV,
    Measured,
    api_key,
    incremental_cells,
    initial_cells,
    profile_of,
    scratch_folder,
)
from jde_stripe_pipeline.bench.docs import load, write
from jde_stripe_pipeline.bench.report import endpoint_table, main_table, medians, problems
from jde_stripe_pipeline.bench.targets import checklist
from jde_stripe_pipeline.bench.world import TIMEZONE, account_world, apply_changes, initial_world

_SIZE_FLAGS = (
    "customers",
    "invoices",
    "account_customers",
    "account_invoices",
    "sample",
    "profiles",
    "latencies",
    "extract_customers",
)
SIZES: dict[str, dict[str, object]] = {
    preset: dict(zip(_SIZE_FLAGS, values, strict=True))
    for preset, values in {
        "quick": (40, 80, 400, 1000, 3, "test", "300", 10_000),
        "default": (60, 120, 1_000, 2_500, 3, "test,live", "50,300,1000", 100_000),
        "full": (1_000, 2_000, 20_000, 50_000, 20, "test,live", "50,300,1000", 100_000),
    }.items()
}
"""Each preset's value for the size flags it fills in (a flag given on the command line wins)."""
SCENARIOS = ("initial", "resync", "incremental")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes, test profile, 300 ms: a few minutes")
    size.add_argument("--full", action="store_true", help="issue 10's sizes: hours")
    parser.add_argument("--customers", type=int, help="initial load: customers")
    parser.add_argument("--invoices", type=int, help="initial load: invoices (purchase orders)")
    parser.add_argument("--account-customers", type=int, help="incremental day: customers already synced")
    parser.add_argument("--account-invoices", type=int, help="incremental day: invoices already synced")
    parser.add_argument("--changed-share", type=float, default=0.01, help="share of old records changed")
    parser.add_argument(
        "--new-share", type=float, default=0.002, help="new records, as a share of the account"
    )
    parser.add_argument("--sample", type=int, help="baseline: records per kind and category (0: all)")
    parser.add_argument("--profiles", help="comma-separated emulator profiles (test, live)")
    parser.add_argument("--latencies", help="comma-separated median write latencies in ms")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the table shows medians")
    parser.add_argument("--extract-customers", type=int, help="extract + map memory bench (0: skip)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--docs", type=Path, default=Path("docs"), help="where performance.md is written")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render", type=Path, help="re-write the document from a saved performance.json")
    args = parser.parse_args(argv)
    preset = SIZES["quick" if args.quick else "full" if args.full else "default"]
    for name, value in preset.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.profile_names = [p for p in str(args.profiles).split(",") if p]
    args.latency_values = [float(x) for x in str(args.latencies).split(",") if x]
    args.scenario_names = [s for s in args.scenarios.split(",") if s]
    unknown = set(args.scenario_names) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    return args


def _say(started: float, text: str) -> None:
    print(f"[{time.monotonic() - started:7.0f}s] {text}", flush=True)


def run(args: argparse.Namespace) -> tuple[list[Measured], dict[str, str], list[dict[str, object]]]:
    started = time.monotonic()
    env = {"JDE_TIMEZONE": TIMEZONE, **BENCH_ENV}
    load_before = os.getloadavg()
    rows: list[Measured] = []
    cells = [(p, lat) for p in args.profile_names for lat in args.latency_values]
    wanted_initial = [s for s in args.scenario_names if s in ("initial", "resync")]
    if wanted_initial:
        world = initial_world(args.seed, args.customers, args.invoices)
        _say(started, f"initial world: {len(world.customers)} customers, {len(world.invoices)} invoices")
        try:
            with world.sandbox.serve() as ais:
                for profile, latency in cells:
                    for repeat in range(args.repeat):
                        _say(started, f"initial load + re-sync: {profile}, {latency:g} ms, run {repeat + 1}")
                        rows += initial_cells(
                            world,
                            ais.url,
                            profile_of(profile, latency),
                            args.seed,
                            args.sample,
                            wanted_initial,
                        )
        finally:
            world.close()
    if "incremental" in args.scenario_names:
        new_customers = max(1, round(args.new_share * args.account_customers))
        new_invoices = max(1, round(args.new_share * args.account_invoices))
        world = account_world(
            args.seed, args.account_customers, args.account_invoices, new_customers, new_invoices
        )
        folder = scratch_folder("bench-account-")
        try:
            with world.sandbox.serve() as ais:
                assert world.old_day is not None
                snapshot = prepopulate(
                    folder, ais.url, datetime.combine(world.old_day, clock()), env, api_key("test")
                )
                _say(
                    started,
                    f"account pre-populated: {snapshot.customers} customers, {snapshot.invoices} invoices, "
                    f"{snapshot.lines} lines in {snapshot.seconds:.0f}s",
                )
                apply_changes(world, args.changed_share)
                for profile, latency in cells:
                    for repeat in range(args.repeat):
                        _say(started, f"incremental day: {profile}, {latency:g} ms, run {repeat + 1}")
                        rows += incremental_cells(
                            world, ais.url, profile_of(profile, latency), args.seed, args.sample, snapshot
                        )
        finally:
            world.close()
            shutil.rmtree(folder, ignore_errors=True)
    figures: list[dict[str, object]] = []
    if args.extract_customers:
        _say(started, f"extract + map of {args.extract_customers:,} customers")
        figures = extract.measure(args.extract_customers)
    load_after = os.getloadavg()
    context = {
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
        "load average (1/5/15 min) before → after": f"{_load(load_before)} → {_load(load_after)}",
        "sizes": f"initial {args.customers:,} customers / {args.invoices:,} invoices; account "
        f"{args.account_customers:,} / {args.account_invoices:,}, {args.changed_share:.0%} changed, "
        f"{args.new_share:.1%} new; baseline sample {args.sample} per kind and category",
        "repeats per cell": f"{args.repeat} (median shown)",
        "bench time": f"{(time.monotonic() - started) / 60:.1f} min",
    }
    return medians(rows), context, figures


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.render is not None:
        rows, context, figures = load(args.render)
        print(f"written: {write(args.docs, rows, context, figures)}")
        return 0
    rows, context, figures = run(args)
    print()
    for name, value in context.items():
        print(f"{name}: {value}")
    print()
    print(main_table(rows))
    print()
    print(endpoint_table(rows))
    for figure in figures:
        print(extract._summary(figure))
    print()
    print("\n".join(checklist(rows, figures)))
    found = problems(rows)
    for problem in found:
        print(f"PROBLEM: {problem}")
    if not args.no_write:
        print(f"written: {write(args.docs, rows, context, figures)}")
    return 1 if found else 0
