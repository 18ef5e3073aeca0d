"""`make bench` / `python -m jde_stripe_pipeline.bench`: issue 10's side-by-side bench (`matrix.py`).

The older single-purpose benchmarks stay runnable alone, each with `--help`: `ais_sandbox`, `extract`,
`stripe_emulator`, `sync`, `ledger`, `stripe_pacing` (the sink's achieved share of Stripe's limits:
`python -m jde_stripe_pipeline.bench.<name>`).
"""

import sys

from jde_stripe_pipeline.bench.child import stop_on_sigterm
from jde_stripe_pipeline.bench.matrix import main

if __name__ == "__main__":
    stop_on_sigterm()
    sys.exit(main())
