"""Benchmarks of docnumbers: run ``python -m benchmarks.run_all`` from the repository root."""
