"""Late allocation: the number is taken inside COMMIT, so the counter lock lasts only that long.

On PostgreSQL, saving an object of a ``late=True`` field inside a transaction
stores the row with an empty number and queues a PendingNumber row. A
constraint trigger declared DEFERRABLE INITIALLY DEFERRED on that table runs
at COMMIT: it increments the counter, writes the number, the formatted text and
the counter into the row, and deletes the queued entry. A rollback discards the
queued entry with everything else, so numbers stay gapless and unique.

Elsewhere (SQLite, MariaDB, or a save in autocommit mode) there is no such
hook, and the field takes its number at save time as it always does.
"""

from __future__ import annotations

from django.db import connections

from . import allocation

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION docnumbers_issue_pending() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    issued bigint;
    digits text;
BEGIN
    -- Everything that needs no number comes before the counter's row lock.
    DELETE FROM docnumbers_pendingnumber WHERE id = NEW.id;
    UPDATE docnumbers_counter SET value = value + 1 WHERE id = NEW.counter_id
        RETURNING value INTO issued;
    IF NEW.display_column = '' THEN
        EXECUTE format('UPDATE %I SET %I = $1 WHERE %I = $2::' || NEW.pk_type,
                       NEW.table_name, NEW.number_column, NEW.pk_column)
            USING issued, NEW.pk_value;
    ELSE
        digits := abs(issued)::text;
        IF length(digits) < NEW.padding THEN
            digits := lpad(digits, NEW.padding, '0');
        END IF;
        IF issued < 0 THEN
            digits := '-' || digits;
        END IF;
        EXECUTE format('UPDATE %I SET %I = $1, %I = $3, %I = $4 WHERE %I = $2::' || NEW.pk_type,
                       NEW.table_name, NEW.number_column, NEW.display_column,
                       NEW.counter_column, NEW.pk_column)
            USING issued, NEW.pk_value, NEW.prefix_text || digits || NEW.suffix_text,
                  NEW.counter_id;
    END IF;
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS docnumbers_issue_pending ON docnumbers_pendingnumber;
CREATE CONSTRAINT TRIGGER docnumbers_issue_pending
    AFTER INSERT ON docnumbers_pendingnumber
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION docnumbers_issue_pending();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS docnumbers_issue_pending ON docnumbers_pendingnumber;
DROP FUNCTION IF EXISTS docnumbers_issue_pending();
"""


def install(apps, schema_editor):
    """Migration step: create the trigger on PostgreSQL; other backends need nothing.

    The queue table is UNLOGGED: an entry lives only inside its transaction, so
    after a crash there is nothing in it to keep, and it writes no WAL.
    """
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE docnumbers_pendingnumber SET UNLOGGED", params=None)
        schema_editor.execute(FUNCTION_SQL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def applies(using: str) -> bool:
    """Whether a save on ``using`` can take its number at COMMIT."""
    connection = connections[using]
    return connection.vendor == "postgresql" and connection.in_atomic_block


def _target(field, instance, connection) -> dict:
    """Where the trigger writes: the row's table, key and columns (PendingNumber fields)."""
    pk = type(instance)._meta.pk
    formatted = field.format_code is not None
    meta = field.model._meta
    return {
        "table_name": meta.db_table,
        "pk_column": pk.column,
        "pk_type": pk.rel_db_type(connection) if pk.is_relation else pk.db_type(connection),
        "pk_value": str(pk.get_db_prep_value(instance.pk, connection)),
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

    connection = connections[using]
    entries = []
    for instance in instances:
        for field, key, series_id, prefix, suffix, padding in instance.__dict__.pop(
            "_docnumbers_prepared", ()
        ):
            entry = {
                **_target(field, instance, connection),
                "prefix_text": prefix,
                "suffix_text": suffix,
                "padding": padding,
            }
            entries.append((key, field.start_at, series_id, entry))
            instance.__dict__.setdefault("_docnumbers_late", set()).add(field.name)
    if len(entries) == 1:
        key, start_at, series_id, entry = entries[0]
        allocation.queue_pending(
            key, entry, start_at=start_at, number_format_id=series_id, using=using
        )
        return
    counters = {}
    rows = []
    for key, start_at, series_id, entry in entries:
        if key not in counters:
            counters[key] = allocation.ensure_counter(
                key, start_at=start_at, number_format_id=series_id, using=using
            )
        rows.append(PendingNumber(counter_id=counters[key], **entry))
    if rows:
        PendingNumber.objects.using(using).bulk_create(rows)


def after_save(sender, instance, created, using, raw, **kwargs):
    """post_save: queue the numbers a late field prepared in pre_save."""
    if created and not raw:
        queue([instance], using)


def load(instance) -> None:
    """Read the numbers the trigger wrote, once the transaction has committed."""
    waiting = instance.__dict__.get("_docnumbers_late")
    if not waiting or instance.pk is None:
        return
    model = type(instance)
    fields = [model._meta.get_field(name) for name in sorted(waiting)]
    columns = []
    for field in fields:
        columns.append(field.attname)
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
        instance.__dict__.setdefault("_docnumbers_issued", {})[field.name] = row[field.attname]
        waiting.discard(field.name)
