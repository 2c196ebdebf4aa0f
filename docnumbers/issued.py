"""What has been issued from a counter: the rows of the user's models it numbered.

Shared by the admin (refuse a next value that would issue a number again) and
the audit commands (sync, integrity). Read-only; never writes.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Max

from .fields import AutoSequenceField
from .keys import parse_scope, scope_filters


def field_of(counter) -> AutoSequenceField | None:
    """The AutoSequenceField whose sequence a counter row belongs to (None for function keys)."""
    try:
        app_label, model_name, field_name = counter.sequence.rsplit(".", 2)
        model = apps.get_model(app_label, model_name)
        field = model._meta.get_field(field_name)
    except (ValueError, LookupError):
        return None
    return field if isinstance(field, AutoSequenceField) else None


def rows_of(counter, using=None):
    """A queryset of the rows numbered from ``counter``, or None for a function key."""
    field = field_of(counter)
    if field is None:
        return None
    rows = field.model._default_manager.using(using or counter._state.db)
    if field.format_code is not None:
        return rows.filter(**{f"{field.counter_name}_id": counter.pk})
    return rows.filter(**scope_filters(field.model, field.unique_with, parse_scope(counter.scope)))


def highest_issued(counter, using=None) -> int | None:
    """The highest number stored in the rows numbered from ``counter`` (None if none)."""
    rows = rows_of(counter, using)
    if rows is None:
        return None
    field = field_of(counter)
    return rows.aggregate(top=Max(field.attname))["top"]


def highest_document(counter, using=None) -> tuple[int, str] | None:
    """``(9, "INV-2026-0009")``: the highest number stored in the rows numbered from
    ``counter`` and its text as stored (the integer for a plain field); None if none.

    What "last issued" shows: the stored text, never the counter's value rendered
    again with today's format (a format changed since would show a number nobody has).
    """
    rows = rows_of(counter, using)
    if rows is None:
        return None
    field = field_of(counter)
    columns = [field.attname] + ([field.display_name] if field.format_code is not None else [])
    row = rows.order_by(f"-{field.attname}", "-pk").values_list(*columns).first()
    if row is None:
        return None
    return row[0], (row[1] if len(row) > 1 and row[1] else str(row[0]))
