"""AutoSequenceField, its companion columns and the code that numbers instances."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.apps import apps as global_apps
from django.core import checks
from django.db import IntegrityError, models, router, transaction
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from . import allocation, formatting, late
from .exceptions import FormatMissing
from .formatting import Format
from .keys import SequenceKey, scope_of, sequence_label

DISPLAY_MAX_LENGTH = 2 * formatting.MAX_TEMPLATE_LENGTH + 28


class _LateNumberAttribute(DeferredAttribute):
    """Reads a late field's column; its number is loaded from the row once committed.

    A data descriptor (it defines __set__), so that reads reach it even when the
    instance already holds the empty value it was saved with.
    """

    def __get__(self, instance, cls=None):
        value = super().__get__(instance, cls)
        if instance is not None and value is None and instance.__dict__.get("_docnumbers_late"):
            late.load(instance)
            value = instance.__dict__.get(self.field.attname)
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class _Companion:
    """A column an AutoSequenceField adds next to itself.

    Migrations, and SQLite's table rebuilds, build models from an explicit list
    of fields that already holds the companions. Whichever arrives second, the
    explicit one wins, and the one the AutoSequenceField added steps aside.
    """

    def contribute_to_class(self, cls, name, *args, **kwargs):
        existing = next((f for f in cls._meta.local_fields if f.name == name), None)
        if existing is not None:
            added = _auto_companions(cls)
            if added.get(name) is not existing:
                return
            del added[name]
            cls._meta.local_fields.remove(existing)
            cls._meta._expire_cache()
        super().contribute_to_class(cls, name, *args, **kwargs)


def _auto_companions(cls) -> dict:
    """The companions an AutoSequenceField added to ``cls`` itself, by name."""
    return cls._meta.__dict__.setdefault("docnumbers_auto_companions", {})


class NumberDisplayField(_Companion, models.CharField):
    """The formatted number as it was issued (``INV-2026-0001``); never rewritten."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", DISPLAY_MAX_LENGTH)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def pre_save(self, instance, add):
        self.model._meta.get_field(self.name.removesuffix("_display")).ensure_number(instance)
        return super().pre_save(instance, add)


class NumberCounterField(_Companion, models.ForeignKey):
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


def _short_name(text: str, limit: int = 60) -> str:
    if len(text) <= limit:
        return text
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    return f"{text[: limit - 9]}_{digest}"


class AutoSequenceField(models.BigIntegerField):
    """An integer column numbered from a locked counter row: unique, never reused, gapless.

    ``start_at`` is the first value; ``unique_with`` names the fields whose values
    each get their own sequence. ``format`` (a NumberFormat code, or a Format with
    the defaults to create it from) adds ``<name>_display`` with the formatted
    number; ``date_field`` picks the date that drives its tokens and reset period;
    ``series_field`` names a ForeignKey to NumberFormat that chooses the series.
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
        **kwargs,
    ):
        self.start_at = start_at
        self.late = late
        if late:
            # Empty until COMMIT writes it.
            kwargs["null"] = True
        self.unique_with = (unique_with,) if isinstance(unique_with, str) else tuple(unique_with)
        self.format_defaults = format if isinstance(format, Format) else None
        self.format_code = format.code if isinstance(format, Format) else format
        self._format_arg = format
        self.date_field = date_field
        self.series_field = series_field
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        if not self.unique_with and self.format_code is None:
            kwargs.setdefault("unique", True)
        super().__init__(*args, **kwargs)

    # -- declaration ---------------------------------------------------------

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
        if self.start_at != 1:
            kwargs["start_at"] = self.start_at
        if self.unique_with:
            kwargs["unique_with"] = self.unique_with
        # Only the code reaches migrations: declared defaults do not change the schema.
        if self.format_code is not None:
            kwargs["format"] = self.format_code
        if self.date_field:
            kwargs["date_field"] = self.date_field
        if self.series_field:
            kwargs["series_field"] = self.series_field
        if self.late:
            kwargs["late"] = True
            kwargs.pop("null", None)
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if cls._meta.abstract or self.primary_key:
            return
        if self.format_code is not None:
            for name, companion in (
                (self.display_name, NumberDisplayField()),
                (self.counter_name, NumberCounterField()),
            ):
                if any(f.name == name for f in cls._meta.local_fields):
                    continue  # listed explicitly (a migration, a table rebuild)
                cls.add_to_class(name, companion)
                _auto_companions(cls)[name] = companion
        self._add_constraints(cls)
        if cls._meta.apps is global_apps:
            pre_save.connect(_remember_database, sender=cls, weak=False)
            if self.late:
                post_save.connect(late.after_save, sender=cls, weak=False)
        if self.late:
            setattr(cls, self.attname, _LateNumberAttribute(self))
            if self.format_code is not None:
                display = cls._meta.get_field(self.display_name)
                setattr(cls, display.attname, _LateNumberAttribute(display))

    def _add_constraints(self, cls):
        wanted = []
        if self.format_code is not None:
            wanted.append([self.counter_name, self.name])
            wanted.append([*self.unique_with, self.display_name])
        elif self.unique_with:
            wanted.append([*self.unique_with, self.name])
        constraints = list(cls._meta.constraints)
        names = {c.name for c in constraints}
        for fields in wanted:
            name = _short_name(f"{cls._meta.db_table}_{'_'.join(fields)}_uniq")
            if name in names:
                continue
            constraints.append(models.UniqueConstraint(fields=fields, name=name))
        cls._meta.constraints = constraints
        # Migrations read constraints only when the model's Meta declared some.
        cls._meta.original_attrs["constraints"] = constraints

    # -- checks ----------------------------------------------------------------

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        errors += self._check_options()
        return errors

    def _error(self, msg, hint, id):
        return checks.Error(msg, hint=hint, obj=self, id=id)

    def _check_options(self):
        errors = []
        label = f"{self.model._meta.label}.{self.name}"
        if isinstance(self.start_at, bool) or not isinstance(self.start_at, int):
            errors.append(
                self._error(
                    f"{label}: start_at must be an int, not {self.start_at!r}.",
                    "Write for example AutoSequenceField(start_at=1000).",
                    "docnumbers.E002",
                )
            )
        if self.primary_key:
            errors.append(
                self._error(
                    f"{label}: an AutoSequenceField cannot be the primary key.",
                    "Keep Django's AutoField/BigAutoField as the primary key and "
                    "number another column.",
                    "docnumbers.E003",
                )
            )
        for field_name in self.unique_with:
            try:
                field = self.model._meta.get_field(field_name)
            except Exception:
                field = None
            if field is None or not getattr(field, "concrete", False) or field.many_to_many:
                choices = ", ".join(
                    f.name for f in self.model._meta.concrete_fields if f.name != self.name
                )
                errors.append(
                    self._error(
                        f"{label}: unique_with names {field_name!r}, which is not a "
                        f"concrete field of {self.model._meta.object_name}.",
                        f"Name one or more of: {choices}.",
                        "docnumbers.E001",
                    )
                )
            elif field.name == self.name:
                errors.append(
                    self._error(
                        f"{label}: unique_with cannot name the field itself.",
                        "Name the fields whose values each get their own sequence.",
                        "docnumbers.E001",
                    )
                )
        if self._format_arg is not None and not (
            isinstance(self._format_arg, Format)
            or (isinstance(self._format_arg, str) and self._format_arg)
        ):
            errors.append(
                self._error(
                    f"{label}: format must be a NumberFormat code or a docnumbers.Format, "
                    f"not {self._format_arg!r}.",
                    'Write format="invoice" or format=Format("invoice", prefix="INV-").',
                    "docnumbers.E004",
                )
            )
        if self.format_defaults is not None:
            try:
                self.format_defaults.validate()
            except formatting.TemplateError as exc:
                errors.append(
                    self._error(
                        f"{label}: the declared format {self.format_code!r} is invalid: "
                        f"{exc.message}",
                        "Fix the Format(...) declared on the field.",
                        "docnumbers.E005",
                    )
                )
        if self.date_field is not None:
            try:
                field = self.model._meta.get_field(self.date_field)
            except Exception:
                field = None
            if not isinstance(field, models.DateField):
                errors.append(
                    self._error(
                        f"{label}: date_field {self.date_field!r} is not a DateField or "
                        f"DateTimeField of {self.model._meta.object_name}.",
                        "Name the document's date, for example date_field='issued_on'.",
                        "docnumbers.E006",
                    )
                )
            elif self.format_code is None:
                errors.append(
                    checks.Warning(
                        f"{label}: date_field has no effect without format.",
                        hint="Add format=... or remove date_field.",
                        obj=self,
                        id="docnumbers.W001",
                    )
                )
        if self.series_field is not None:
            try:
                field = self.model._meta.get_field(self.series_field)
            except Exception:
                field = None
            target = getattr(getattr(field, "remote_field", None), "model", None)
            if not (
                isinstance(field, models.ForeignKey)
                and target is not None
                and getattr(target, "_meta", None) is not None
                and target._meta.label == "docnumbers.NumberFormat"
            ):
                errors.append(
                    self._error(
                        f"{label}: series_field {self.series_field!r} is not a ForeignKey "
                        "to docnumbers.NumberFormat.",
                        "Add series = models.ForeignKey('docnumbers.NumberFormat', "
                        "on_delete=models.PROTECT, null=True, blank=True) and name it.",
                        "docnumbers.E008",
                    )
                )
            elif self.format_code is None:
                errors.append(
                    self._error(
                        f"{label}: series_field needs format=... to know its series.",
                        "Add format='<code>' to the field.",
                        "docnumbers.E008",
                    )
                )
        return errors

    # -- numbering -------------------------------------------------------------

    def pre_save(self, instance, add):
        self.ensure_number(instance)
        return getattr(instance, self.attname)

    def ensure_number(self, instance):
        """Give ``instance`` its number now, unless it already has the one we issued.

        A new instance without a value gets the next one; a new instance with an
        explicit value (a data import) keeps it and moves the counter forward.
        A late field inside a transaction on PostgreSQL only prepares its number.
        """
        value = getattr(instance, self.attname)
        issued = instance.__dict__.setdefault("_docnumbers_issued", {})
        if value is not None and issued.get(self.name) == value:
            return
        if value is None and self.name in instance.__dict__.get("_docnumbers_late", ()):
            return  # queued; COMMIT writes it
        if any(p[0] is self for p in instance.__dict__.get("_docnumbers_prepared", ())):
            return
        if value is None or instance._state.adding:
            using = getattr(instance._state, "docnumbers_db", None) or router.db_for_write(
                type(instance), instance=instance
            )
            self.number_all([instance], using)

    def document_day(self, instance) -> dt.date:
        """The local date that drives the tokens and the period of ``instance``."""
        value = None
        if self.date_field:
            field = self.model._meta.get_field(self.date_field)
            value = getattr(instance, field.attname)
            if type(value) is dt.date:
                return value
            # Strings are accepted by date fields elsewhere in Django; here too.
            value = field.to_python(value)
            if value is None and (field.auto_now or field.auto_now_add):
                value = field.pre_save(instance, instance._state.adding)
        if value is None:
            return timezone.localdate()
        if isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value)
            return value.date()
        return value

    def _series(self, instance, using, cache):
        from .models import NumberFormat

        if self.series_field:
            series_id = getattr(instance, self.model._meta.get_field(self.series_field).attname)
            if series_id is not None:
                if series_id not in cache:
                    cache[series_id] = NumberFormat.objects.using(using).get(pk=series_id)
                chosen = cache[series_id]
                if chosen.code != self.format_code:
                    raise ValueError(
                        f"{self.model._meta.label}.{self.name}: the series {chosen} belongs to "
                        f"the code {chosen.code!r}, not {self.format_code!r}."
                    )
                return chosen
        if None not in cache:
            cache[None] = default_series(self.format_code, self.format_defaults, using)
        chosen = cache[None]
        if self.series_field:
            setattr(instance, self.series_field, chosen)
        return chosen

    def number_all(self, instances, using):
        """Number ``instances`` (in list order) with one counter statement per sequence key.

        Instances without a value get the next values; instances with an explicit
        value keep it and move their counter forward to at least that value. For a
        late field inside a transaction on PostgreSQL, instances without a value
        are only prepared: ``late.queue`` hands them to the COMMIT trigger.
        """
        deferred = self.late and late.applies(using)
        groups = self._groups(instances, using)
        # A fixed order of keys, so that two batches never wait for each other's locks.
        for key in sorted(groups, key=lambda k: k.text):
            group = groups[key]
            series = group["series"]
            series_id = series.pk if series is not None else None
            new = [] if deferred else group["new"]
            if deferred and group["new"]:
                # The counter row is made (if missing) when the rows are queued, after
                # their INSERT: late.queue, in the same statement as the queue entry.
                fmt = series.as_format() if series is not None else None
                for instance in group["new"]:
                    prefix, suffix = ("", "")
                    if fmt is not None:
                        prefix, suffix = fmt.render_parts(group["day"][id(instance)])
                    padding = fmt.padding if fmt is not None else 0
                    prepared = instance.__dict__.setdefault("_docnumbers_prepared", [])
                    prepared.append((self, key, series_id, prefix, suffix, padding))
            if not new and group["floor"] is None:
                continue
            counter_id, last = allocation.take(
                key,
                len(new),
                start_at=self.start_at,
                floor=group["floor"],
                number_format_id=series_id,
                using=using,
            )
            attname, first = self.attname, last - len(new) + 1
            for offset, instance in enumerate(new):
                setattr(instance, attname, first + offset)
            fmt = series.as_format() if series is not None else None
            if fmt is not None:
                display, counter_attname = self.display_name, f"{self.counter_name}_id"
                padding, render_number = fmt.padding, formatting.render_number
                parts = {}  # day -> rendered (prefix, suffix)
            days = group["day"]
            for instance in new + group["explicit"]:
                number = instance.__dict__[attname]
                instance.__dict__.setdefault("_docnumbers_issued", {})[self.name] = number
                if fmt is not None:
                    setattr(instance, counter_attname, counter_id)
                    if getattr(instance, display) is None:
                        day = days[id(instance)]
                        if day not in parts:
                            parts[day] = fmt.render_parts(day)
                        prefix, suffix = parts[day]
                        setattr(instance, display, prefix + render_number(number, padding) + suffix)

    def _groups(self, instances, using):
        """Instances by sequence key: those needing a number, explicit ones, their floor.

        Runs once per row of a bulk_create, so what rows share (the series, the
        period of a day, the key of a scope) is computed once and reused.
        """
        series_cache, periods, keys = {}, {}, {}
        label = sequence_label(self.model, self.name)
        scope_fields = [self.model._meta.get_field(n) for n in self.unique_with]
        groups = {}
        for instance in instances:
            series = None
            if self.format_code is not None:
                series = self._series(instance, using, series_cache)
            day = self.document_day(instance)
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
            group = groups.get(key)
            if group is None:
                group = groups[key] = {
                    "new": [],
                    "explicit": [],
                    "floor": None,
                    "series": series,
                    "day": {},
                }
            group["day"][id(instance)] = day
            value = getattr(instance, self.attname)
            if value is None:
                group["new"].append(instance)
            else:
                group["floor"] = value if group["floor"] is None else max(group["floor"], value)
                group["explicit"].append(instance)
        return groups


def default_series(code, defaults, using):
    """The first active NumberFormat of ``code``, created from ``defaults`` if none exists."""
    from .models import NumberFormat

    formats = NumberFormat.objects.using(using).filter(code=code)
    series = formats.filter(active=True).order_by("position", "pk").first()
    if series is not None:
        return series
    if formats.exists():
        raise FormatMissing(
            f"Every series of the number format {code!r} is inactive; "
            "activate one in the admin (Number formats)."
        )
    if defaults is None:
        raise FormatMissing(
            f"There is no number format with the code {code!r}. Add one in the admin "
            f'(Number formats), or declare its defaults: format=Format("{code}", prefix=...).'
        )
    return seed_format(defaults, using)


def seed_format(defaults: Format, using):
    """Create the NumberFormat declared in code, once, even with concurrent callers."""
    from .models import NumberFormat

    try:
        with transaction.atomic(using=using):
            return NumberFormat.objects.using(using).create(
                seeded_for=defaults.code, active=True, **defaults.as_dict()
            )
    except IntegrityError:
        series = NumberFormat.objects.using(using).filter(seeded_for=defaults.code).first()
        if series is None or series.code != defaults.code or not series.active:
            raise FormatMissing(
                f"The number format {defaults.code!r} was changed or deactivated in the admin; "
                "activate a series of that code."
            ) from None
        return series


def _remember_database(sender, instance, using, raw, **kwargs):
    # Field.pre_save is not told which database a save goes to; this signal is.
    instance._state.docnumbers_db = using


def sequence_fields(model) -> list[AutoSequenceField]:
    """The AutoSequenceFields of a model's concrete fields, in declaration order."""
    return [f for f in model._meta.concrete_fields if isinstance(f, AutoSequenceField)]


def registered_fields():
    """Every AutoSequenceField of every installed model."""
    return [field for model in global_apps.get_models() for field in sequence_fields(model)]


def registered_codes() -> set[str]:
    """The NumberFormat codes that installed fields refer to."""
    return {f.format_code for f in registered_fields() if f.format_code is not None}
