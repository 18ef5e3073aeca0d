"""Benchmark scripts: each prints its figures (throughput, peak memory); none is a timed test."""
