"""SQLite whose transactions begin with BEGIN IMMEDIATE, for the tests on Django < 5.1.

Django 5.1+ does this with ``OPTIONS["transaction_mode"] = "IMMEDIATE"``, which
tests/settings.py sets there; Django 4.2 has no such option.
"""
