"""Late allocation: the number is taken inside COMMIT, so the counter lock lasts only that long.

On PostgreSQL, a save of a ``late=True`` field inside a transaction stores the row
with an empty number and sends nothing else. The field's COMMIT trigger
(``triggers``, frozen in the project's migrations) numbers the row from its own
columns as they are at COMMIT: a save before COMMIT that changes its date, scope
or series is numbered with its final key, and a rollback leaves nothing behind,
so numbers stay gapless and unique. Here the instance only remembers that COMMIT
will write its number (``defer``), and reads it back once committed (``load``).

Elsewhere (SQLite, MariaDB, or a save in autocommit mode) there is no such
hook, and the field takes its number at save time as it always does.
"""

from __future__ import annotations

from django.db import connections

from . import backends, state, tracking
from .days import document_day


def committing(using: str):
    """The connection of ``using`` when a save there can take its number at COMMIT, else None."""
    connection = connections[using]
    if connection.in_atomic_block and backends.ops(connection).has_commit_hook:
        return connection
    return None


def defer(field, instances, using, connection) -> list:
    """Leave the instances without a value to the COMMIT trigger; return the others.

    Nothing is read or written: the instance remembers the transaction whose COMMIT
    writes its number. A date the trigger would refuse is refused now, by name.
    Instances with an explicit value (a data import) are numbered as given now.
    ``connection``: the connection of ``using``, as ``committing`` returned it.
    """
    explicit, mark = [], None
    for instance in instances:
        if instance.__dict__.get(field.attname) is not None:
            explicit.append(instance)
            continue
        if field.format_code is not None and field.date_field:
            document_day(field, instance)  # DateOutOfRange, before COMMIT
        current = state.of(instance)
        if field.name in current.late:
            # Saved again before COMMIT: the row was inserted (or posted) in the
            # transaction of the first mark, which stays its own.
            continue
        if mark is None:
            mark = state.Mark(using, connection)
        current.late[field.name] = mark
        if not instance._state.adding:  # a stored draft, posted by its UPDATE
            current.late_on_update.add(field.name)
    return explicit


def load(instance) -> None:
    """Read the numbers the trigger wrote, once the transaction has committed."""
    current = state.peek(instance)
    waiting = current.late if current is not None else None
    if not waiting or instance.pk is None or instance._state.adding:
        return  # nothing to read: no COMMIT has numbered a row this instance did not insert
    model = type(instance)
    fields = [model._meta.get_field(name) for name in sorted(waiting)]
    manager = model._base_manager.using(instance._state.db)
    names = sorted({name for field in fields for name in state.issued_columns(field)})
    row = manager.filter(pk=instance.pk).values(*names).first()
    if row is None:
        return
    for field in fields:
        if row[field.attname] is None:
            continue  # not committed yet
        written = state.issued_columns(field)
        for name in written:
            instance.__dict__[name] = row[name]
        text = row.get(field.display_name) if field.format_code is not None else None
        current.issued[field.name] = state.Issued(
            row[field.attname], None, None, text, pk=instance.pk
        )
        del waiting[field.name]
        # The row holds them: a later save compares with what COMMIT wrote.
        tracking.update(instance, {name: row[name] for name in written})
