"""A tiny app and settings for benchmarks/audit_1m.py: one table, one million numbers."""
