"""``number_ordering``: document numbers sorted by (period, number), not as text.

Public (``docnumbers.number_ordering``, also importable from ``docnumbers.admin``): a
query expression for ``ModelAdmin.ordering`` or a queryset's ``order_by``.
"""

from __future__ import annotations

from django.db.models import Case, CharField, F, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, LPad

from .allocation import MAX_VALUE


def number_ordering(field_name: str, model=None):
    """An ``ordering`` expression that sorts a document number by (period, number).

    The text would sort ``FAC-2026-0011`` below ``INV-2026-0005`` and ``INV-2026-10``
    below ``INV-2026-9``; this sorts by the counter's period, then the integer. Use it in
    ``ModelAdmin.ordering`` (``[number_ordering("number").desc()]``) or a queryset's
    ``order_by``. Given ``model``, a field without ``format`` sorts by its integer.
    """
    field = model._meta.get_field(field_name) if model is not None else None
    if field is not None and getattr(field, "format_code", None) is None:
        return F(field_name)
    counter = f"{field_name}_counter" if field is None else field.counter_name
    # One text that sorts like (period, number): "1" + 19 digits for 0 and up, "0" + the
    # distance from -2**63 for negative numbers (so -3 sorts before -2, and both before 0).
    number = F(field_name)
    digits = Case(
        When(**{f"{field_name}__lt": 0}, then=Concat(Value("0"), _padded(number + MAX_VALUE))),
        default=Concat(Value("1"), _padded(number)),
        output_field=CharField(),
    )
    return Concat(
        Coalesce(F(f"{counter}__period"), Value("")), Value("/"), digits, output_field=CharField()
    )


def _padded(expression):
    return LPad(Cast(expression, CharField()), 19, Value("0"))
