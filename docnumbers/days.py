"""A document's day: the local date that drives its tokens and its period, and whether it
is plausible (``DOCNUMBERS_DATE_RANGE``). Read by the engine, the freeze rules and
``full_clean()``; dates come from ``clock`` (``settings.TIME_ZONE``, USE_TZ on or off)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from . import clock
from .conf import setting
from .exceptions import DateOutOfRange


def local_date(value) -> dt.date | None:
    """The date of ``value`` in ``settings.TIME_ZONE`` (aware datetimes converted, dates
    kept; with ``USE_TZ = False`` a naive datetime is local time already)."""
    return clock.local_date(value)


def today() -> dt.date:
    """Today in ``settings.TIME_ZONE``, whatever time zone is activated, USE_TZ on or off."""
    return clock.today()


def document_day(field, instance) -> dt.date:
    """The local date that drives the tokens and the period of ``instance``.

    Raises DateOutOfRange for a date outside ``DOCNUMBERS_DATE_RANGE``.
    """
    value = None
    if field.date_field:
        date_field = field.model._meta.get_field(field.date_field)
        value = getattr(instance, date_field.attname)
        if type(value) is dt.date:
            return check_day(field, value)
        # Strings are accepted by date fields elsewhere in Django; here too.
        value = date_field.to_python(value)
        if value is None and (date_field.auto_now or date_field.auto_now_add):
            value = date_field.pre_save(instance, instance._state.adding)
        if value is not None:
            # Before the conversion to local time, which overflows past 9999-12-31.
            check_day(field, value)
    return today() if value is None else check_day(field, local_date(value))


def date_problem(field, day) -> str:
    """Why ``day`` (a date or datetime) cannot number a document of ``field``, or ''."""
    first, last = setting("DATE_RANGE")
    if day is None or first <= day.year <= last:
        return ""
    date_field = field.model._meta.get_field(field.date_field) if field.date_field else None
    return gettext(
        "%(day)s is outside the years documents are numbered for (%(first)s to %(last)s): "
        "correct the date '%(field)s'."
    ) % {
        "day": day.isoformat()[:10],
        "field": date_field.verbose_name if date_field is not None else "",
        "first": first,
        "last": last,
    }


def day_problems(field, instance) -> list[tuple[str, str]]:
    """``[(date field, message)]`` when ``instance`` is to be numbered for an implausible
    date (for ``full_clean``); [] otherwise, and for a document numbered already."""
    if (
        not field.date_field
        or field.format_code is None
        or (not instance._state.adding and instance.__dict__.get(field.attname) is not None)
    ):
        return []
    try:
        document_day(field, instance)
    except DateOutOfRange as exc:
        return [(field.date_field, exc.message)]
    except (TypeError, ValueError, ValidationError):
        return []  # the date field's own validation says what is wrong
    return []


def check_day(field, day):
    """``day``, or DateOutOfRange on the date field when it lies outside DATE_RANGE."""
    problem = date_problem(field, day)
    if problem:
        raise DateOutOfRange(problem, field=field.date_field)
    return day
