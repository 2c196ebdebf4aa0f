"""The numbering engine: from a model instance to its number and its text.

For each instance it chooses the series, the document's day and its period,
builds the sequence key, takes the number from ``allocation`` and renders the
text with ``formatting``. ``number_all`` does it for a list (a save is a list of
one; bulk_create a batch) with one counter statement per sequence key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import router
from django.utils import timezone

from . import allocation, collisions, formatting, late, state
from .exceptions import SeriesMismatch
from .keys import SequenceKey, scope_of, sequence_label


def _number_formats(using):
    # Inner import because models cannot be imported before their application.
    from .models import NumberFormat

    return NumberFormat.objects.using(using)


def local_date(value) -> dt.date | None:
    """The date of ``value`` in ``settings.TIME_ZONE`` (aware datetimes converted, dates kept)."""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, timezone.get_default_timezone())
        return value.date()
    return value


def today() -> dt.date:
    """Today in ``settings.TIME_ZONE``, whatever time zone is activated."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


def document_day(field, instance) -> dt.date:
    """The local date that drives the tokens and the period of ``instance``."""
    value = None
    if field.date_field:
        date_field = field.model._meta.get_field(field.date_field)
        value = getattr(instance, date_field.attname)
        if type(value) is dt.date:
            return value
        # Strings are accepted by date fields elsewhere in Django; here too.
        value = date_field.to_python(value)
        if value is None and (date_field.auto_now or date_field.auto_now_add):
            value = date_field.pre_save(instance, instance._state.adding)
    return today() if value is None else local_date(value)


def choose_series(field, instance, using, cache: dict):
    """The NumberFormat that numbers ``instance``: its ``series_field``, or the default series.

    ``cache`` maps series ids (None: the default) to rows, shared across a batch.
    """
    if field.series_field:
        series_id = getattr(instance, field.model._meta.get_field(field.series_field).attname)
        if series_id is not None:
            if series_id not in cache:
                cache[series_id] = _number_formats(using).get(pk=series_id)
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
    chosen = cache[None]
    if field.series_field:
        setattr(instance, field.series_field, chosen)
    return chosen


@dataclasses.dataclass
class Group:
    """The instances of one sequence key in a batch."""

    series: object | None
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


def group_by_key(field, instances, using) -> dict[SequenceKey, Group]:
    """Instances by sequence key. What rows share (series, period, key) is computed once."""
    series_cache, periods, keys = {}, {}, {}
    label = sequence_label(field.model, field.name)
    scope_fields = [field.model._meta.get_field(n) for n in field.unique_with]
    groups: dict[SequenceKey, Group] = {}
    for instance in instances:
        series = None
        if field.format_code is not None:
            series = choose_series(field, instance, using, series_cache)
        day = document_day(field, instance)
        series_id = series.pk if series is not None else None
        period = ""
        if series is not None:
            period = periods.get((series_id, day))
            if period is None:
                period = periods[series_id, day] = formatting.period_key(
                    day, series.reset, series.fiscal_year_start_month
                )
        scope = scope_of(instance, scope_fields) if scope_fields else ()
        key = keys.get((series_id, scope, period))
        if key is None:
            key = keys[series_id, scope, period] = SequenceKey(label, series_id, scope, period)
        if key not in groups:
            groups[key] = Group(series=series)
        groups[key].add(instance, getattr(instance, field.attname), day)
    return groups


def ensure_number(field, instance) -> None:
    """Give ``instance`` its number now, unless it already has the one we issued.

    A new instance without a value gets the next one; a new instance with an
    explicit value (a data import) keeps it and moves the counter forward.
    A late field inside a transaction on PostgreSQL only prepares its number.
    """
    value = getattr(instance, field.attname)
    current = state.of(instance)
    if value is not None and current.issued.get(field.name) == value:
        return
    if value is None and field.name in current.late:
        return  # queued; COMMIT writes it
    if current.is_prepared(field):
        return
    if value is None or instance._state.adding:
        using = getattr(instance._state, "docnumbers_db", None) or router.db_for_write(
            type(instance), instance=instance
        )
        number_all(field, [instance], using)


def number_all(field, instances, using) -> None:
    """Number ``instances`` (in list order) with one counter statement per sequence key.

    Instances without a value get the next values; instances with an explicit
    value keep it and move their counter forward to at least that value. For a
    late field inside a transaction on PostgreSQL, instances without a value
    are only prepared: ``late.queue`` hands them to the COMMIT trigger.
    """
    deferred = field.late and late.applies(using)
    groups = group_by_key(field, instances, using)
    # A fixed order of keys, so that two batches never wait for each other's locks.
    for key in sorted(groups, key=lambda k: k.text):
        group = groups[key]
        if deferred:
            _prepare_late(field, key, group)
        new = [] if deferred else group.new
        if not new and group.floor is None:
            continue
        counter_id, last = allocation.take(
            key,
            len(new),
            start_at=field.start_at,
            floor=group.floor,
            number_format_id=group.series.pk if group.series is not None else None,
            using=using,
        )
        first = last - len(new) + 1
        for offset, instance in enumerate(new):
            setattr(instance, field.attname, first + offset)
        _record(field, group, new + group.explicit, counter_id)
        # A new counter row's first text may be stored already (a format changed
        # without validation): refuse it by name. Costs a query only then. (#11)
        collisions.check_first_number(field, key, group.series, new, first, using)


def _prepare_late(field, key, group: Group) -> None:
    """Remember what COMMIT needs to number ``group.new``: the key and the text around it.

    The counter row is made (if missing) when the rows are queued, after their
    INSERT: ``late.queue``, in the same statement as the queue entry.
    """
    series = group.series
    fmt = series.as_format() if series is not None else None
    for instance in group.new:
        prepared = state.Prepared(field, key, series.pk if series is not None else None)
        if fmt is not None:
            prepared.prefix, prepared.suffix = fmt.render_parts(group.days[id(instance)])
            prepared.padding = fmt.padding
        state.of(instance).prepared.append(prepared)


def _record(field, group: Group, instances, counter_id) -> None:
    """Remember the numbers as issued and fill in the text and counter of formatted fields."""
    fmt = group.series.as_format() if group.series is not None else None
    parts = {}  # day -> rendered (prefix, suffix)
    for instance in instances:
        number = instance.__dict__[field.attname]
        state.of(instance).issued[field.name] = number
        if fmt is None:
            continue
        setattr(instance, f"{field.counter_name}_id", counter_id)
        if getattr(instance, field.display_name) is None:
            day = group.days[id(instance)]
            if day not in parts:
                parts[day] = fmt.render_parts(day)
            prefix, suffix = parts[day]
            text = prefix + formatting.render_number(number, fmt.padding) + suffix
            setattr(instance, field.display_name, text)
