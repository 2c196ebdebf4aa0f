"""Chronological series (``chronological=True``, #21): a later number never carries an
earlier date.

Several countries require invoices to be numbered in date order within a series. Before
a number is issued, the date of the highest number already issued in its sequence (the
counter's key) is read; a document dated earlier is refused with NumberOutOfOrder, the
same date is allowed. Inside a transaction the check runs after the counter moved, so
under the counter row's lock: no other issue of that sequence runs between the read and
the write. ``breaks`` finds the breaks already stored, for the audit.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext

from . import clock
from .exceptions import NumberOutOfOrder


def last_issued(field, key_text: str, using) -> tuple | None:
    """``(number, text, day)`` of the highest number issued under ``key_text``, or None."""
    date_field = field.model._meta.get_field(field.date_field)
    rows = field.model._base_manager.using(using).filter(
        **{f"{field.counter_name}__key": key_text, f"{field.attname}__isnull": False}
    )
    row = (
        rows.order_by(f"-{field.attname}")
        .values_list(field.attname, field.display_name, date_field.attname)
        .first()
    )
    if row is None:
        return None
    number, text, value = row
    return number, text or str(number), clock.local_date(value)


def check(field, key, instances, days: dict, using) -> None:
    """Raise NumberOutOfOrder if ``instances`` (numbered next under ``key``, in this order)
    would put an earlier date after a later one. ``days``: id(instance) -> its day."""
    if not instances:
        return
    last = last_issued(field, key.text, using)
    previous = last[2] if last is not None else None
    for instance in instances:
        day = days[id(instance)]
        if previous is not None and day < previous:
            if last is not None and previous == last[2]:
                raise out_of_order(field, day, last[1], last[2])
            raise NumberOutOfOrder(
                gettext(
                    "%(field)s: the documents of one batch of a chronological series must be "
                    "in date order (%(day)s comes after %(previous)s); sort them by date."
                )
                % {"field": _date_name(field), "day": day, "previous": previous},
                field=field.date_field,
            )
        previous = day
        last = None


def problem(field, key, day, using) -> str:
    """Why a document dated ``day`` cannot take the next number of ``key`` now, or ''."""
    last = last_issued(field, key.text, using)
    if last is not None and day < last[2]:
        return out_of_order(field, day, last[1], last[2]).message
    return ""


def out_of_order(field, day, last_text, last_day) -> NumberOutOfOrder:
    return NumberOutOfOrder(
        gettext(
            "%(last)s, the last number of this series, is dated %(last_day)s; numbers follow "
            "their dates, so a document dated %(day)s cannot be numbered after it. Date it "
            "%(last_day)s or later."
        )
        % {"last": last_text, "last_day": _shown(last_day), "day": _shown(day)},
        field=field.date_field,
        last=last_text,
        last_day=last_day,
    )


def breaks(field, using) -> list[dict]:
    """Stored numbers dated before the number preceding them in their sequence."""
    date_field = field.model._meta.get_field(field.date_field)
    counter = f"{field.counter_name}_id"
    rows = (
        field.model._base_manager.using(using)
        .filter(**{f"{field.attname}__isnull": False, f"{counter}__isnull": False})
        .order_by(counter, field.attname)
        .values_list(counter, field.attname, field.display_name, date_field.attname)
    )
    found = []
    previous = None
    for counter_id, number, text, value in rows.iterator():
        day = clock.local_date(value)
        if previous is not None and previous[0] == counter_id and day < previous[3]:
            found.append(
                {
                    "counter_id": counter_id,
                    "number": number,
                    "text": text,
                    "day": day.isoformat(),
                    "after": previous[2],
                    "after_day": previous[3].isoformat(),
                }
            )
            continue  # the highest date so far stays the one to compare with
        previous = (counter_id, number, text, day)
    return found


def _date_name(field) -> str:
    return str(field.model._meta.get_field(field.date_field).verbose_name)


def _shown(day: dt.date) -> str:
    return day.isoformat()
