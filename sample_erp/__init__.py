"""sample_erp: the runnable invoicing demo of docnumbers.

Start it with ``python3 sample_erp/run.py`` from the repository root.
"""
