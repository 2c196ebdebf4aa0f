"""The settings docnumbers reads, each with its default: ``DOCNUMBERS_<NAME>``.

Read through ``setting(name)``, once, and again after a ``setting_changed`` signal
(``override_settings`` sends it), so that tests can change them. The README's
settings table lists the same names and defaults.
"""

from __future__ import annotations

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS = {
    #: The first and last year of the document dates numbers are issued for; a date
    #: outside (a typo such as 0001-01-01 or 9999-12-31) is refused, not numbered.
    "DATE_RANGE": (1900, 2999),
}


#: name -> its value, read once: every save reads DATE_RANGE. Emptied whenever a setting
#: changes (``override_settings`` and pytest-django's ``settings`` say so).
_read: dict = {}


def setting(name: str):
    """The value of ``DOCNUMBERS_<name>``, or its default."""
    try:
        return _read[name]
    except KeyError:
        value = _read[name] = getattr(settings, f"DOCNUMBERS_{name}", DEFAULTS[name])
        return value


def _forget(*, setting: str, **kwargs) -> None:
    if setting.startswith("DOCNUMBERS_"):
        _read.clear()


setting_changed.connect(_forget)
