"""Adding an AutoSequenceField to a table that already has rows.

A new NOT NULL column with no default cannot be added to a table with rows,
and a default (0) would give every row the same number. So the migration goes
in steps, which docnumbers' ``makemigrations`` writes (``operations.adoption_steps``):

1. ``AddField`` with ``null=True`` (then the companion columns of a format);
2. ``NumberExistingRows`` (``number_existing_rows``): the rows are numbered by
   the real engine (``numbering.group_by_key``, one ``allocation.take`` per
   key), in a stated order, per ``unique_with`` scope and per period, with
   their text;
3. ``AlterField`` to the field as declared (NOT NULL);
4. the unique constraints (``AddConstraint``), once every row has its number.

``refuse_unnumbered_rows`` stops ``migrate`` with a clear message before a
plain ``AddField`` of a NOT NULL AutoSequenceField reaches a table with rows.
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import connections, transaction
from django.db.migrations.operations import AddField

from . import allocation, numbering, registry
from .fields import AutoSequenceField

#: Rows read, numbered and written back per round.
BATCH_SIZE = 1000

#: The documented default order: the primary key, i.e. usually the order of creation.
DEFAULT_ORDER = ("pk",)


def declared_defaults(field):
    """The ``Format`` the project declares for ``field`` (a migration's field knows only its code).

    The project's own field of the same model and name first, else any field of the
    same code that declares defaults; None when there is none.
    """
    fields = registry.fields_of_code(field.format_code)
    label = field.model._meta.label
    same = [f for f in fields if f.model._meta.label == label and f.name == field.name]
    for candidate in same + fields:
        if candidate.format_defaults is not None:
            return candidate.format_defaults
    return None


def _give_default_series(field, rows, using) -> None:
    """Make sure the default series exists (seeded from the declared defaults if needed).

    With a ``series_field``, rows without a series get the default one, as a save does.
    """
    from .models import NumberFormat

    if field.format_code is None:
        return
    if field.series_field:
        series = field.model._meta.get_field(field.series_field)
        rows = rows.filter(**{f"{series.attname}__isnull": True})
        if not rows.exists():
            return
    formats = NumberFormat.objects.using(using)
    default = formats.default_series(field.format_code, declared_defaults(field))
    if field.series_field:
        rows.update(**{series.attname: default.pk})


def _number_batch(field, instances, using) -> None:
    """Give ``instances`` (in order) their numbers, texts and counters: one take per key."""
    groups = numbering.group_by_key(field, instances, using)
    for key in sorted(groups, key=lambda k: k.text):
        group = groups[key]
        series = group.series
        counter_id, last = allocation.take(
            key,
            len(group.new),
            start_at=field.start_at,
            number_format_id=series.pk if series is not None else None,
            using=using,
        )
        fmt = series.as_format() if series is not None else None
        first = last - len(group.new) + 1
        for number, instance in enumerate(group.new, start=first):
            setattr(instance, field.attname, number)
            if fmt is not None:
                text = fmt.render(group.days[id(instance)], number)
                setattr(instance, field.display_name, text)
                setattr(instance, f"{field.counter_name}_id", counter_id)


def number_existing_rows(model, name, *, order_by=DEFAULT_ORDER, using, batch_size=BATCH_SIZE):
    """Number the rows of ``model`` whose ``name`` is NULL, in ``order_by`` order; return how many.

    ``model`` may be a migration's historical model. Each sequence key (scope,
    period, series) counts on from its counter, which ends at the highest number
    issued. One transaction: all rows are numbered, or none.
    """
    field = model._meta.get_field(name)
    rows = model._base_manager.using(using).filter(**{f"{field.attname}__isnull": True})
    columns = [field.name]
    if field.format_code is not None:
        columns += [field.display_name, field.counter_name]
    with transaction.atomic(using=using):
        pks = list(rows.order_by(*order_by).values_list("pk", flat=True))
        if not pks:
            return 0
        _give_default_series(field, rows, using)
        for start in range(0, len(pks), batch_size):
            chunk = pks[start : start + batch_size]
            found = rows.in_bulk(chunk)
            instances = [found[pk] for pk in chunk if pk in found]
            _number_batch(field, instances, using)
            model._base_manager.using(using).bulk_update(instances, columns)
    return len(pks)


def adds_number(operation) -> bool:
    """Whether ``operation`` adds an AutoSequenceField."""
    return isinstance(operation, AddField) and isinstance(operation.field, AutoSequenceField)


def _has_rows(model, using, tables) -> bool:
    meta = model._meta
    if not meta.managed or meta.proxy or meta.db_table not in tables:
        return False
    return model._base_manager.using(using).exists()


def refuse_unnumbered_rows(sender=None, *, using="default", plan=None, apps=None, **kwargs):
    """pre_migrate: stop before a NOT NULL AutoSequenceField is added to a table with rows.

    The database would refuse it anyway, with a message that does not say what to do.
    """
    tables = None
    for migration, backwards in plan or ():
        for operation in [] if backwards else migration.operations:
            if not adds_number(operation) or operation.field.null:
                continue
            try:
                model = apps.get_model(migration.app_label, operation.model_name)
            except LookupError:
                continue  # created by this plan: no rows yet
            if not operation.allow_migrate_model(using, model):
                continue
            if tables is None:
                tables = set(connections[using].introspection.table_names())
            if _has_rows(model, using, tables):
                raise CommandError(_refusal(migration, operation, model))


def _refusal(migration, operation, model) -> str:
    return (
        f"{model._meta.label}.{operation.name}: migration {migration.app_label}."
        f"{migration.name} adds this AutoSequenceField as NOT NULL to a table that already "
        "has rows, which the database refuses. Number the rows in steps: AddField with "
        f"null=True, then docnumbers.operations.NumberExistingRows('{operation.model_name}', "
        f"'{operation.name}'), then AlterField to the field as declared. docnumbers' "
        "makemigrations writes exactly that: delete this migration and run makemigrations "
        "again with docnumbers in INSTALLED_APPS (README: Adding docnumbers to an existing "
        "model)."
    )
