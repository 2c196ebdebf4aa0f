"""Late numbers on PostgreSQL: one COMMIT trigger per late field, frozen in a migration.

A save of a ``late=True`` field in a transaction stores its row with an empty
number; the INSERT carries nothing else. A constraint trigger on the document's
own table, DEFERRABLE INITIALLY DEFERRED, runs inside COMMIT and works from the
row as it is then: it reads the date, the ``unique_with`` values and the series,
picks the series (the row's own, or the code's first active one, created from the
declared defaults when the code has none), computes the period and the counter
key with the SQL renderer of docnumbers' initial migrations, upserts the counter
row (created at ``start_at`` or moved by one, under its row lock until the COMMIT
ends) and writes the number, the rendered text and the counter into the row. The
SQL is static, so PostgreSQL caches its plans.

The trigger's SQL is frozen in the project's own migrations by the operation
``InstallLateNumbering`` (as django-pgtrigger does): docnumbers' ``makemigrations``
writes it next to the model's changes and removes it with the field, and the
system check ``docnumbers.E011`` names a late field whose migrations lack the
trigger of its current declaration.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, router
from django.db.migrations.operations.base import Operation

from . import backends
from .backends import postgresql
from .conf import setting

#: Bump when the SQL a trigger is rendered with changes: the check then asks for a migration.
VERSION = 6


def trigger_name(field) -> str:
    """The trigger's (and its function's) name: one per table and number column."""
    return postgresql.identifier(f"docnumbers_late_{field.model._meta.db_table}_{field.column}")


class Unsupported(ValueError):
    """The COMMIT trigger cannot compute what the field needs (a scope of this type)."""


#: Django field types whose column cast to text reads as ``Field.value_to_string`` does.
_AS_TEXT = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "CharField",
    "TextField",
    "SlugField",
    "EmailField",
    "URLField",
    "UUIDField",
}


def scope_sql(model_field) -> str:
    """The SQL of a ``unique_with`` column's value as ``keys.scope_of`` writes it (text, or
    NULL). Raises Unsupported for a type whose text PostgreSQL writes otherwise."""
    target = model_field
    while target.is_relation and getattr(target, "target_field", None) is not None:
        target = target.target_field
    column = postgresql.quote(model_field.column)
    kind = target.get_internal_type()
    if kind in _AS_TEXT:
        return f"{column}::text"
    if kind == "DateField":
        return f"to_char({column}, 'YYYY-MM-DD')"
    if kind == "BooleanField":
        return f"CASE {column} WHEN true THEN 'True' WHEN false THEN 'False' END"
    raise Unsupported(
        f"{model_field.model._meta.label}.{model_field.name} is a {kind}: the COMMIT trigger of "
        "a late field cannot write its scope as Python does; scope by a number, text, date, "
        "boolean, UUID or foreign key field, or drop late=True."
    )


def day_sql(field) -> str:
    """The SQL of a formatted field's document day (``days.document_day``): the date
    field's local date in settings.TIME_ZONE, or the day of COMMIT without one."""
    zone = postgresql.literal(settings.TIME_ZONE or "UTC")
    today = f"(statement_timestamp() AT TIME ZONE {zone})::date"
    if not field.date_field:
        return today
    date_field = field.model._meta.get_field(field.date_field)
    column = postgresql.quote(date_field.column)
    if isinstance(date_field, models.DateTimeField):
        column = f"({column} AT TIME ZONE {zone})::date"
    return f"COALESCE({column}, {today})"


def render(field) -> tuple[str, str]:
    """The SQL that installs the trigger of ``field``, and the SQL that removes it."""
    from .keys import sequence_label

    meta = field.model._meta
    formatted = None
    if field.format_code is not None:
        formatted = postgresql.LateFormat(
            display=meta.get_field(field.display_name).column,
            counter=meta.get_field(field.counter_name).column,
            code=field.format_code,
            day=day_sql(field),
            years=tuple(setting("DATE_RANGE")),
            series=meta.get_field(field.series_field).column if field.series_field else None,
            defaults=field.format_defaults,
        )
    scope = [(name, scope_sql(meta.get_field(name))) for name in field.unique_with]
    return postgresql.late_trigger_sql(
        name=trigger_name(field),
        table=meta.db_table,
        pk=meta.pk.column,
        number=field.column,
        label=sequence_label(field.model, field.name),
        start_at=field.start_at,
        version=VERSION,
        scope=scope,
        formatted=formatted,
        condition=condition_sql(field) if getattr(field, "issue_when", None) is not None else None,
    )


#: The lookups whose SQL is the same on every backend Django ships: without psycopg, the
#: condition is compiled with SQLite's (always importable) for these, and must agree.
_PORTABLE_LOOKUPS = {"exact", "in", "isnull", "gt", "gte", "lt", "lte"}


def condition_sql(field) -> str:
    """``issue_when`` as PostgreSQL SQL, compiled the way Django compiles a
    ``CheckConstraint``'s condition (``Query.build_where``), its values written as
    literals. The same text whatever database the project runs makemigrations with."""
    from django.db.models.sql import Query

    connection = _compiling_connection(field)
    query = Query(model=field.model, alias_cols=False)
    where = query.build_where(field.issue_when)
    sql, params = where.as_sql(query.get_compiler(connection=connection), connection)
    return sql % tuple(_sql_value(field, value) for value in params)


def _compiling_connection(field):
    settings = {
        "NAME": "docnumbers-render",
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "OPTIONS": {},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {},
    }
    try:
        from django.db.backends.postgresql.base import DatabaseWrapper
    except Exception:  # noqa: BLE001 - psycopg missing: ImproperlyConfigured
        from django.core.exceptions import ImproperlyConfigured
        from django.db.backends.sqlite3.base import DatabaseWrapper

        used = _lookups(field.issue_when)
        if not used <= _PORTABLE_LOOKUPS:
            raise ImproperlyConfigured(
                f"{field.model._meta.label}.{field.name}: rendering its COMMIT trigger with "
                f"issue_when lookups {sorted(used - _PORTABLE_LOOKUPS)} needs psycopg: "
                "pip install 'psycopg[binary]'."
            ) from None
    return DatabaseWrapper({**settings, "ENGINE": DatabaseWrapper.__module__}, "docnumbers")


def _lookups(node) -> set[str]:
    from django.db.models import Q
    from django.db.models.constants import LOOKUP_SEP

    found = set()
    for child in node.children:
        if isinstance(child, Q):
            found |= _lookups(child)
        else:
            parts = child[0].split(LOOKUP_SEP)
            found.add(parts[-1] if len(parts) > 1 else "exact")
    return found


def _sql_value(field, value) -> str:
    """A value of the condition as a PostgreSQL literal (no connection needed)."""
    import datetime as dt
    import decimal
    import uuid

    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    if isinstance(value, (str, uuid.UUID, dt.date, dt.datetime, dt.time)):
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return postgresql.literal(text)
    raise ValueError(
        f"{field.model._meta.label}.{field.name}: issue_when holds the value {value!r}, "
        "which the COMMIT trigger cannot write as SQL; compare with a string, number, "
        "boolean or date."
    )


class InstallLateNumbering(Operation):
    """Install (PostgreSQL) the static COMMIT trigger of a late field, its SQL frozen here.

    ``sql`` installs it; ``reverse_sql`` restores what was there before (the
    previous version's SQL, or the removal). ``drop_sql``, run before ``sql``,
    removes the previous trigger when the table or column moved (its name
    follows them). Other backends take late numbers at save time, and the
    operation does nothing there.
    """

    reduces_to_sql = True
    reversible = True
    #: Whether the operation removes a trigger (it goes first in its migration).
    removes = False

    def __init__(self, model_name, field_name, sql, reverse_sql, drop_sql=""):
        self.model_name = model_name
        self.field_name = field_name
        self.sql = sql
        self.reverse_sql = reverse_sql
        self.drop_sql = drop_sql

    def deconstruct(self):
        kwargs = {
            "model_name": self.model_name,
            "field_name": self.field_name,
            "sql": self.sql,
            "reverse_sql": self.reverse_sql,
        }
        if self.drop_sql:
            kwargs["drop_sql"] = self.drop_sql
        return self.__class__.__name__, [], kwargs

    def state_forwards(self, app_label, state):
        pass

    def _run(self, app_label, schema_editor, state, sql):
        model = state.apps.get_model(app_label, self.model_name)
        connection = schema_editor.connection
        if not backends.ops(connection).has_commit_hook:
            return
        if not router.allow_migrate_model(connection.alias, model):
            return
        schema_editor.execute(sql, params=None)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, to_state, self.drop_sql + self.sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, from_state, self.reverse_sql)

    def describe(self):
        return f"Install the late-numbering trigger of {self.model_name}.{self.field_name}"

    @property
    def migration_name_fragment(self):
        return f"late_numbering_{self.model_name.lower()}_{self.field_name.lower()}"


class RemoveLateNumbering(InstallLateNumbering):
    """Remove (PostgreSQL) the COMMIT trigger of a field that is no longer late, or gone.

    ``sql`` drops the trigger's function and, cascading, the trigger, wherever its
    table is; ``reverse_sql`` installs the trigger the migrations had before. It
    comes before the model's own changes in its migration, so that unapplying it
    finds the table and column the trigger names.
    """

    removes = True

    def describe(self):
        return f"Remove the late-numbering trigger of {self.model_name}.{self.field_name}"

    @property
    def migration_name_fragment(self):
        return f"remove_late_numbering_{self.model_name.lower()}_{self.field_name.lower()}"


# -- which late fields have the trigger of their current declaration ---------------------------

_frozen: dict | None = None


def frozen_sql() -> dict[tuple[str, str, str], str]:
    """(app label, model name, field name) -> the SQL its migrations install last.

    Read from the migration files once per process (no query); ``forget`` clears it.
    """
    global _frozen
    if _frozen is None:
        from django.db.migrations.loader import MigrationLoader
        from django.db.migrations.operations import RenameField, RenameModel

        loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
        found, seen = {}, set()
        for leaf in loader.graph.leaf_nodes():
            for node in loader.graph.forwards_plan(leaf):
                if node in seen:
                    continue
                seen.add(node)
                migration = loader.graph.nodes[node]
                app = migration.app_label
                for operation in migration.operations:
                    if isinstance(operation, RemoveLateNumbering):
                        ident = (app, operation.model_name.lower(), operation.field_name)
                        found.pop(ident, None)
                    elif isinstance(operation, InstallLateNumbering):
                        ident = (app, operation.model_name.lower(), operation.field_name)
                        found[ident] = operation
                    elif isinstance(operation, RenameModel):
                        # The trigger installed under the old name is the model's still.
                        old, new = operation.old_name_lower, operation.new_name_lower
                        for ident in [i for i in found if i[:2] == (app, old)]:
                            found[(app, new, ident[2])] = found.pop(ident)
                    elif isinstance(operation, RenameField):
                        ident = (app, operation.model_name_lower, operation.old_name)
                        if ident in found:
                            found[(app, ident[1], operation.new_name)] = found.pop(ident)
        _frozen = {ident: op.sql for ident, op in found.items()}
    return _frozen


#: field -> whether its migrations install its current trigger.
_current: dict = {}


def forget() -> None:
    """Read the migration files again at the next late save (after a migration is written)."""
    global _frozen
    _frozen = None
    _current.clear()


def _ident(field):
    meta = field.model._meta
    return (meta.app_label, meta.model_name, field.name)


def is_current(field) -> bool:
    """Whether the project's migrations install the trigger of ``field`` as declared now."""
    current = _current.get(field)
    if current is None:
        current = _current[field] = frozen_sql().get(_ident(field)) == render(field)[0]
    return current


def migration_operation(field):
    """The operation a migration needs for ``field`` now (reversing to what it had).

    The operation comes after the model's own changes in its migration (or in a
    later one). When the table or the number column moved, the previous trigger
    is on the moved table under its old name: it is dropped first, and the
    reverse puts it back on the table as it is then (its function names the old
    table and columns, true again once the model's changes are reversed). (#18)
    """
    install, uninstall = render(field)
    previous = frozen_sql().get(_ident(field))
    if previous is None:
        return InstallLateNumbering(
            model_name=field.model._meta.model_name,
            field_name=field.name,
            sql=install,
            reverse_sql=uninstall,
        )
    drop_sql, reverse_sql = postgresql.moved_trigger_sql(install, uninstall, previous)
    return InstallLateNumbering(
        model_name=field.model._meta.model_name,
        field_name=field.name,
        sql=install,
        reverse_sql=reverse_sql,
        drop_sql=drop_sql,
    )


def stale_fields(fields) -> list:
    """The late fields whose migrations lack the trigger of their declaration."""
    return [f for f in fields if f.late and not f.model._meta.proxy and not is_current(f)]


def removed_triggers(fields) -> list[tuple[str, str, str]]:
    """(app label, model name, field name) of the triggers the migrations install for a
    field that is no longer late (or gone with its model): a removal is missing."""
    wanted = {_ident(f) for f in fields if f.late and not f.model._meta.proxy}
    return sorted(ident for ident in frozen_sql() if ident not in wanted)


def removal_operation(ident) -> RemoveLateNumbering:
    """The operation that removes the trigger the migrations install for ``ident``."""
    previous = frozen_sql()[ident]
    return RemoveLateNumbering(
        model_name=ident[1],
        field_name=ident[2],
        sql=postgresql.late_trigger_removal_sql(postgresql.installed_name(previous)),
        reverse_sql=previous,
    )


def missing_operations(app_labels=()) -> dict[str, list]:
    """App label -> the trigger operations its migrations lack: removals first, then the
    installs of stale late fields (``app_labels``: only these apps)."""
    from . import registry

    fields = registry.fields()
    found: dict[str, list] = {}
    for ident in removed_triggers(fields):
        found.setdefault(ident[0], []).append(removal_operation(ident))
    for field in stale_fields(fields):
        found.setdefault(field.model._meta.app_label, []).append(migration_operation(field))
    return {label: ops for label, ops in found.items() if not app_labels or label in app_labels}


def write_migrations(app_labels=(), *, dry_run=False) -> list[tuple[str, list]]:
    """Write, per app, a migration with the trigger operations its migrations lack.

    Returns ``(path or name, operations)`` per app. The new migration depends on
    the app's latest one and on docnumbers' latest (the SQL renderer the
    triggers call).
    """
    import os

    from django.db import migrations
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.writer import MigrationWriter

    forget()
    by_app = missing_operations(app_labels)
    loader = MigrationLoader(None, ignore_no_migrations=True)
    written = []
    for label, operations in sorted(by_app.items()):
        leaves = loader.graph.leaf_nodes(label)
        number = 1
        if leaves:
            head = leaves[-1][1].split("_", 1)[0]
            number = int(head) + 1 if head.isdigit() else len(loader.graph.leaf_nodes()) + 1
        name = f"{number:04d}_late_numbering"
        migration = migrations.Migration(name, label)
        migration.dependencies = [*leaves, *loader.graph.leaf_nodes("docnumbers")]
        migration.operations = operations
        writer = MigrationWriter(migration)
        if not dry_run:
            os.makedirs(os.path.dirname(writer.path), exist_ok=True)
            with open(writer.path, "w", encoding="utf-8") as handle:
                handle.write(writer.as_string())
        written.append((writer.path, operations))
    forget()
    return written
