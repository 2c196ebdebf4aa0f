"""The local day and time in ``settings.TIME_ZONE``, with ``USE_TZ`` on or off.

Django's ``timezone.localdate()`` and ``localtime()`` refuse naive datetimes, and
with ``USE_TZ = False`` every datetime is naive: ``timezone.now()`` and the values
read from the database are local time already. These helpers accept both.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def localtime(value: dt.datetime | None = None) -> dt.datetime:
    """``value`` (default: now) in ``settings.TIME_ZONE``; a naive datetime is local already."""
    if value is None:
        value = timezone.now()
    if timezone.is_aware(value):
        return timezone.localtime(value, timezone.get_default_timezone())
    return value


def local_date(value) -> dt.date | None:
    """The date of ``value`` in ``settings.TIME_ZONE`` (aware datetimes converted, dates kept)."""
    if isinstance(value, dt.datetime):
        return localtime(value).date()
    return value


def today() -> dt.date:
    """Today in ``settings.TIME_ZONE``, whatever time zone is activated, USE_TZ on or off."""
    return localtime().date()
