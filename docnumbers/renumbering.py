"""The one audited way to move a document whose number is issued to another sequence."""

from __future__ import annotations

from django.db import router, transaction

from . import frozen, numbering, services, state
from .exceptions import DocnumbersError
from .fields import sequence_fields
from .keys import SequenceKey, scope_from_values, sequence_label


def renumber(instance, field_name: str | None = None, *, reason: str, user=None, using=None):
    """Give a saved document the next number of the sequence its current values choose.

    Change what the number depends on (the customer, the date, the series) on
    ``instance`` first, then call this instead of ``save()``: it saves the
    document with a new number and text, and records its old number as an
    explained gap (kind "renumbered", with the reason and the new text), in one
    transaction. Returns the new text (the number, for a field without format).
    """
    field = _field(instance, field_name)
    if not (reason or "").strip():
        raise DocnumbersError("Give a reason for the renumbering: auditors read it.")
    using = using or instance._state.db or router.db_for_write(type(instance), instance=instance)
    with transaction.atomic(using=using):
        old_number, old_text, counter = _stored(field, instance, using)
        old_text += _scope(field, instance, using, stored=True)
        current = state.of(instance)
        current.issued.pop(field.name, None)
        setattr(instance, field.attname, None)
        if field.format_code is not None:
            setattr(instance, field.display_name, None)
        numbering.number_all(field, [instance], using, deferred=False)
        current.renumbering = True
        try:
            instance.save(using=using)
        finally:
            current.renumbering = False
        new_text = _text(field, instance)
        moved = f"{old_text} became {new_text}{_scope(field, instance, using)}"
        _explain(counter, old_number, f"{moved}: {reason.strip()}", user)
    return new_text


def _field(instance, field_name):
    fields = sequence_fields(type(instance))
    if field_name is not None:
        fields = [f for f in fields if f.name == field_name]
    if len(fields) != 1:
        names = ", ".join(f.name for f in sequence_fields(type(instance))) or "none"
        raise DocnumbersError(
            f"Name the AutoSequenceField to renumber on {type(instance).__name__} "
            f"(its fields: {names})."
        )
    return fields[0]


def _text(field, instance) -> str:
    number = getattr(instance, field.attname)
    if field.format_code is not None:
        return getattr(instance, field.display_name) or str(number)
    return str(number)


def _scope(field, instance, using, stored=False) -> str:
    """`` (customer ACME Ltd)``: whose sequence a number is in, or '' without unique_with."""
    if not field.unique_with:
        return ""
    meta = field.model._meta
    scope_fields = [meta.get_field(n) for n in field.unique_with]
    if stored:
        row = field.model._base_manager.using(using).filter(pk=instance.pk)
        values = row.values_list(*(f.attname for f in scope_fields)).get()
    else:
        values = [getattr(instance, f.attname) for f in scope_fields]
    parts = [
        f"{f.verbose_name} {frozen.describe(f, v, using)}"
        for f, v in zip(scope_fields, values, strict=True)
    ]
    return f" ({', '.join(parts)})"


def _stored(field, instance, using):
    """The stored number, its text and its counter row, read under the row's lock."""
    from .models import Counter

    columns = [field.attname, *(field.model._meta.get_field(n).attname for n in field.unique_with)]
    if field.format_code is not None:
        columns += [field.display_name, f"{field.counter_name}_id"]
    manager = field.model._base_manager.using(using).select_for_update()
    row = manager.filter(pk=instance.pk).values(*columns).first() if instance.pk else None
    if row is None or row[field.attname] is None:
        raise DocnumbersError(
            f"{type(instance).__name__} {instance.pk} has no stored {field.name} to renumber; "
            "save it first."
        )
    counters = Counter.objects.using(using)
    if field.format_code is not None:
        return (
            row[field.attname],
            row[field.display_name],
            counters.get(pk=row[f"{field.counter_name}_id"]),
        )
    scope_fields = [field.model._meta.get_field(n) for n in field.unique_with]
    key = SequenceKey(
        sequence_label(field.model, field.name),
        scope=scope_from_values(scope_fields, [row[f.attname] for f in scope_fields]),
    )
    return row[field.attname], str(row[field.attname]), counters.get(key=key.text)


def _explain(counter, number, reason, user):
    from .models import GapExplanation

    services.record_gap(
        counter,
        number,
        number,
        kind=GapExplanation.Kind.RENUMBERED,
        reason=reason,
        user=user,
        using=counter._state.db,
    )
