"""Exceptions raised by docnumbers."""

from django.db.utils import OperationalError


class CounterLocked(OperationalError):
    """``nowait=True`` was asked and another transaction holds the counter row.

    A subclass of Django's OperationalError, so code written for django-sequences,
    which catches that, keeps working.
    """


class FormatMissing(LookupError):
    """A field's format code has no active NumberFormat and no declared defaults."""
