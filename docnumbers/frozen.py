"""What an issued number depends on is frozen: the rules a save and ``full_clean()`` apply.

The number, its text and counter, the ``unique_with`` values, the series, and the
date when it would leave the period the number was issued in cannot change once
the number is issued; ``docnumbers.renumber`` is the audited way. What the user
changed is found in memory, against what the instance was loaded with
(``tracking``); the stored row is read only when a watched value differs from
it, and a save's UPDATE is conditional on those values (``expected``), so a
stale instance never overwrites a number changed in the database meanwhile.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy

from . import drafts, formatting, late, state, tracking
from .days import local_date
from .exceptions import NumberFrozen, StaleDocument
from .labels import period_label

RENUMBER_HINT = gettext_lazy("To move the document to another sequence, use docnumbers.renumber().")


def dependencies(field) -> list:
    """The model fields an issued number depends on: scope, series, date."""
    meta = field.model._meta
    names = [*field.unique_with]
    if field.format_code is not None:
        names += [n for n in (field.series_field, field.date_field) if n]
    return [meta.get_field(name) for name in names]


def watched(field) -> list[str]:
    """Every attname a save must not change once the number is issued."""
    return [*state.issued_columns(field), *(f.attname for f in dependencies(field))]


def refuse_frozen_changes(field, instance, using, update_fields=None) -> None:
    """Raise NumberFrozen when this save would change what the issued number depends on."""
    problems = frozen_problems(field, instance, using, update_fields)
    if problems:
        text = " ".join(message for _, message in problems)
        raise NumberFrozen(f"{field.model._meta.label}.{field.name}: {text}", problems)


def frozen_problems(field, instance, using, update_fields=None) -> list[tuple[str, str]]:
    """(field name, message) for each change the stored row forbids; [] when none.

    No query when nothing watched differs from what ``instance`` was loaded with;
    otherwise one, to compare with the stored row. During ``renumber`` nothing is
    refused.
    """
    current = state.peek(instance)
    if instance._state.adding or instance.pk is None or (current and current.renumbering):
        return []
    if field.late and current is not None and field.name in current.late:
        late.load(instance)  # COMMIT may have numbered it since: know it before comparing
    back = _back_to_draft(field, instance, using, update_fields)
    if back:
        return back
    names = watched(field)
    if update_fields is not None:
        meta = instance._meta  # a child's update_fields name its own fields too
        saved = {meta.get_field(name).attname for name in update_fields}
        names = [n for n in names if n in saved]
    differing = tracking.changed(instance, names)
    if not differing:
        return []
    row = _stored_row(field, instance, using)
    if row is None or row[field.attname] is None:
        return []  # not stored yet, or a late number COMMIT has not written
    _check_not_stale(field, instance, row)
    by_attname = {f.attname: f for f in field.model._meta.concrete_fields}
    label = row.get(field.display_name) or str(row[field.attname])
    problems = []
    for name in differing:
        model_field = by_attname[name]
        problem = _problem(field, model_field, name, instance, row, label, using)
        if problem is not None and problem not in problems:
            problems.append(problem)
    return problems


def _back_to_draft(field, instance, using, update_fields) -> list[tuple[str, str]]:
    """An issued document whose ``issue_when`` this save makes false: it stays issued (#21).

    No query: the number the instance holds says it is issued, the condition is
    evaluated in memory (``drafts``).
    """
    if field.issue_when is None:
        return []
    number = instance.__dict__.get(field.attname)
    if number is None:
        return []
    names = drafts.condition_fields(field) or [field.name]
    if update_fields is not None and not set(update_fields) & {*names, field.name}:
        return []  # the stored condition is not written by this save
    if drafts.holds(field, instance, using):
        return []
    label = instance.__dict__.get(field.display_name) if field.format_code else None
    message = gettext(
        "%(number)s is issued; the document cannot go back to draft, its number stays. "
        "Cancel it with a credit note or void it instead."
    ) % {"number": label or number}
    return [(names[0], message)]


def _stored_row(field, instance, using):
    columns = watched(field)
    manager = field.model._base_manager.using(using)
    pk = getattr(instance, field.model._meta.pk.attname)
    return manager.filter(pk=pk).values(*columns).first()


def _check_not_stale(field, instance, row) -> None:
    """The row's number changed since ``instance`` was loaded: refuse, or learn it.

    If the instance holds what the row holds (``refresh_from_db()``), its
    snapshot is brought up to date; if it still holds what it was loaded with,
    it is stale.
    """
    columns = state.issued_columns(field)
    snapshot = tracking.loaded(instance)
    values = instance.__dict__
    if all(row[c] == snapshot.get(c, row[c]) for c in columns):
        return
    if all(values.get(c, row[c]) == row[c] for c in columns):
        tracking.update(instance, {c: row[c] for c in columns})
        return
    if all(values.get(c) == snapshot.get(c) for c in columns):
        raise_stale(instance)


def _problem(field, changed, attname, instance, row, label, using):
    old, new = row[attname], instance.__dict__.get(attname)
    if attname in state.issued_columns(field):
        if new == old:
            return None
        return (
            field.name,
            gettext(
                "%(number)s is this document's number; it cannot be changed or cleared by hand."
            )
            % {"number": label}
            + f" {RENUMBER_HINT}",
        )
    if changed.to_python(old) == changed.to_python(new):
        return None
    name = changed.verbose_name
    if changed.name == field.date_field:
        return _date_problem(field, changed, instance, row, label, using)
    if changed.name == field.series_field:
        return (
            changed.name,
            gettext(
                "%(number)s was issued by the series %(old)s; the %(field)s can no longer change."
            )
            % {"number": label, "old": describe(changed, old, using), "field": name}
            + f" {RENUMBER_HINT}",
        )
    return (
        changed.name,
        gettext(
            "%(number)s is numbered in the sequence of %(old)s; the %(field)s can no longer change."
        )
        % {"number": label, "old": describe(changed, old, using), "field": name}
        + f" {RENUMBER_HINT}",
    )


def _date_problem(field, changed, instance, row, label, using):
    """A date may move inside the period its number was issued in, keeping its text true.

    The period is the counter row's (where the number came from), not what
    today's format would compute: after a format change the two differ. Every
    date token the stored text may hold (the old day's year, month, day, fiscal
    year) must read the same for the new day.
    """
    # Inner import because models cannot be imported before their application.
    from .models import Counter

    old_day = local_date(changed.to_python(row[changed.attname]))
    new_day = local_date(changed.to_python(instance.__dict__.get(changed.attname)))
    counters = Counter.objects.using(using).select_related("number_format")
    counter = counters.filter(pk=row[f"{field.counter_name}_id"]).first()
    period = counter.period if counter is not None else ""
    if old_day is not None and new_day is not None:
        if formatting.period_contains(period, new_day) and _text_stays_true(
            counter, row[field.attname], label, old_day, new_day
        ):
            return None
    elif old_day == new_day:
        return None
    when = period_label(period) if period else gettext("its period")
    return (
        changed.name,
        gettext(
            "%(number)s is numbered in the period %(period)s; %(field)s can only move to a day "
            "that keeps that number true."
        )
        % {"number": label, "period": when, "field": str(changed.verbose_name).capitalize()}
        + f" {RENUMBER_HINT}",
    )


def _text_stays_true(counter, number, text, old_day, new_day) -> bool:
    """Whether the stored ``text`` reads the same for ``new_day``.

    While the series still renders ``text`` for the old day, its prefix and suffix
    for the new day must be the same. After a format change (it renders something
    else), no date token of the old day that ``text`` holds may read otherwise.
    """
    series = counter.number_format if counter is not None else None
    if series is None:
        return True
    fmt = series.as_format()
    if fmt.render(old_day, number) == text:
        return fmt.render_parts(old_day) == fmt.render_parts(new_day)
    first_month = fmt.fiscal_year_start_month
    for render, _ in formatting.TOKENS.values():
        old = render(old_day, first_month)
        if old != render(new_day, first_month) and old in text:
            return False
    return True


def expected(instance, table_model, fields) -> dict:
    """The filters that make the UPDATE of ``table_model``'s row compare-and-set.

    What ``instance`` was loaded with (or last saved) for the number, text and
    counter of each numbered field in that table (a renumber changes them), and a
    plain field's scope (a renumber may give it the same integer in another scope).
    {} for a new instance and during ``renumber`` (which holds the row's lock).
    ``fields``: the AutoSequenceFields of ``instance``'s model.
    """
    current = state.peek(instance)
    if instance._state.adding or (current is not None and current.renumbering):
        return {}
    concrete = table_model._meta.concrete_model
    snapshot = tracking.loaded(instance)
    conditions = {}
    for field in fields:
        if field.model._meta.concrete_model is not concrete:
            continue
        names = state.issued_columns(field)
        if field.format_code is None:
            # A plain scoped number may be renumbered to the same integer in another scope.
            names += [f.attname for f in dependencies(field)]
        for name in names:
            value = snapshot.get(name, tracking.NOT_LOADED)
            if value is not tracking.NOT_LOADED:
                conditions[name] = value
    return conditions


def raise_stale(instance) -> None:
    """A save matched no row: the document's number changed since it was loaded."""
    raise StaleDocument(
        gettext(
            "%(model)s %(pk)s was renumbered or its number changed in the database since it "
            "was loaded; nothing was saved. Load it again (refresh_from_db()) and repeat "
            "the change."
        )
        % {"model": str(instance._meta.verbose_name).capitalize(), "pk": instance.pk}
    )


def describe(model_field, value, using) -> str:
    """What a stored value was, for people: a related object's str(), else the value."""
    if value is None:
        return gettext("(none)")
    related = getattr(model_field, "related_model", None)
    if related is not None:
        obj = related._base_manager.using(using).filter(pk=value).first()
        if obj is not None:
            return str(obj)
    return str(value)
