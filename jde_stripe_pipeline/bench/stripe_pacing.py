"""How much of Stripe's binding limit the sink's default pacing achieves, at Stripe-like latency.

python -m jde_stripe_pipeline.bench.stripe_pacing [--seconds 20] [--profiles test,live]
                                                  [--latencies 300,1000] [--processes 1]

An initial load of new invoices as the engine sends it (per record: `POST /v1/invoices`, then
`POST /v1/invoices/{id}/add_lines` of 3 lines, in one worker thread; as many threads as the sink's
`workers`), through `StripeSink` with its default settings for the key's mode, against the emulator's
`test` or `live` profile with `latency="stripe"` (log-normal, p99 = 4 × median) at each median write
latency. `--processes N` splits the records over N processes that share the account's budget (the
file under `JDE_STRIPE_BUDGET_DIR`).

The binding limit is the lowest of what each limiter allows this mix (halves on two endpoints): the
global rate, 2 × the endpoint rate, and the emulator's in-flight cap over the mean latency it drew in
the run (Little's law; the log-normal's mean is 1.19 × its median). The achieved rate counts the
requests the emulator received in the middle 80% of the sending span (ramp-up and tail left out).
Printed per scenario: the achieved rate, its share of the binding limit and of the binding rate limit
alone, 429s, failed records, the worst one-second window (global / worst endpoint), the peak in
flight at the emulator, the mean latency it drew and the sink's last latency EWMA.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    PROFILES,
    StripeEmulator,
    StripeEmulatorConfig,
)
from jde_stripe_pipeline.stripe_sink import StaticKeySource, StripeSink, StripeSinkSettings
from jde_stripe_pipeline.stripe_sink.limits import DEFAULT_MAX_IN_FLIGHT

MODULE = "jde_stripe_pipeline.bench.stripe_pacing"
LIVE_KEY = "sk_live_bench_000000000000000000000000"
KEYS = {"test": DEFAULT_API_KEY, "live": LIVE_KEY}
LOGNORMAL_MEAN_OVER_MEDIAN = math.exp((math.log(4.0) / 2.3263478740408408) ** 2 / 2)
LINES = [
    {"amount": 1000 * n, "description": f"Line {n}", "metadata": {"jde_lnid": f"{n}.000"}} for n in (1, 2, 3)
]


def _load(url: str, key: str, first: int, count: int, customer: str, in_flight: int) -> dict[str, Any]:
    """`count` invoice records (create + add_lines) through one sink; returns its figures."""
    failed = 0
    settings = StripeSinkSettings(key_source=StaticKeySource(key), api_base=url, max_in_flight=in_flight)
    with StripeSink(settings) as sink:

        def record(n: int) -> bool:
            try:
                params = {"customer": customer, "currency": "usd", "auto_advance": False}
                invoice = sink.create_invoice(params, idempotency_key=f"bench-{n}-create").object["id"]
                sink.add_invoice_lines(invoice, {"lines": LINES}, idempotency_key=f"bench-{n}-lines")
                return True
            except Exception:  # a failed record is counted, not fatal to the bench
                return False

        with ThreadPoolExecutor(max_workers=settings.workers) as pool:
            failed = sum(not ok for ok in pool.map(record, range(first, first + count)))
        metrics = sink.metrics()
    return {"failed": failed, "latency": metrics.latency_seconds or 0.0, "retries": metrics.retries}


def _worst_second(times: list[float]) -> int:
    times = sorted(times)
    worst, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - 1.0:
            start += 1
        worst = max(worst, end - start + 1)
    return worst


def _scenario(
    profile: str, median_ms: float, seconds: float, processes: int, in_flight: int
) -> dict[str, Any]:
    limits = PROFILES[profile]
    rate_bound = min(limits.global_rate, 2 * limits.endpoint_rate)
    modelled = min(rate_bound, limits.concurrency / (median_ms / 1000 * LOGNORMAL_MEAN_OVER_MEDIAN))
    records = max(20, int(modelled * seconds / 2))
    key = KEYS[profile]
    emulator = StripeEmulator(StripeEmulatorConfig(api_keys=tuple(KEYS.values()), search_lag_seconds=0))
    emulator.update_config(profile=profile, latency="stripe", latency_write_ms=median_ms, latency_seed=1)
    try:
        with emulator.serve(port=0) as server:
            with StripeSink(StripeSinkSettings(key_source=StaticKeySource(key), api_base=server.url)) as sink:
                customer = sink.create_customer({"name": "bench"}, idempotency_key="bench-payer").object["id"]
            emulator.clear_requests_log()
            share = math.ceil(records / processes)
            parts = [(n * share, min(share, records - n * share)) for n in range(processes)]
            worker = [sys.executable, "-m", MODULE, "--worker", server.url, key]
            if processes == 1:
                figures = [_load(server.url, key, 0, records, customer, in_flight)]
            else:
                runs = [
                    subprocess.Popen(
                        [*worker, str(a), str(b), customer, str(in_flight)],
                        stdout=subprocess.PIPE,
                    )
                    for a, b in parts
                ]
                figures = [json.loads(run.communicate()[0]) for run in runs]
            log = emulator.requests_log(path_prefix="/v1/")
            peak = max(emulator.stats()["peak_in_flight"].values(), default=0)
    finally:
        emulator.close()
    answered = [e for e in log if e["status"] != 429]
    mean_latency = sum(float(e["latency_ms"]) for e in answered) / 1000 / max(len(answered), 1)
    concurrency_bound = limits.concurrency / mean_latency  # Little's law on the latency drawn this run
    binding = min(rate_bound, concurrency_bound)
    received = sorted(float(e["received_at"]) for e in log)
    span = received[-1] - received[0]
    low, high = received[0] + 0.1 * span, received[0] + 0.9 * span
    achieved = sum(1 for t in received if low <= t < high) / (high - low)
    statuses = Counter(e["status"] for e in log)
    endpoints = {e["endpoint"] for e in log}
    return {
        "profile": profile,
        "median_ms": median_ms,
        "processes": processes,
        "records": records,
        "requests": len(log),
        "achieved": achieved,
        "binding": binding,
        "binding_by": "concurrency" if concurrency_bound < rate_bound else "rate",
        "rate_bound": rate_bound,
        "throttled": statuses[429],
        "failed": sum(f["failed"] for f in figures),
        "worst_global": _worst_second(received),
        "worst_endpoint": max(
            _worst_second([float(e["received_at"]) for e in log if e["endpoint"] == ep]) for ep in endpoints
        ),
        "peak_in_flight": peak,
        "emulated_ms": 1000 * mean_latency,
        "seen_ms": 1000 * max(f["latency"] for f in figures),
    }


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        url, key, first, count, customer, in_flight = argv[1:7]
        print(json.dumps(_load(url, key, int(first), int(count), customer, int(in_flight))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="about how long each scenario sends")
    parser.add_argument("--profiles", default="test,live")
    parser.add_argument("--latencies", default="300,1000", help="median write latencies in ms")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--max-in-flight", type=int, default=DEFAULT_MAX_IN_FLIGHT, help="the sink's cap")
    args = parser.parse_args(argv)
    print(
        f"{'profile':7} {'median':>6} {'proc':>4} {'requests':>8} {'achieved/s':>10} {'binding/s':>9} "
        f"{'share':>6} {'of rate':>7} {'429s':>5} {'failed':>6} {'worst 1s g/ep':>13} {'peak':>4} "
        f"{'emulated':>8} {'seen':>6}"
    )
    for profile in args.profiles.split(","):
        for median in (float(m) for m in args.latencies.split(",")):
            r = _scenario(profile, median, args.seconds, args.processes, args.max_in_flight)
            print(
                f"{r['profile']:7} {r['median_ms']:>4.0f}ms {r['processes']:>4} {r['requests']:>8} "
                f"{r['achieved']:>10.1f} {r['binding']:>6.1f} {r['binding_by'][:3]} "
                f"{r['achieved'] / r['binding']:>6.0%} {r['achieved'] / r['rate_bound']:>7.0%} "
                f"{r['throttled']:>5} {r['failed']:>6} {r['worst_global']:>7}/{r['worst_endpoint']:<5} "
                f"{r['peak_in_flight']:>4} {r['emulated_ms']:>6.0f}ms {r['seen_ms']:>4.0f}ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
