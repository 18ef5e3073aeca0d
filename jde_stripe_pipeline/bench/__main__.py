"""`make bench` / `python -m jde_stripe_pipeline.bench`: every benchmark at a size that takes minutes,
not hours, printing its figures. Run one module alone for other sizes (each has `--help`)."""

import subprocess
import sys

BENCHMARKS: list[tuple[str, list[str]]] = [
    ("ais_sandbox", ["--customers", "100000"]),
    ("extract", ["--customers", "100000"]),
    ("stripe_emulator", ["--customers", "500", "--invoices", "100"]),
    ("sync", ["--customers", "300", "--invoices", "600"]),
    ("ledger", ["--records", "2000"]),
    ("stripe_pacing", ["--seconds", "20"]),
]


def main() -> int:
    failed = 0
    for module, args in BENCHMARKS:
        print(f"\n=== jde_stripe_pipeline.bench.{module} {' '.join(args)}", flush=True)
        failed += subprocess.call([sys.executable, "-m", f"jde_stripe_pipeline.bench.{module}", *args]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
