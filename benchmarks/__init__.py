"""Latency benchmarks for SAFER's pages (`make bench`); see docs/performance.md."""
