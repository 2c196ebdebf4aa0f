"""Texts that would be issued twice, found before they are.

A formatted number is stored as issued (``<name>_display``), unique within its
``unique_with`` scope. A change of prefix, suffix, padding, reset or fiscal month
can make the next numbers read like numbers already issued: a yearly reset
switched to never starts at INV-2026-0001 again. This module looks for that with
a few queries per batch of counters, never per document:

- ``validation_errors`` (``NumberFormat.clean``, hence the admin form) and ``find``:
  the next numbers of a series, with the settings it is about to get, in every
  period and scope of its code that has counters, looked up in the field that
  issues them (same scope) and in every other formatted field of the project
  (any scope: one text names one document, whatever its type);
- ``issued_documents``: which of the admin preview's numbers are already stored;
- ``check_first_number``: at issue time, only for the first number of a new
  counter row, so that ordinary saves cost no query.

It imports no docnumbers model (``models`` imports it); the Counter model is
reached through ``NumberFormat.counters``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import IntegerField, Q, Value
from django.utils.text import capfirst
from django.utils.translation import gettext

from . import clock, formatting, labels, registry
from .exceptions import NumberCollision
from .keys import (
    SequenceKey,
    parse_scope,
    scope_filters,
    scope_from_values,
    scope_text,
    sequence_label,
)

#: The settings whose change can make a new number read like an issued one, in form order.
WATCHED = ("prefix", "suffix", "padding", "reset", "fiscal_year_start_month")
#: How many of the next numbers of each sequence are looked up (the preview shows 3).
LOOKAHEAD = 3
#: Query parameters per statement, under every backend's limit (SQLite: 999).
MAX_PARAMS = 500


@dataclasses.dataclass(frozen=True)
class Target:
    """Where a series would issue next: a field's sequence in one scope, on one day."""

    field: object
    scope: str | None  # as stored in Counter.scope; None: a scope with no counter yet
    day: dt.date
    when: str  # "of 2026", "dated 2025-07-01", "issued today"
    key: str  # the counter key these settings would use


@dataclasses.dataclass(frozen=True)
class Collision:
    """A next number (``offset`` 0 is the very next) that reads like a stored one.

    ``text`` is the stored text, ``field`` the numbered field that holds it (the
    target's own field, or another document type's), ``pk`` the row's key.
    """

    text: str
    pk: object
    target: Target
    number: int
    offset: int
    field: object = None
    scope: str = ""  # the holder's scope, as stored in Counter.scope

    @property
    def document(self) -> str:
        """``customer document C-2026-001 (ACME Ltd)``: model, stored text and scope."""
        holder = self.field or self.target.field
        label = labels.document_label(holder.model, self.text)
        if self.scope:
            sequence = sequence_label(holder.model, holder.name)
            label += f" ({labels.scope_label(sequence, self.scope)})"
        return label

    @property
    def message(self) -> str:
        model = self.target.field.model._meta.verbose_name
        params = {"model": model, "when": self.target.when, "number": self.number}
        if self.offset == 0:
            which = gettext("the next %(model)s %(when)s") % params
        else:
            which = gettext("%(model)s number %(number)s %(when)s") % params
        return gettext(
            "%(document)s is already issued; with these settings %(which)s would read the same."
        ) % {"document": capfirst(self.document), "which": which}


def text_fields(using=None) -> list:
    """Every registered field that stores a text (``format=...``), whose table lives in
    ``using``: the fields among which one text names one document."""
    return [
        f
        for f in registry.fields()
        if getattr(f, "format_code", None) is not None
        and (using is None or router.allow_migrate_model(using, f.model))
    ]


def _using(number_format) -> str:
    return number_format._state.db or router.db_for_write(type(number_format))


def _chunks(items: list, weight) -> list[list]:
    """``items`` in runs whose total ``weight`` stays within MAX_PARAMS."""
    runs, run, size = [], [], 0
    for item in items:
        if run and size + weight(item) > MAX_PARAMS:
            runs.append(run)
            run, size = [], 0
        run.append(item)
        size += weight(item)
    return [*runs, run] if run else runs


# -- NumberFormat.clean -------------------------------------------------------------------


def changed_settings(number_format, using=None) -> list[str]:
    """The WATCHED settings that differ from the stored row (all of them for a new series)."""
    if number_format.pk is None:
        return list(WATCHED)
    stored = (
        type(number_format)
        ._base_manager.using(using or _using(number_format))
        .filter(pk=number_format.pk)
        .values(*WATCHED)
        .first()
    )
    if stored is None:
        return list(WATCHED)
    return [name for name in WATCHED if getattr(number_format, name) != stored[name]]


def validation_errors(number_format) -> dict[str, ValidationError]:
    """``{field: error}`` when the new settings would issue a stored text; {} otherwise.

    Nothing is looked up when no watched setting changed. The error names the first
    colliding document and goes to the first setting that changed.
    """
    using = _using(number_format)
    changed = changed_settings(number_format, using)
    if not changed:
        return {}
    found = find(number_format, using)
    if not found:
        return {}
    return {changed[0]: ValidationError(found[0].message, code="reissues_text")}


def find(number_format, using=None, count: int = LOOKAHEAD) -> list[Collision]:
    """The next ``count`` numbers of ``number_format`` (as it is now, saved or not) that
    read like stored ones, in every period and scope its code has counters for.

    Per period and scope: a day of each month (``formatting.period_days``; today for
    a never-reset counter), the key these settings give that day, the value that key
    would continue from (its counter, or ``start_at``), the rendered texts, looked up
    in the field's ``<name>_display`` within the same scope.
    """
    fields = registry.fields_of_code(number_format.code)
    if not fields:
        return []
    using = using or _using(number_format)
    fmt = number_format.as_format()
    targets = _targets(number_format, fmt, fields, using)
    values = _counter_values(number_format, [t.key for t in targets], using)
    wanted: dict = {}  # field -> {(scope, text): (order, target, number, offset)}
    for order, target in enumerate(targets):
        last = values.get(target.key, target.field.start_at - 1)
        for offset in range(count):
            number = last + 1 + offset
            text = fmt.render(target.day, number)
            entry = (order * count + offset, target, number, offset)
            wanted.setdefault(target.field, {}).setdefault((target.scope, text), entry)
    found = []
    for field, texts in wanted.items():
        found += _stored(field, texts, using)
    found += _stored_elsewhere(wanted, using)
    return [collision for _, collision in sorted(found, key=lambda pair: pair[0])]


def _targets(number_format, fmt, fields, using) -> list[Target]:
    """One Target per field, scope, new period and rendered prefix/suffix, in a stable order."""
    counter_model = number_format._meta.get_field("counters").related_model
    by_label = {sequence_label(f.model, f.name): f for f in fields}
    rows = (
        counter_model._base_manager.using(using)
        .filter(sequence__in=list(by_label), number_format__code=number_format.code)
        .values_list("sequence", "scope", "period")
        .distinct()
        .order_by("sequence", "scope", "period")
    )
    today = clock.today()
    targets: dict = {}
    for sequence, scope, period in rows:
        scope_pairs = tuple(parse_scope(scope).items())
        days = formatting.period_days(period)
        for day in days or [today]:
            try:
                new_period = fmt.period(day)
                ident = (sequence, scope, new_period, fmt.render_parts(day))
            except formatting.TemplateError:
                continue  # a fiscal year leaving the calendar: nothing is issued that day
            if ident in targets:
                continue
            if not days:
                when = gettext("issued today")
            elif day == days[0]:
                when = gettext("of %(period)s") % {"period": period}
            else:
                when = gettext("dated %(day)s") % {"day": day.isoformat()}
            key = SequenceKey(sequence, number_format.pk, scope_pairs, new_period).text
            targets[ident] = Target(by_label[sequence], scope, day, when, key)
    # The first numbers of a sequence that has no counter yet (a new code, a new period,
    # a new scope): nothing of its own is stored, but another document type may hold them.
    for sequence, field in by_label.items():
        scope = None if field.unique_with else ""
        ident = (sequence, scope, fmt.period(today), fmt.render_parts(today))
        if ident not in targets and (sequence, "", *ident[2:]) not in targets:
            key = SequenceKey(sequence, number_format.pk, (), fmt.period(today)).text
            targets[ident] = Target(field, scope, today, gettext("issued today"), key)
    return list(targets.values())


def _counter_values(number_format, keys: list[str], using) -> dict[str, int]:
    """The last value of the counters of ``keys`` that exist (none for an unsaved series)."""
    if number_format.pk is None:
        return {}
    counter_model = number_format._meta.get_field("counters").related_model
    values = {}
    for chunk in _chunks(sorted(set(keys)), lambda key: 1):
        rows = counter_model._base_manager.using(using).filter(key__in=chunk)
        values.update(rows.values_list("key", "value"))
    return values


def _stored(field, wanted: dict, using) -> list[tuple[int, Collision]]:
    """The ``(scope, text)`` pairs of ``wanted`` stored in ``field``'s display column.

    One query per run of scopes (their texts OR-ed), each row matched back to its
    scope. The database compares with its collation (MariaDB: case-insensitive),
    so a row that matches only when case is ignored is a collision too.
    """
    model, names = field.model, field.unique_with
    scope_fields = [model._meta.get_field(name) for name in names]
    by_scope: dict[str, list[str]] = {}
    for scope, text in wanted:
        if scope is not None:  # a new scope stores nothing yet
            by_scope.setdefault(scope, []).append(text)
    folded = {
        (s.casefold(), t.casefold()): entry for (s, t), entry in wanted.items() if s is not None
    }
    found = []
    runs = _chunks(list(by_scope.items()), lambda item: len(names) + len(item[1]))
    for run in runs:
        condition = Q()
        for scope, texts in run:
            filters = scope_filters(model, names, parse_scope(scope))
            condition |= Q(**filters, **{f"{field.display_name}__in": texts})
        rows = model._base_manager.using(using).filter(condition)
        columns = [f.attname for f in scope_fields]
        for pk, text, *values in rows.values_list("pk", field.display_name, *columns):
            scope = scope_text(scope_from_values(scope_fields, values))
            entry = wanted.get((scope, text)) or folded.get((scope.casefold(), text.casefold()))
            if entry is not None:
                order, target, number, offset = entry
                collision = Collision(text, pk, target, number, offset, field, scope)
                found.append((order, collision))
    return found


def _stored_elsewhere(wanted: dict, using) -> list[tuple[int, Collision]]:
    """The texts of ``wanted`` (``{field: {(scope, text): entry}}``) stored by *another*
    formatted field of the project, in any scope: an invoice's text must not be issued
    to a quote. One query per field and run of texts."""
    by_text: dict[str, list] = {}
    for field, texts in wanted.items():
        for (_scope, text), entry in texts.items():
            by_text.setdefault(text, []).append((field, entry))
    if not by_text:
        return []
    folded: dict[str, list] = {}
    for text, entries in by_text.items():
        folded.setdefault(text.casefold(), []).extend(entries)
    found = []
    for holder in text_fields(using):
        texts = [t for t, entries in by_text.items() if any(f is not holder for f, _ in entries)]
        scope_fields = [holder.model._meta.get_field(name) for name in holder.unique_with]
        columns = [f.attname for f in scope_fields]
        for run in _chunks(texts, lambda text: 1):
            rows = holder.model._base_manager.using(using).filter(
                **{f"{holder.display_name}__in": run}
            )
            for pk, text, *values in rows.order_by("pk").values_list(
                "pk", holder.display_name, *columns
            ):
                scope = scope_text(scope_from_values(scope_fields, values))
                entries = by_text.get(text) or folded.get(text.casefold(), [])
                for field, (order, target, number, offset) in entries:
                    if field is not holder:
                        collision = Collision(text, pk, target, number, offset, holder, scope)
                        found.append((order, collision))
    return found


# -- The admin preview --------------------------------------------------------------------


def issued_documents(code: str, texts: list[str], using=None) -> dict[str, str]:
    """``{text: "invoice INV-2026-0012"}`` for the ``texts`` already stored by a numbered
    field: any field of another code, and the fields of ``code`` itself.

    For the preview, whose numbers are those of the scope-less sequence: the fields
    of ``code`` with ``unique_with`` are left out (their texts repeat across scopes by
    design).
    """
    texts = list(dict.fromkeys(texts))
    folded = {text.casefold(): text for text in texts}
    found: dict[str, str] = {}
    for field in text_fields(using):
        if (field.format_code == code and field.unique_with) or not texts:
            continue
        rows = field.model._base_manager.using(using).filter(**{f"{field.display_name}__in": texts})
        for text in rows.order_by("pk").values_list(field.display_name, flat=True):
            shown = text if text in texts else folded.get(text.casefold(), text)
            found.setdefault(shown, labels.document_label(field.model, text))
    return found


# -- Issue time ---------------------------------------------------------------------------


def check_first_number(field, key: SequenceKey, series, new: list, first: int, using) -> None:
    """Raise NumberCollision if the first number of a new counter row reads like a stored one.

    Called by ``numbering`` after the texts are rendered. Only the first number a
    counter row gives (``start_at``: a new period, scope or series, where a reset,
    padding or period change collides) costs a query; every other save costs none.
    """
    if series is None or not new or first != field.start_at:
        return
    instance = new[0]
    text = getattr(instance, field.display_name)
    rows = field.model._base_manager.using(using).filter(
        **scope_filters(field.model, field.unique_with, dict(key.scope)),
        **{field.display_name: text},
    )
    if instance.pk is not None:
        rows = rows.exclude(pk=instance.pk)
    holder = field if rows.exists() else _holder_elsewhere(field, text, using)
    if holder is None:
        return
    document = labels.document_label(holder.model, text)
    name = f" (series {series.name!r})" if series.name else ""
    raise NumberCollision(
        f"The number format {series.code!r}{name} would issue {text}, which is already "
        f"the number of {document}. Its settings were changed without validation (for "
        "example with QuerySet.update()) so that a new period or scope starts again on "
        "a stored text: restore them, or change them in the admin, which refuses "
        "settings that issue a text again.",
        text=text,
        document=document,
        number_format=series,
    )


def _holder_elsewhere(field, text: str, using):
    """The other formatted field that stores ``text`` (None if none): one query for all."""
    others = [f for f in text_fields(using) if f is not field]
    if not others:
        return None
    queries = [
        other.model._base_manager.using(using)
        .filter(**{other.display_name: text})
        .annotate(docnumbers_field=Value(index, output_field=IntegerField()))
        .values_list("docnumbers_field", flat=True)
        .order_by()
        for index, other in enumerate(others)
    ]
    union = queries[0].union(*queries[1:], all=True) if len(queries) > 1 else queries[0]
    index = next(iter(union), None)
    return None if index is None else others[index]
