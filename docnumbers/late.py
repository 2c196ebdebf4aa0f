"""Late allocation: the number is taken inside COMMIT, so the counter lock lasts only that long.

On PostgreSQL, saving an object of a ``late=True`` field inside a transaction
stores the row with an empty number and queues a PendingNumber row. A
constraint trigger declared DEFERRABLE INITIALLY DEFERRED on that table runs
at COMMIT: it increments the counter, writes the number, the formatted text and
the counter into the row, and deletes the queued entry. A rollback discards the
queued entry with everything else, so numbers stay gapless and unique.

Elsewhere (SQLite, MariaDB, or a save in autocommit mode) there is no such
hook, and the field takes its number at save time as it always does.

The trigger is installed by migration 0002, whose SQL is frozen there; the
statements that queue entries are in ``backends.postgresql``.
"""

from __future__ import annotations

from django.db import connections

from . import allocation, backends, registry, state, tracking, triggers


def applies(using: str) -> bool:
    """Whether a save on ``using`` can take its number at COMMIT."""
    connection = connections[using]
    return backends.ops(connection).has_commit_hook and connection.in_atomic_block


def _target(field, instance, connection) -> dict:
    """Where the trigger writes: the row's table, key and columns (PendingNumber fields)."""
    # The table that holds the field: the parent's, for a multi-table child.
    meta = field.model._meta
    pk = meta.pk
    formatted = field.format_code is not None
    return {
        "table_name": meta.db_table,
        "pk_column": pk.column,
        "pk_type": pk.rel_db_type(connection) if pk.is_relation else pk.db_type(connection),
        "pk_value": str(pk.get_db_prep_value(getattr(instance, pk.attname), connection)),
        "number_column": field.column,
        "display_column": meta.get_field(field.display_name).column if formatted else "",
        "counter_column": meta.get_field(field.counter_name).column if formatted else "",
    }


def queue(instances, using: str) -> None:
    """Queue the numbers prepared on ``instances`` (after their INSERT gave them a pk).

    One instance (a save) costs one statement: the counter row is created if
    missing and the queue entry written together. A batch (bulk_create) makes
    each key's counter once and writes every entry in one INSERT.
    """
    from .models import PendingNumber

    if not any((current := state.peek(i)) is not None and current.prepared for i in instances):
        return  # everything went to a static trigger (or was numbered at save time)
    connection = connections[using]
    entries = []
    for instance in instances:
        current = state.of(instance)
        for prepared in current.prepared:
            entry = {
                **_target(prepared.field, instance, connection),
                "prefix_text": prepared.prefix,
                "suffix_text": prepared.suffix,
                "padding": prepared.padding,
            }
            entries.append((prepared, entry))
            current.late[prepared.field.name] = state.Mark(using)
        current.prepared = []
    if len(entries) == 1:
        prepared, entry = entries[0]
        allocation.queue_pending(
            prepared.key,
            entry,
            start_at=prepared.field.start_at,
            number_format_id=prepared.series_id,
            using=using,
        )
        return
    counters = {}
    rows = []
    for prepared, entry in entries:
        if prepared.key not in counters:
            counters[prepared.key] = allocation.ensure_counter(
                prepared.key,
                start_at=prepared.field.start_at,
                number_format_id=prepared.series_id,
                using=using,
            )
        rows.append(PendingNumber(counter_id=counters[prepared.key], **entry))
    if rows:
        PendingNumber.objects.using(using).bulk_create(rows)


def load(instance) -> None:
    """Read the numbers the trigger wrote, once the transaction has committed."""
    current = state.peek(instance)
    waiting = current.late if current is not None else None
    if not waiting or instance.pk is None:
        return
    model = type(instance)
    fields = [model._meta.get_field(name) for name in sorted(waiting)]
    columns = []
    for field in fields:
        columns += [field.attname, triggers.pending_name(field)]
        if field.format_code is not None:
            columns += [field.display_name, f"{field.counter_name}_id"]
    manager = model._base_manager.using(instance._state.db)
    row = manager.filter(pk=instance.pk).values(*columns).first()
    if row is None:
        return
    for field in fields:
        if row[field.attname] is None:
            continue  # not committed yet
        for column in columns:
            if column == field.attname or column.startswith(f"{field.name}_"):
                instance.__dict__[column] = row[column]
        text = row.get(field.display_name) if field.format_code is not None else None
        current.issued[field.name] = state.Issued(
            row[field.attname], None, None, text, pk=instance.pk
        )
        del waiting[field.name]
        # The row holds them: a later save compares with what COMMIT wrote.
        tracking.update(instance, {c: row[c] for c in columns if c in instance.__dict__})


def install_backstops(connection) -> None:
    """PostgreSQL: on each late field's table, the trigger that refuses an unnumbered row.

    A table with the field's static trigger (``triggers``) needs none: that
    trigger refuses such a row itself.

    Run after every migrate (the tables and fields may have changed); idempotent.
    """
    ops = backends.ops(connection)
    if not ops.has_commit_hook:
        return
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        cursor.execute(ops.static_triggers_sql())
        static = {name for (name,) in cursor.fetchall()}
        for field in registry.fields():
            meta = field.model._meta
            if not field.late or meta.db_table not in tables:
                continue
            name = triggers.backstop_name(field)
            if triggers.trigger_name(field) in static:
                # The field's static trigger refuses an unnumbered row itself.
                cursor.execute(ops.drop_trigger_sql(name, meta.db_table))
                continue
            cursor.execute(
                ops.require_number_sql(name, meta.db_table, field.column, meta.pk.column)
            )
