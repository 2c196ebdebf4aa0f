"""Every system check of docnumbers.

Ids: docnumbers.E001-E006, E008-E010, E012 and W001 check a field's declaration
(``AutoSequenceField.check`` calls ``check_field``); E007 needs the database and
runs with ``migrate`` and ``check --database``; E011 reads the migration files
(a late field's COMMIT trigger, see ``triggers``). E011 has a tag of its own,
``TRIGGERS_TAG``, so that the commands that write those migrations (docnumbers'
``makemigrations``, ``docnumbers triggers``) run every check but that one
(``checks_but_triggers``).
"""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, connections, models
from django.db.models.sql import Query

from . import formatting, registry


def _label(field) -> str:
    return f"{field.model._meta.label}.{field.name}"


def _get_field(field, name):
    try:
        return field.model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def check_field(field) -> list[checks.CheckMessage]:
    """The checks of one AutoSequenceField's options."""
    return [
        *_check_start_at(field),
        *_check_primary_key(field),
        *_check_unique_with(field),
        *_check_format(field),
        *_check_date_field(field),
        *_check_series_field(field),
        *_check_issue_when(field),
        *_check_chronological(field),
        *_check_late_scope(field),
    ]


def _check_start_at(field):
    if not formatting.is_int(field.start_at):
        yield checks.Error(
            f"{_label(field)}: start_at must be an int, not {field.start_at!r}.",
            hint="Write for example AutoSequenceField(start_at=1000).",
            obj=field,
            id="docnumbers.E002",
        )


def _check_primary_key(field):
    if field.primary_key:
        yield checks.Error(
            f"{_label(field)}: an AutoSequenceField cannot be the primary key.",
            hint="Keep Django's AutoField/BigAutoField as the primary key and number "
            "another column.",
            obj=field,
            id="docnumbers.E003",
        )


def _check_unique_with(field):
    for name in field.unique_with:
        target = _get_field(field, name)
        if target is None or not getattr(target, "concrete", False) or target.many_to_many:
            choices = ", ".join(
                f.name for f in field.model._meta.concrete_fields if f.name != field.name
            )
            yield checks.Error(
                f"{_label(field)}: unique_with names {name!r}, which is not a concrete "
                f"field of {field.model._meta.object_name}.",
                hint=f"Name one or more of: {choices}.",
                obj=field,
                id="docnumbers.E001",
            )
        elif target.name == field.name:
            yield checks.Error(
                f"{_label(field)}: unique_with cannot name the field itself.",
                hint="Name the fields whose values each get their own sequence.",
                obj=field,
                id="docnumbers.E001",
            )


def _check_format(field):
    given = field.format_argument
    if given is not None and not (
        isinstance(given, formatting.Format) or (isinstance(given, str) and given)
    ):
        yield checks.Error(
            f"{_label(field)}: format must be a NumberFormat code or a docnumbers.Format, "
            f"not {given!r}.",
            hint='Write format="invoice" or format=Format("invoice", prefix="INV-").',
            obj=field,
            id="docnumbers.E004",
        )
    if field.format_defaults is not None:
        try:
            field.format_defaults.validate()
        except formatting.TemplateError as exc:
            yield checks.Error(
                f"{_label(field)}: the declared format {field.format_code!r} is invalid: "
                f"{exc.message}",
                hint="Fix the Format(...) declared on the field.",
                obj=field,
                id="docnumbers.E005",
            )


def _check_date_field(field):
    if field.date_field is None:
        return
    target = _get_field(field, field.date_field)
    if not isinstance(target, models.DateField):
        yield checks.Error(
            f"{_label(field)}: date_field {field.date_field!r} is not a DateField or "
            f"DateTimeField of {field.model._meta.object_name}.",
            hint="Name the document's date, for example date_field='issued_on'.",
            obj=field,
            id="docnumbers.E006",
        )
    elif field.format_code is None:
        yield checks.Warning(
            f"{_label(field)}: date_field has no effect without format.",
            hint="Add format=... or remove date_field.",
            obj=field,
            id="docnumbers.W001",
        )


def _check_series_field(field):
    if field.series_field is None:
        return
    target = _get_field(field, field.series_field)
    related = getattr(getattr(target, "remote_field", None), "model", None)
    if not (
        isinstance(target, models.ForeignKey)
        and getattr(related, "_meta", None) is not None
        and related._meta.label == "docnumbers.NumberFormat"
    ):
        yield checks.Error(
            f"{_label(field)}: series_field {field.series_field!r} is not a ForeignKey "
            "to docnumbers.NumberFormat.",
            hint="Add series = models.ForeignKey('docnumbers.NumberFormat', "
            "on_delete=models.PROTECT, null=True, blank=True) and name it.",
            obj=field,
            id="docnumbers.E008",
        )
    elif field.format_code is None:
        yield checks.Error(
            f"{_label(field)}: series_field needs format=... to know its series.",
            hint="Add format='<code>' to the field.",
            obj=field,
            id="docnumbers.E008",
        )


def _check_issue_when(field):
    """E009: ``issue_when`` is a Q whose names are the model's fields (#21)."""
    condition = getattr(field, "issue_when", None)
    if condition is None:
        return
    if not isinstance(condition, models.Q):
        yield checks.Error(
            f"{_label(field)}: issue_when must be a Q, not {condition!r}.",
            hint='Write for example issue_when=Q(status="posted").',
            obj=field,
            id="docnumbers.E009",
        )
        return
    try:
        Query(field.model).build_where(condition)
    except Exception as exc:  # noqa: BLE001 - FieldError, and whatever a lookup raises
        yield checks.Error(
            f"{_label(field)}: issue_when {condition!r} cannot be used: {exc}",
            hint="Name fields of the model itself, as in a CheckConstraint's condition.",
            obj=field,
            id="docnumbers.E009",
        )


def _check_chronological(field):
    """E010: a chronological series needs a format and a date_field, and no late (#21)."""
    if not getattr(field, "chronological", False):
        return
    if field.format_code is None or field.date_field is None:
        yield checks.Error(
            f"{_label(field)}: chronological=True needs format=... and date_field=...: the "
            "date of each number is compared with the last one of its series.",
            hint="Add format and date_field, or drop chronological.",
            obj=field,
            id="docnumbers.E010",
        )
    if field.late:
        yield checks.Error(
            f"{_label(field)}: chronological=True cannot be combined with late=True yet: the "
            "order of numbers taken at COMMIT is not the order of their dates.",
            hint="Drop late=True for a chronological series.",
            obj=field,
            id="docnumbers.E010",
        )


def _check_late_scope(field):
    """E012: a late field's COMMIT trigger must write each scope value as Python does."""
    from . import triggers

    if not field.late:
        return
    for name in field.unique_with:
        target = _get_field(field, name)
        if target is None or not getattr(target, "column", None):
            continue  # E001 names it
        try:
            triggers.scope_sql(target)
        except triggers.Unsupported as exc:
            yield checks.Error(
                f"{_label(field)}: {exc}",
                hint="Scope by another field, or drop late=True.",
                obj=field,
                id="docnumbers.E012",
            )


def formats_exist(app_configs=None, databases=None, **kwargs):
    """E007: a field's format code has no NumberFormat and no declared defaults."""
    from .models import NumberFormat

    errors = []
    for alias in databases or ():
        try:
            if NumberFormat._meta.db_table not in connections[alias].introspection.table_names():
                continue
            codes = set(NumberFormat.objects.using(alias).values_list("code", flat=True))
        except DatabaseError:
            continue
        for field in registry.fields():
            if field.format_code is None or field.format_defaults is not None:
                continue
            if field.format_code not in codes:
                errors.append(
                    checks.Error(
                        f"{_label(field)}: the number format {field.format_code!r} does not "
                        f"exist in the database {alias!r}, and the field declares no defaults.",
                        hint=(
                            f'Declare them: format=Format("{field.format_code}", prefix=...), '
                            "or add the format in the admin (Number formats)."
                        ),
                        obj=field,
                        id="docnumbers.E007",
                    )
                )
    return errors


#: The tag of E011, which the commands that fix it leave out.
TRIGGERS_TAG = "docnumbers_triggers"


def late_triggers(app_configs=None, **kwargs):
    """E011: the migrations lack a late field's trigger, or remove none of a field gone."""
    from . import triggers

    errors = []
    fields = registry.fields()
    for field in triggers.stale_fields(fields):
        meta = field.model._meta
        errors.append(
            checks.Error(
                f"{_label(field)}: the migrations of {meta.app_label!r} do not install the "
                "late-numbering trigger of this field as declared now; on PostgreSQL its "
                "rows would be committed without their number.",
                hint=(
                    f"Run `manage.py makemigrations {meta.app_label}`, then migrate: it writes "
                    f"docnumbers.triggers.InstallLateNumbering(model_name={meta.model_name!r}, "
                    f"field_name={field.name!r}, sql=..., reverse_sql=...), the SQL frozen in "
                    "the migration. (A project that uses Django's own makemigrations: "
                    f"`manage.py docnumbers triggers {meta.app_label}` writes it.)"
                ),
                obj=field,
                id="docnumbers.E011",
            )
        )
    for app_label, model_name, field_name in triggers.removed_triggers(fields):
        errors.append(
            checks.Error(
                f"{app_label}.{model_name}.{field_name}: the migrations of {app_label!r} install "
                "a late-numbering trigger for a field that is no longer late (or is gone); "
                "on PostgreSQL it would still number the rows left without a number.",
                hint=(
                    f"Run `manage.py makemigrations {app_label}`, then migrate: it writes "
                    "docnumbers.triggers.RemoveLateNumbering."
                ),
                id="docnumbers.E011",
            )
        )
    return errors


def checks_but_triggers() -> list[str]:
    """Every registered tag but E011's: for the commands that write its migrations."""
    return [tag for tag in checks.registry.registry.tags_available() if tag != TRIGGERS_TAG]


def register():
    checks.register(formats_exist, checks.Tags.database)
    checks.register(late_triggers, TRIGGERS_TAG)
