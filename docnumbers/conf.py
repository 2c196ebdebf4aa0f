"""The settings docnumbers reads, each with its default: ``DOCNUMBERS_<NAME>``.

Read through ``setting(name)`` at the time of use, so that ``override_settings``
works in tests. The README's settings table lists the same names and defaults.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    #: The first and last year of the document dates numbers are issued for; a date
    #: outside (a typo such as 0001-01-01 or 9999-12-31) is refused, not numbered.
    "DATE_RANGE": (1900, 2999),
}


def setting(name: str):
    """The value of ``DOCNUMBERS_<name>``, or its default."""
    return getattr(settings, f"DOCNUMBERS_{name}", DEFAULTS[name])
