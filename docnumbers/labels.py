"""Human labels of sequences, for the admin and the audit: a series by its name or its
pattern (``INV-{YYYY}-####``), never its code; a scope by the related object's ``str()``
("ACME Ltd", not ``customer=1``); a period as ``2026``, ``2026-03`` or ``FY 2025/26``.
Read-only; the stored keys never change."""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext

from . import formatting, registry
from .keys import parse_scope

#: The separator between the parts of a counter's label.
SEP = " · "


def field_of_sequence(sequence: str):
    """The AutoSequenceField named ``app_label.model.field`` (None for a function key)."""
    try:
        app_label, model_name, field_name = sequence.rsplit(".", 2)
        field = apps.get_model(app_label, model_name)._meta.get_field(field_name)
    except (ValueError, LookupError):
        return None
    return field if field in registry.fields() else None


def sequence_label(sequence: str) -> str:
    """``Invoice: customer's invoice number`` (``Facture : …`` in French), or the sequence's
    own text for a function key."""
    field = field_of_sequence(sequence)
    if field is None:
        return sequence
    return gettext("%(model)s: %(field)s") % {
        "model": str(field.model._meta.verbose_name).capitalize(),
        "field": field.verbose_name,
    }


def document_label(model, text) -> str:
    """``invoice INV-2026-0012``: a stored document, named by its model and its number as
    stored (never by a database id, which means nothing to the people who read it)."""
    return gettext("%(model)s %(number)s") % {"model": model._meta.verbose_name, "number": text}


def period_label(period: str) -> str:
    """``2026``, ``2026-03``, ``2026-03-31``, ``FY 2025/26`` ('' when it never resets)."""
    if period.startswith("FY"):
        first = formatting.parse_period(period)
        if first is None:
            return period
        if first.month == 1:
            return f"FY {first.year}"
        return f"FY {first.year}/{(first.year + 1) % 100:02d}"
    return period


def series_label(number_format) -> str:
    """A series as people know it: its name, else what its numbers look like
    (``INV-{YYYY}-####``), never its code alone ('' for no series)."""
    if number_format is None:
        return ""
    if number_format.name:
        return number_format.name
    digits = "#" * max(number_format.padding or 0, 1)
    return f"{number_format.prefix}{digits}{number_format.suffix}"


def scope_label(sequence: str, scope: str, using=None) -> str:
    """The scope's values as people know them: a related object's ``str()``, else the value."""
    values = parse_scope(scope)
    if not values:
        return ""
    field = field_of_sequence(sequence)
    parts = []
    for name, value in values.items():
        parts.append(_scope_value(field, name, value, using))
    return ", ".join(parts)


def _scope_value(field, name, value, using) -> str:
    if value is None:
        return gettext("(no %(name)s)") % {"name": name}
    target = None
    if field is not None:
        try:
            target = field.model._meta.get_field(name)
        except LookupError:
            target = None
    if target is None:
        return f"{name}={value}"
    if target.is_relation and target.related_model is not None:
        related = target.related_model._default_manager
        if using:
            related = related.db_manager(using)
        obj = related.filter(pk=target.target_field.to_python(value)).first()
        return str(obj) if obj is not None else f"{target.verbose_name} #{value}"
    return str(value)


def counter_label(counter, *, with_sequence: bool = False) -> str:
    """``Export · ACME Ltd · 2026``: series, scope and period of a counter row."""
    using = counter._state.db
    parts = [
        series_label(counter.number_format) if counter.number_format_id else "",
        scope_label(counter.sequence, counter.scope, using),
        period_label(counter.period),
    ]
    if with_sequence:
        parts.insert(0, sequence_label(counter.sequence))
    text = SEP.join(part for part in parts if part)
    return text or gettext("all")
