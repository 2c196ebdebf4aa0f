"""The numbering engine: from a model instance to its number and its text.

For each instance it chooses the series, the document's day and its period,
builds the sequence key, takes the number from ``allocation`` and renders the
text with ``formatting``. ``number_all`` does it for a list (a save is a list of
one; bulk_create a batch) with one counter statement per sequence key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models.fields import AutoFieldMixin
from django.utils.translation import gettext

from . import (
    allocation,
    chronology,
    collisions,
    drafts,
    formatting,
    late,
    state,
    tracking,
)
from .days import check_day, document_day, today
from .exceptions import NumberFrozen, SeriesMismatch
from .keys import SequenceKey, scope_of, sequence_label


def _number_formats(using):
    # Inner import because models cannot be imported before their application.
    from .models import NumberFormat

    return NumberFormat.objects.using(using)


def order_problems(field, instance, using) -> list[tuple[str, str]]:
    """``[(date field, message)]`` for ``full_clean()`` when ``instance``, about to be
    numbered in a chronological series, is dated before its sequence's last number."""
    if not field.chronological or instance.__dict__.get(field.attname) is not None:
        return []
    if not drafts.holds(field, instance, using):
        return []  # a draft takes no number yet
    try:
        (key,) = group_by_key(field, [instance], using)
        day = document_day(field, instance)
    except (TypeError, ValueError, ValidationError):
        return []  # the date field's own validation says what is wrong
    problem = chronology.problem(field, key, day, using)
    return [(field.date_field, problem)] if problem else []


def choose_series(field, instance, using, cache: dict):
    """The NumberFormat that numbers ``instance``: its ``series_field``, or the default series.

    ``cache`` maps series ids (None: the default) to rows, shared across a batch.
    """
    if field.series_field:
        foreign_key = field.model._meta.get_field(field.series_field)
        series_id = getattr(instance, foreign_key.attname)
        if series_id is not None:
            if series_id not in cache:
                # The row the instance holds already (it was given one), else read.
                held = foreign_key.get_cached_value(instance, None)
                if held is None or held.pk != series_id:
                    held = _number_formats(using).get(pk=series_id)
                cache[series_id] = held
            chosen = cache[series_id]
            if chosen.code != field.format_code:
                raise SeriesMismatch(
                    f"{field.model._meta.label}.{field.name}: the series {chosen} belongs to "
                    f"the code {chosen.code!r}, not {field.format_code!r}; pick a series "
                    f"of {field.format_code!r}."
                )
            return chosen
    if None not in cache:
        cache[None] = _number_formats(using).default_series(
            field.format_code, field.format_defaults
        )
    # A document without a series keeps none: empty means "the default series" (the
    # admin's filter says so), on every path; its counter names the series that issued it.
    return cache[None]


@dataclasses.dataclass
class Group:
    """The instances of one sequence key in a batch."""

    series: object | None
    key: SequenceKey | None = None
    #: instances without a number, in batch order.
    new: list = dataclasses.field(default_factory=list)
    #: instances with an explicit number (data imports), kept as given.
    explicit: list = dataclasses.field(default_factory=list)
    #: the highest explicit number: the counter moves up to it.
    floor: int | None = None
    #: id(instance) -> the document's day.
    days: dict = dataclasses.field(default_factory=dict)

    def add(self, instance, value, day) -> None:
        self.days[id(instance)] = day
        if value is None:
            self.new.append(instance)
        else:
            self.floor = value if self.floor is None else max(self.floor, value)
            self.explicit.append(instance)


#: field -> (sequence label, scope fields, date field's attname): what never changes.
_static: dict = {}


def _static_parts(field):
    parts = _static.get(field)
    if parts is None:
        meta = field.model._meta
        date_attname = meta.get_field(field.date_field).attname if field.date_field else None
        parts = _static[field] = (
            sequence_label(field.model, field.name),
            [meta.get_field(n) for n in field.unique_with],
            date_attname,
        )
    return parts


def group_by_key(field, instances, using) -> dict[SequenceKey, Group]:
    """Instances by sequence key. What rows share (series, period, key) is computed once."""
    series_cache, periods, by_parts = {}, {}, {}
    label, scope_fields, date_attname = _static_parts(field)
    groups: dict[SequenceKey, Group] = {}
    # A batch without a date field or a series field has one day and one series; a
    # plain field's key has no period, so it needs no day at all.
    plain = field.format_code is None
    same_day = today() if not field.date_field and not plain else None
    fixed_series = field.format_code is not None and not field.series_field
    for instance in instances:
        series = None
        if fixed_series and None in series_cache:
            series = series_cache[None]
        elif field.format_code is not None:
            series = choose_series(field, instance, using, series_cache)
        if same_day is not None:
            day = same_day
        elif plain:
            day = None
        else:
            day = instance.__dict__.get(date_attname)
            if type(day) is not dt.date:
                day = document_day(field, instance)
        series_id = series.pk if series is not None else None
        period = ""
        if series is not None:
            period = periods.get((series_id, day))
            if period is None:
                check_day(field, day)  # once per day of the batch
                period = periods[series_id, day] = formatting.period_key(
                    day, series.reset, series.fiscal_year_start_month
                )
        scope = scope_of(instance, scope_fields) if scope_fields else ()
        # By its parts: a SequenceKey hashes slower than the tuple it is made of.
        group = by_parts.get((series_id, scope, period))
        if group is None:
            key = SequenceKey(label, series_id, scope, period)
            group = by_parts[series_id, scope, period] = groups[key] = Group(series, key)
        group.add(instance, instance.__dict__.get(field.attname), day)
    return groups


def ensure_number(field, instance, inserting: bool = False):
    """Give ``instance`` its number now, unless it already has the one we issued.

    A new instance without a value gets the next one; a new instance with an
    explicit value (a data import) keeps it and moves the counter forward.
    A late field inside a transaction on PostgreSQL is left to its COMMIT trigger.

    ``inserting``: Django is compiling the INSERT of ``instance``. A plain field
    then gets, where the database can (``allocation.in_insert``), an expression
    that takes the number inside that INSERT; it is returned, and the INSERT
    returns the number (``saved`` records it).
    """
    values = instance.__dict__
    if field.attname not in values and not instance._state.adding:
        return None  # deferred: the stored row keeps its number (and text)
    # Not through the descriptor: a late field's would try to load a COMMIT's number.
    value = values.get(field.attname)
    current = state.of(instance)
    if value is not None:
        record = current.issued.get(field.name)
        if record is not None and record.number == value:
            return  # ours already (a batch numbered before Django compiles its INSERT)
    if value is None and field.name in current.late:
        return  # COMMIT writes it
    if value is not None and not instance._state.adding:
        return None  # a stored number: the freeze rules guard it
    using = database_of(instance)
    if value is None:
        if not drafts.holds(field, instance, using):
            return None  # a draft: no number until its condition holds (#21)
        connection = late.committing(using) if field.late else None
        if connection is not None:
            late.defer(field, [instance], using, connection)  # COMMIT numbers it
            return None
        if inserting and field.format_code is None:
            expression = _in_insert(field, instance, current, using)
            if expression is not None:
                return expression
    number_all(field, [instance], using, deferred=False)
    return None


def _in_insert(field, instance, current, using):
    """The expression that numbers ``instance`` inside its INSERT, or None (take it now)."""
    (key,) = group_by_key(field, [instance], using)
    expression = allocation.in_insert(key, field.start_at, using)
    if expression is not None:
        current.inserting[field.name] = key
    return expression


def database_of(instance) -> str:
    """The database a save of ``instance`` goes to (noted by the pre_save signal)."""
    return getattr(instance._state, "docnumbers_db", None) or router.db_for_write(
        type(instance), instance=instance
    )


def settle(field, instance, using) -> None:
    """Before a save: forget the number ``instance`` holds but no longer owns.

    A number taken in a transaction or savepoint that rolled back was given back;
    a copy (its primary key cleared) is a new document; a number taken for a row
    that was never stored, whose key has moved since, belongs to another sequence.
    Each gets a fresh number and the text of its own key when it is saved.
    """
    current = state.peek(instance)
    if instance.pk is None and _is_copy(field, instance, using):
        _forget(field, instance, current, copy=True)
        return
    if current is None:
        return
    current.inserting.pop(field.name, None)  # an INSERT that failed took nothing
    mark = current.late.get(field.name)
    if mark is not None:
        # Saved again before COMMIT (LIVE): the trigger numbers the row as it is then.
        status = mark.status()
        if status == state.ROLLED_BACK:
            del current.late[field.name]
            if field.name in current.late_on_update:  # a posting UPDATE: still a draft
                current.late_on_update.discard(field.name)
            else:
                _never_stored(instance)
        elif status == state.COMMITTED:
            late.load(instance)
            if field.name in current.late:  # committed as a draft: nothing was numbered
                del current.late[field.name]
                current.late_on_update.discard(field.name)
    record = current.issued.get(field.name)
    if record is None:
        return
    if record.pk is not None and instance.pk != record.pk:
        _forget(field, instance, current, copy=True)
    elif record.given_back():
        if record.on_insert:
            _never_stored(instance)
        else:  # a draft posted by an UPDATE that rolled back: the row is a draft again
            _draft_again(field, instance)
        if record.taken:
            _forget(field, instance, current)
        else:
            del current.issued[field.name]  # an explicit number moves the counter again
    elif record.taken and record.pk is None and _key_of(field, instance) != record.key:
        _forget(field, instance, current)


def _draft_again(field, instance) -> None:
    """The stored row holds no number again: what the next save compares with (#21)."""
    tracking.update(instance, dict.fromkeys(state.issued_columns(field)))
    # What it depends on may have been changed by the save that rolled back, too.
    meta = field.model._meta
    tracking.forget(instance, [meta.get_field(name).attname for name in field.unique_with])


def _never_stored(instance) -> None:
    """The INSERT of ``instance`` rolled back: the next save inserts it again.

    The primary key the database gave it is cleared too: SQLite hands the same
    id to the next row, which a save by primary key would then overwrite.
    """
    instance._state.adding = True
    meta = instance._meta
    # The concrete model classes: its own and each multi-table parent's (a table each).
    for model in type(instance).__mro__:
        if not hasattr(model, "_meta") or model._meta.abstract or model._meta.proxy:
            continue
        pk = model._meta.pk
        if isinstance(pk, AutoFieldMixin) and not pk.remote_field:
            setattr(instance, pk.attname, None)
    if meta.pk.remote_field is not None:  # a multi-table child: its link to the parent
        setattr(instance, meta.pk.attname, None)


def _is_copy(field, instance, using) -> bool:
    """Whether a new ``instance`` (no primary key) is a copy of a stored document.

    Its primary key was cleared (Django still says it is not adding), or it
    carries the number and text of a document that is stored.
    """
    if not instance._state.adding:
        return True
    if field.format_code is None or instance.__dict__.get(field.attname) is None:
        return False
    text = instance.__dict__.get(field.display_name)
    if text is None:
        return False
    scope = {f.attname: getattr(instance, f.attname) for f in _static_parts(field)[1]}
    rows = field.model._base_manager.using(using).filter(**{field.display_name: text}, **scope)
    return rows.exists()


def _forget(field, instance, current, copy=False) -> None:
    """Clear a number (and its text and counter) that ``instance`` does not own."""
    record = current.issued.pop(field.name, None) if current is not None else None
    value = instance.__dict__.get(field.attname)
    if copy or (record is not None and value == record.number):
        setattr(instance, field.attname, None)
    if field.late and current is not None:  # a copy waits for no COMMIT of its original's
        current.late.pop(field.name, None)
    if field.format_code is not None:
        setattr(instance, field.display_name, None)
        setattr(instance, f"{field.counter_name}_id", None)


def _key_of(field, instance) -> SequenceKey:
    (key,) = group_by_key(field, [instance], database_of(instance))
    return key


def saved(field, instance, using=None) -> None:
    """After a save: the row ``instance.pk`` now holds the number we issued.

    A number its INSERT took (``allocation.in_insert``) is recorded now, as issued
    in this transaction.
    """
    current = state.peek(instance)
    if current is None:
        return
    key = current.inserting.pop(field.name, None)
    number = instance.__dict__.get(field.attname)
    if key is not None and number is not None:
        mark = state.Mark(using or database_of(instance))
        current.issued[field.name] = state.Issued(number, mark, key, None, pk=instance.pk)
        return
    record = current.issued.get(field.name)
    if record is not None and record.pk is None:
        record.pk = instance.pk


def number_all(field, instances, using, *, deferred: bool = True) -> None:
    """Number ``instances`` (in list order) with one counter statement per sequence key.

    The caller has settled them first (``settle``: the pre_save signal for a
    save, ``bulk_create`` for a batch). Instances without a value get the next
    values; instances with an explicit value keep it and move their counter
    forward to at least that value. For a late field inside a transaction on
    PostgreSQL, instances without a value are left to the COMMIT trigger
    (``late.defer``; ``deferred=False`` takes them now).
    """
    if field.issue_when is not None:
        instances = _not_drafts(field, instances, using)
    connection = late.committing(using) if field.late and deferred else None
    if connection is not None:
        instances = late.defer(field, instances, using, connection)
    if not instances:
        return  # every one left to COMMIT (or a draft)
    groups = group_by_key(field, instances, using)
    # A fixed order of keys, so that two batches never wait for each other's locks.
    for key in sorted(groups, key=lambda k: k.text):
        group = groups[key]
        new = group.new
        if not new and group.floor is None:
            continue
        # A chronological series reads its last date under the counter's lock (after
        # ``take``); in autocommit, before it too, so a refusal burns no number.
        in_transaction = connections[using].in_atomic_block
        if field.chronological and not in_transaction:
            chronology.check(field, key, new, group.days, using)
        counter_id, last = allocation.take(
            key,
            len(new),
            start_at=field.start_at,
            floor=group.floor,
            number_format_id=group.series.pk if group.series is not None else None,
            using=using,
        )
        if field.chronological and in_transaction:
            chronology.check(field, key, new, group.days, using)
        first = last - len(new) + 1
        for offset, instance in enumerate(new):
            setattr(instance, field.attname, first + offset)
        _record(field, group, new, counter_id, using)
        # A new counter row's first text may be stored already (a format changed
        # without validation): refuse it by name. Costs a query only then. (#11)
        collisions.check_first_number(field, key, group.series, new, first, using)


def _not_drafts(field, instances, using) -> list:
    """The instances whose ``issue_when`` holds; a draft given a number is refused."""
    chosen = []
    for instance in instances:
        if drafts.holds(field, instance, using):
            chosen.append(instance)
        elif instance.__dict__.get(field.attname) is not None:
            raise NumberFrozen(
                gettext(
                    "%(model)s.%(field)s: a draft has no number; give it one by making its "
                    "condition true (issue_when), not by hand."
                )
                % {"model": field.model._meta.label, "field": field.name}
            )
    return chosen


def _record(field, group: Group, new, counter_id, using) -> None:
    """Remember the numbers as issued and fill in the text and counter of formatted fields.

    A number taken now always gets the text of its own key; an explicit number
    (a data import) keeps a text given with it.
    """
    fmt = group.series.as_format() if group.series is not None else None
    mark = state.Mark(using)
    parts = {}  # day -> rendered (prefix, suffix)
    fresh = {id(instance) for instance in new}
    # Plain attributes (no descriptor does more than store them), written directly.
    counter_attname, display = f"{field.counter_name}_id", field.display_name
    render_number, key, name = formatting.render_number, group.key, field.name
    for instance in new + group.explicit:
        values = instance.__dict__
        number = values[field.attname]
        text = None
        taken = id(instance) in fresh
        if fmt is not None:
            values[counter_attname] = counter_id
            text = values.get(display)
            if text is None or taken:
                day = group.days[id(instance)]
                if day not in parts:
                    parts[day] = fmt.render_parts(day)
                prefix, suffix = parts[day]
                text = prefix + render_number(number, fmt.padding) + suffix
                values[display] = text
        state.of(instance).issued[name] = state.Issued(
            number, mark, key, text, taken=taken, on_insert=instance._state.adding
        )
