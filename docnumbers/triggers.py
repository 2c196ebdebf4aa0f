"""Late numbers on PostgreSQL: one static COMMIT trigger per late field, frozen in a migration.

A save of a ``late=True`` field in a transaction writes, in its own INSERT, a
hidden text column ``<name>_pending`` with what the number needs: the counter
key (and the columns of a new counter row), and for a formatted field the
padding and the rendered prefix and suffix. A constraint trigger on the
document's own table, DEFERRABLE INITIALLY DEFERRED, runs inside COMMIT: it
upserts the counter row (created at ``start_at`` or moved by one, under its row
lock until the COMMIT ends) and writes the number, the text and the counter
into the row. The SQL is static (no dynamic ``EXECUTE``, no queue table), so
PostgreSQL caches its plans; a save sends no statement beyond the INSERT.

The trigger's SQL is frozen in the project's own migrations by the operation
``InstallLateNumbering`` (as django-pgtrigger does): ``manage.py docnumbers
triggers`` writes it, and the system check ``docnumbers.W002`` names the field
whose migrations lack the trigger of its current declaration. Until then the
field uses the queue table of migration 0002 (the fallback), and a row still
unnumbered at COMMIT is refused: the static trigger is also that backstop for
its table, in place of ``late.install_backstops``.
"""

from __future__ import annotations

from django.db import models, router
from django.db.migrations.operations.base import Operation

from . import backends
from .backends import postgresql

#: Separates the parts of a pending value. JSON (the scope) escapes it, and
#: a prefix or suffix holding it is left to the queue (``payload`` returns None).
SEPARATOR = "\x1f"

#: Bump when the SQL a trigger is rendered with changes: the check then asks for a migration.
VERSION = 4


class PendingField(models.TextField):
    """What the COMMIT trigger needs to number a late row; empty once it is numbered."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)


def pending_name(field) -> str:
    return f"{field.name}_pending"


def trigger_name(field) -> str:
    """The trigger's (and its function's) name: one per table and number column."""
    return postgresql.identifier(f"docnumbers_late_{field.model._meta.db_table}_{field.column}")


def backstop_name(field) -> str:
    """The fallback trigger that refuses an unnumbered row (``late.install_backstops``)."""
    return postgresql.identifier(f"docnumbers_require_{field.column}")


def payload(key, series_id, padding=0, prefix="", suffix="", version=None) -> str | None:
    """The pending value for ``key``: key, scope, period, series, padding, prefix, suffix,
    and the format version the series was read at (``numbering.kept_series``), if kept."""
    parts = [
        key.text,
        key.scope_text,
        key.period,
        "" if series_id is None else str(series_id),
        str(padding),
        prefix,
        suffix,
        "" if version is None else str(version),
    ]
    if any(SEPARATOR in part for part in parts[1:]):
        return None
    return SEPARATOR.join(parts)


def render(field) -> tuple[str, str]:
    """The SQL that installs the trigger of ``field``, and the SQL that removes it."""
    from .keys import sequence_label

    meta = field.model._meta
    formatted = None
    if field.format_code is not None:
        formatted = (
            meta.get_field(field.display_name).column,
            meta.get_field(field.counter_name).column,
        )
    return postgresql.late_trigger_sql(
        name=trigger_name(field),
        table=meta.db_table,
        pk=meta.pk.column,
        number=field.column,
        pending=meta.get_field(pending_name(field)).column,
        label=sequence_label(field.model, field.name),
        start_at=field.start_at,
        backstop=backstop_name(field),
        condition=condition_sql(field) if getattr(field, "issue_when", None) is not None else None,
        version=VERSION,
        formatted=formatted,
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
                    if isinstance(operation, InstallLateNumbering):
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


def write_migrations(app_labels=(), *, dry_run=False) -> list[tuple[str, list]]:
    """Write, per app, a migration installing the current trigger of each stale late field.

    Returns ``(path or name, fields)`` per app. The new migration depends on the
    app's latest one (which must already add the pending columns: run
    makemigrations first).
    """
    import os

    from django.db import migrations
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.writer import MigrationWriter

    from . import registry

    forget()
    stale = stale_fields(registry.fields())
    by_app: dict[str, list] = {}
    for field in stale:
        label = field.model._meta.app_label
        if not app_labels or label in app_labels:
            by_app.setdefault(label, []).append(field)
    loader = MigrationLoader(None, ignore_no_migrations=True)
    written = []
    for label, fields in sorted(by_app.items()):
        leaves = loader.graph.leaf_nodes(label)
        number = 1
        if leaves:
            head = leaves[-1][1].split("_", 1)[0]
            number = int(head) + 1 if head.isdigit() else len(loader.graph.leaf_nodes()) + 1
        name = f"{number:04d}_late_numbering"
        migration = migrations.Migration(name, label)
        # The trigger reads the format version of docnumbers' migration 0008.
        migration.dependencies = [*leaves, ("docnumbers", "0008_format_version")]
        migration.operations = [migration_operation(field) for field in fields]
        writer = MigrationWriter(migration)
        if not dry_run:
            os.makedirs(os.path.dirname(writer.path), exist_ok=True)
            with open(writer.path, "w", encoding="utf-8") as handle:
                handle.write(writer.as_string())
        written.append((writer.path, fields))
    forget()
    return written
