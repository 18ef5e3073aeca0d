"""Benchmark scripts: each prints figures; run one with `python -m jde_stripe_pipeline.bench.<name>`."""
