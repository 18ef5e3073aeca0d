"""Ledger throughput figures: `python -m jde_stripe_pipeline.bench.ledger [--records N] [--threads T] [URL]`.

Prints outcomes recorded per second (one transaction each, as the engine writes them), the time of a
bulk `get_mappings` over every key, and of the replay and count queries. Without a URL it measures a
throw-away SQLite file; pass a PostgreSQL URL (an empty database) to measure that backend.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from jde_stripe_pipeline.ledger.model import RecordOutcome
from jde_stripe_pipeline.ledger.store import Ledger

_T = TypeVar("_T")


def _timed(action: Callable[[], _T]) -> tuple[_T, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def _created(run_id: str, index: int) -> RecordOutcome:
    return RecordOutcome(
        run_id=run_id,
        partition_key=f"2025-03-{index % 28 + 1:02d}",
        object_type="customer",
        record_key=str(100000 + index),
        action="create",
        outcome="created" if index % 10 else "failed",
        stripe_id=f"cus_bench{index}" if index % 10 else None,
        payload_hash=f"{index:064x}" if index % 10 else None,
        idempotency_key=f"customer-{100000 + index}-create",
    )


def run(url: str, records: int, threads: int) -> None:
    run_id = f"bench-{time.time_ns()}"
    with Ledger.open(url) as ledger:
        print(f"ledger: {ledger}  records: {records}  threads: {threads}")

        def write_all() -> None:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(lambda i: ledger.record_outcome(_created(run_id, i)), range(records)))

        _, seconds = _timed(write_all)
        print(f"record_outcome: {records / seconds:,.0f} outcomes/s ({seconds:.2f} s)")
        keys = [str(100000 + index) for index in range(records)]
        found, seconds = _timed(lambda: ledger.get_mappings("customer", keys))
        print(f"get_mappings({len(keys)} keys) -> {len(found)} rows: {seconds * 1000:.0f} ms")
        days = [f"2025-03-{day:02d}" for day in range(1, 29)]
        replay, seconds = _timed(lambda: ledger.failed_for_replay(days))
        print(f"failed_for_replay(28 partitions) -> {len(replay)} rows: {seconds * 1000:.0f} ms")
        counts, seconds = _timed(lambda: ledger.outcome_counts(run_id))
        print(f"outcome_counts -> {counts}: {seconds * 1000:.0f} ms")
        history, seconds = _timed(lambda: ledger.history("cus_bench1"))
        print(f"history(stripe id) -> {len(history)} rows: {seconds * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", nargs="?", help="ledger URL (default: a temporary SQLite file)")
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if args.url:
        run(args.url, args.records, args.threads)
        return
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{Path(folder) / 'bench.sqlite'}", args.records, args.threads)


if __name__ == "__main__":
    main()
