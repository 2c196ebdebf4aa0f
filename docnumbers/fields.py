"""AutoSequenceField, its companion columns and its descriptors; nothing else.

What a number is made of (series, day, period, key) and how it is taken live in
``numbering``; the checks of the field's options in ``checks``.
"""

from __future__ import annotations

import hashlib
from functools import cached_property

from django.apps import apps as global_apps
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import class_prepared, post_init, post_save, pre_save

from . import (
    _compat,
    bulk,
    checks,
    columns,
    days,
    formatting,
    frozen,
    late,
    numbering,
    registry,
    tracking,
)
from .formatting import Format

DISPLAY_MAX_LENGTH = 2 * formatting.MAX_TEMPLATE_LENGTH + 28


class _LateNumberAttribute(DeferredAttribute):
    """Reads a late field's column; its number is loaded from the row once committed.

    A data descriptor (it defines __set__), so that reads reach it even when the
    instance already holds the empty value it was saved with.
    """

    def __get__(self, instance, cls=None):
        value = super().__get__(instance, cls)
        if instance is not None and value is None:
            late.load(instance)
            value = instance.__dict__.get(self.field.attname)
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class NumberDisplayField(columns.BinaryCollationMixin, models.CharField):
    """The formatted number as it was issued (``INV-2026-0001``); never rewritten.

    ``exact=True`` (what the field adds to new columns) makes the column compare byte for
    byte on MariaDB too, so ``INV-2026-0001`` and ``inv-2026-0001`` are two texts;
    columns made before keep their collation until the migration that sets it.
    """

    def __init__(self, *args, exact=False, **kwargs):
        self.exact = exact
        kwargs.setdefault("max_length", DISPLAY_MAX_LENGTH)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.exact:
            kwargs["exact"] = True
        return name, path, args, kwargs

    def db_parameters(self, connection):
        if self.exact:
            return super().db_parameters(connection)
        return models.CharField.db_parameters(self, connection)

    @cached_property
    def number_field(self):
        """The AutoSequenceField whose text this column holds."""
        return self.model._meta.get_field(self.name.removesuffix("_display"))

    def pre_save(self, instance, add):
        numbering.ensure_number(self.number_field, instance)
        values = instance.__dict__
        # The value as it is: a late field's descriptor would look for a COMMIT's text.
        return values[self.attname] if self.attname in values else super().pre_save(instance, add)


class NumberCounterField(models.ForeignKey):
    """The counter row a formatted number came from: its series, scope and period."""

    # Only docnumbers sets the id, before anything reads the related counter, so
    # the plain attribute (no cache invalidation on every load) is enough.
    descriptor_class = DeferredAttribute

    def __init__(self, to="docnumbers.Counter", on_delete=models.PROTECT, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("related_name", "+")
        kwargs.setdefault("db_index", False)
        super().__init__(to, on_delete, **kwargs)

    def get_internal_type(self):
        # A ForeignKey to Django's backends: on MySQL/MariaDB, removing the unique
        # (counter, number) constraint whose index the foreign key uses then first gives
        # the foreign key an index of its own, as for any ForeignKey (#19).
        return "ForeignKey"


class NumberConstraint(models.UniqueConstraint):
    """The unique constraint a sequence field adds, which also validates its lifecycle.

    In the database it is a plain UniqueConstraint (and deconstructs as one, so
    migrations never see the difference). In ``full_clean()`` (forms, the admin)
    it first refuses a change of what an issued number depends on, as a
    ValidationError on the field that changed.
    """

    def __init__(self, *args, sequence_field: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.sequence_field = sequence_field

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        return "django.db.models.UniqueConstraint", args, kwargs

    def clone(self):
        _, args, kwargs = self.deconstruct()
        return type(self)(*args, sequence_field=self.sequence_field, **kwargs)

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        field = model._meta.get_field(self.sequence_field)
        problems = frozen.frozen_problems(field, instance, using)
        problems += days.day_problems(field, instance)
        problems += numbering.order_problems(field, instance, using)
        errors = {name: message for name, message in problems if name not in (exclude or ())}
        if errors:
            raise ValidationError(errors)
        super().validate(model, instance, exclude=exclude, using=using)


def _short_name(text: str, limit: int = 60) -> str:
    if len(text) <= limit:
        return text
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    return f"{text[: limit - 9]}_{digest}"


class AutoSequenceField(_compat.ReturnedByInsert, models.BigIntegerField):
    """An integer column numbered from a locked counter row: unique, never reused, gapless.

    ``start_at`` is the first value; ``unique_with`` names the fields whose values
    each get their own sequence. ``format`` (a NumberFormat code, or a Format with
    the defaults to create it from) adds ``<name>_display`` with the formatted
    number; ``date_field`` picks the date that drives its tokens and reset period;
    ``series_field`` names a ForeignKey to NumberFormat that chooses the series.
    ``issue_when`` (a Q) keeps a row's number empty while it is false (a draft);
    ``chronological`` refuses a number dated before the last one of its sequence.
    """

    description = "Gapless sequence number"

    def __init__(
        self,
        *args,
        start_at=1,
        unique_with=(),
        format=None,
        date_field=None,
        series_field=None,
        late=False,
        issue_when=None,
        chronological=False,
        **kwargs,
    ):
        self.start_at = start_at
        self.late = late
        #: A Q: while it is false for a row (a draft), the row has no number (#21).
        self.issue_when = issue_when
        #: Refuse a number whose date is earlier than the last issued one's (#21).
        self.chronological = chronological
        if late or issue_when is not None:
            # Empty until COMMIT writes it, or while the document is a draft.
            kwargs["null"] = True
        self.unique_with = (unique_with,) if isinstance(unique_with, str) else tuple(unique_with)
        self.format_defaults = format if isinstance(format, Format) else None
        self.format_code = format.code if isinstance(format, Format) else format
        #: As given, for the system check of its type.
        self.format_argument = format
        self.date_field = date_field
        self.series_field = series_field
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        # The counter gives the value, not a default; "default None" (left out of
        # migrations) keeps makemigrations from asking for one when the field is
        # added to a model that has rows (see ``adoption``).
        kwargs.setdefault("default", None)
        if not self.unique_with and self.format_code is None:
            kwargs.setdefault("unique", True)
        super().__init__(*args, **kwargs)

    @property
    def returned_by_insert(self) -> bool:
        """Whether Django reads the column back from an INSERT (``_compat.ReturnedByInsert``):
        a plain field's save on PostgreSQL takes its number inside its INSERT
        (``allocation.in_insert``); a formatted field never does, so its batches return
        nothing more."""
        return self.format_code is None

    @property
    def display_name(self) -> str:
        return f"{self.name}_display"

    @property
    def counter_name(self) -> str:
        return f"{self.name}_counter"

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        path = "docnumbers.fields.AutoSequenceField"
        # Leave out the options that equal this field's own defaults.
        for key, django_default in (("editable", True), ("blank", False)):
            if key in kwargs:
                del kwargs[key]
            else:
                kwargs[key] = django_default
        if not self.unique_with and self.format_code is None:
            kwargs.pop("unique", None)
        if kwargs.get("default", models.NOT_PROVIDED) is None:
            del kwargs["default"]
        options = {
            "start_at": self.start_at if self.start_at != 1 else None,
            "unique_with": self.unique_with or None,
            # Only the code reaches migrations: declared defaults do not change the schema.
            "format": self.format_code,
            "date_field": self.date_field,
            "series_field": self.series_field,
            "late": True if self.late else None,
            "issue_when": self.issue_when,
            "chronological": True if self.chronological else None,
        }
        kwargs.update({k: v for k, v in options.items() if v is not None})
        if self.late or self.issue_when is not None:
            kwargs.pop("null", None)
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if cls._meta.abstract or self.primary_key:
            return
        if cls._meta.apps is global_apps:
            registry.add(self)
        if self.late:
            setattr(cls, self.attname, _LateNumberAttribute(self))

    def check(self, **kwargs):
        return [*super().check(**kwargs), *checks.check_field(self)]

    def validate(self, value, model_instance):
        """``full_clean()``: a plain field without constraint of its own refuses a changed number.

        Other fields validate their lifecycle in their ``NumberConstraint``.
        """
        super().validate(value, model_instance)
        if self.unique_with or self.format_code is not None:
            return
        using = numbering.database_of(model_instance)
        problems = frozen.frozen_problems(self, model_instance, using)
        if problems:
            raise ValidationError([message for _, message in problems])

    def pre_save(self, instance, add):
        # On PostgreSQL an INSERT may take a plain field's number itself: an expression.
        expression = numbering.ensure_number(self, instance, inserting=add)
        return expression if expression is not None else getattr(instance, self.attname)


def _prepare_model(sender, **kwargs):
    """class_prepared: wire a project model (proxies and MTI children too) for numbering.

    A concrete model's formatted fields get their companion columns and every
    field its constraints; every model whose rows carry a sequence field gets the
    save signals. Migration states and SQLite table rebuilds (their own Apps)
    already list their companions and constraints, and are left alone.
    """
    meta = sender._meta
    if meta.abstract or meta.apps is not global_apps:
        return
    if not meta.proxy:
        for field in [f for f in meta.local_fields if isinstance(f, AutoSequenceField)]:
            _add_companions(field, sender)
            _add_constraints(field, sender)
    if sequence_fields(sender):
        post_init.connect(_loaded, sender=sender, weak=False)
        pre_save.connect(_before_save, sender=sender, weak=False)
        post_save.connect(_after_save, sender=sender, weak=False)
        _compat.guard_updates(sender, _expected, frozen.raise_stale)
        _compat.number_bulk_creates(sender, bulk.NumberingQuerySet)


def _add_companions(field, cls):
    present = {f.name for f in cls._meta.local_fields}
    if field.format_code is None:
        return
    if field.display_name not in present:
        cls.add_to_class(field.display_name, NumberDisplayField(exact=True))
    if field.counter_name not in present:
        cls.add_to_class(field.counter_name, NumberCounterField())
    if field.late:
        display = cls._meta.get_field(field.display_name)
        setattr(cls, display.attname, _LateNumberAttribute(display))


class_prepared.connect(_prepare_model)


def _add_constraints(field, cls):
    """The unique constraints that make the database refuse a duplicate number."""
    wanted = []
    if field.format_code is not None:
        wanted.append([field.counter_name, field.name])
        wanted.append([*field.unique_with, field.display_name])
    elif field.unique_with:
        wanted.append([*field.unique_with, field.name])
    names = {c.name for c in cls._meta.constraints}
    constraints = []
    for position, fields in enumerate(wanted):
        name = _short_name(f"{cls._meta.db_table}_{'_'.join(fields)}_uniq")
        if name in names:
            continue
        if position == 0:  # one constraint per field validates its lifecycle
            constraint = NumberConstraint(fields=fields, name=name, sequence_field=field.name)
        else:
            constraint = models.UniqueConstraint(fields=fields, name=name)
        constraints.append(constraint)
    # Also for migrations, which read constraints only when the model's Meta declared some.
    _compat.add_model_constraints(cls, constraints)


def _before_save(sender, instance, using, raw, update_fields=None, **kwargs):
    """pre_save: note the database, drop numbers given back, refuse frozen changes."""
    # Field.pre_save is not told which database a save goes to; this signal is.
    instance._state.docnumbers_db = using
    if raw:
        return
    for field in sequence_fields(sender):
        numbering.settle(field, instance, using)
        frozen.refuse_frozen_changes(field, instance, using, update_fields)


def _after_save(sender, instance, created, using, raw, update_fields=None, **kwargs):
    """post_save: the row holds its numbers (late ones once COMMIT wrote them)."""
    if raw:
        return
    fields = sequence_fields(sender)
    for field in fields:
        numbering.saved(field, instance, using)
    # What the row holds now is what a later save compares with.
    only = None
    if update_fields is not None:
        meta = sender._meta
        only = {meta.get_field(name).attname for name in update_fields}
    tracking.remember(instance, only)


def _loaded(sender, instance, **kwargs):
    """post_init: what the instance holds now (a row's values, or a new object's)."""
    tracking.remember(instance)


def _expected(instance, table_model) -> dict:
    return frozen.expected(instance, table_model, sequence_fields(type(instance)))


#: model -> its AutoSequenceFields (read on every save; fields never change once ready).
_sequence_fields: dict = {}


def sequence_fields(model) -> list[AutoSequenceField]:
    """The AutoSequenceFields of a model's concrete fields, in declaration order."""
    found = _sequence_fields.get(model)
    if found is None:
        found = [f for f in model._meta.concrete_fields if isinstance(f, AutoSequenceField)]
        # The project's models only (migration states make classes by the hundred).
        if model._meta.apps is global_apps and global_apps.ready:
            _sequence_fields[model] = found
    return found
