"""Benchmark scripts: each prints figures (`python -m jde_stripe_pipeline.bench.<name>`)."""
