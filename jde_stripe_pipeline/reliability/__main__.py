"""`make reliability` / `python -m jde_stripe_pipeline.reliability`: the whole matrix, then its table.

python -m jde_stripe_pipeline.reliability [--only NAME ...] [--quick] [--out docs/reliability.md]

Exit 0 when every scenario passed, 1 otherwise (the table is written either way).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from jde_stripe_pipeline.reliability.catalog import ALL
from jde_stripe_pipeline.reliability.matrix import FULL, QUICK, play
from jde_stripe_pipeline.reliability.report import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="scenario names (default: all)")
    parser.add_argument("--quick", action="store_true", help="small worlds (8 customers, 16 invoices)")
    parser.add_argument("--out", type=Path, default=Path("docs/reliability.md"))
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    chosen = [s for s in ALL if args.only is None or s.name in args.only]
    unknown = sorted(set(args.only or ()) - {s.name for s in ALL})
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(s.name for s in ALL)}")
    started = time.monotonic()
    outcomes = []
    for scenario in chosen:
        print(f"--- {scenario.name}: {scenario.faults}", flush=True)
        outcome = play(scenario, size)
        v = outcome.verdict
        print(
            f"    {'pass' if outcome.ok else 'FAIL'} in {outcome.seconds:.0f} s: {outcome.runs} runs "
            f"({outcome.failed_runs} failed), {outcome.injected} faults, {v.records} records, "
            f"{v.duplicates} duplicates, {v.lost} lost, {v.wrong_amounts} wrong amounts, {v.other} other",
            flush=True,
        )
        for problem in v.problems:
            print(f"      {problem}", flush=True)
        outcomes.append(outcome)
    seconds = time.monotonic() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(outcomes, size, seconds))
    print(
        f"=== {sum(o.ok for o in outcomes)}/{len(outcomes)} passed in {seconds / 60:.1f} min;"
        f" table: {args.out}"
    )
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
