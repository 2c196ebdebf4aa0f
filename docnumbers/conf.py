"""The settings docnumbers reads, each with its default: ``DOCNUMBERS_<NAME>``.

Read through ``setting(name)`` at the time of use, so that ``override_settings``
works in tests. The README's settings table lists the same names and defaults.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    #: PostgreSQL late allocation: seconds a process keeps a series between saves
    #: (0: read it on every save). See the README, "Late allocation".
    "FORMAT_CACHE_SECONDS": 0.0,
}


def setting(name: str):
    """The value of ``DOCNUMBERS_<name>``, or its default."""
    return getattr(settings, f"DOCNUMBERS_{name}", DEFAULTS[name])
