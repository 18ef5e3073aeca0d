"""The fault and bad-input matrix (issue 11): whole runs under one fault at a time, then mixed, each
judged against the servers themselves.

`make reliability` plays every scenario (`catalog.ALL`) and writes `docs/reliability.md`; the fast CI
subset is `jde_stripe_pipeline_tests/reliability/`. The parts, in the order a scenario uses them:
- `servers`: the AIS sandbox and the Stripe emulator on loopback, behind hooks (kill a run when a
  server has committed, rewrite an answer), read through their admin faces;
- `arena`: a scenario's stage: runs as processes (`run`, the assets' steps in order), kills, the key
  store, what the harness injected; `postgres`: a cluster of its own to stop under a run;
- `scenarios_*`: the faults (AIS, Stripe, the process and its database, bad input; `mangle` rewrites
  AIS answers), `faults` turns them off again and counts what fired;
- `truth`: what Stripe must hold, from JDE's tables alone; `verdict`: Stripe's stored objects and the
  ledger's rows against it; `matrix`: one scenario from start to verdict; `report`: the table.
Nothing in the product imports this package (import-linter contract).
"""
