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
triggers`` writes it, and the system check ``docnumbers.E009`` names the field
whose migrations lack the trigger of its current declaration. Until then the
field uses the queue table of migration 0002 (the fallback), and a row still
unnumbered at COMMIT is refused: the static trigger is also that backstop for
its table, in place of ``late.install_backstops``.
"""

from __future__ import annotations

import re

from django.db import models, router
from django.db.backends.utils import truncate_name
from django.db.migrations.operations.base import Operation

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


#: PostgreSQL's longest identifier (``connection.ops.max_name_length()`` there). The
#: SQL is PostgreSQL's whatever database makemigrations runs with, so it is fixed.
MAX_NAME_LENGTH = 63


def identifier(text: str) -> str:
    """``text`` as PostgreSQL keeps it: cut to its longest name with a hash, as Django does."""
    return truncate_name(text, MAX_NAME_LENGTH)


def trigger_name(field) -> str:
    """The trigger's (and its function's) name: one per table and number column."""
    return identifier(f"docnumbers_late_{field.model._meta.db_table}_{field.column}")


def backstop_name(field) -> str:
    """The fallback trigger that refuses an unnumbered row (``late.install_backstops``)."""
    return identifier(f"docnumbers_require_{field.column}")


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


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: The trigger's function and the trigger, for ``str.format`` (``render`` fills them in).
_INSTALL = """-- docnumbers late numbering, version {version}: {label}
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql AS $docnumbers$
{options}DECLARE
    payload text;
    parts text[];
    counter_id bigint;
    issued bigint;
    digits text;
BEGIN
{guard}    IF NEW.{pending} IS NULL THEN
        -- Not prepared by a save: numbered by the queue (the fallback), by hand, or refused.
        PERFORM 1 FROM {table} WHERE {pk} = NEW.{pk} AND {number} IS NULL;
        IF FOUND AND NOT EXISTS (
            SELECT 1 FROM docnumbers_pendingnumber
            WHERE table_name = {table_text}
                AND number_column = {number_text} AND pk_value = NEW.{pk}::text
        ) THEN
            RAISE EXCEPTION 'docnumbers: the row % of % would be committed without its number %',
                NEW.{pk}, {table_text}, {number_text}
                USING HINT = 'Save late-numbered documents through the ORM (save, bulk_create) '
                             'so that docnumbers prepares their number; see the README, '
                             'Late allocation.',
                      ERRCODE = 'not_null_violation';
        END IF;
        RETURN NULL;
    END IF;
    -- What the row holds now: a save before COMMIT may have moved its key (a new
    -- date, scope or series). Deleted (or numbered) since its INSERT: take no number.
    SELECT {pending} INTO payload FROM {table} WHERE {pk} = NEW.{pk};
    IF payload IS NULL THEN
        RETURN NULL;
    END IF;
    -- key, scope, period, series id, padding, prefix, suffix, format version
    parts := string_to_array(payload, E'\\x1f');
    -- A series kept between saves: refuse it if a NumberFormat changed meanwhile.
    IF parts[8] <> '' AND parts[8]::bigint IS DISTINCT FROM
            (SELECT value FROM docnumbers_formatversion WHERE id = 1) THEN
        RAISE EXCEPTION 'docnumbers: a number format changed while this transaction ran'
            USING HINT = 'Retry the transaction: it will use the format as it is now.',
                  ERRCODE = 'serialization_failure';
    END IF;
    -- The counter row's lock is held from here to the end of COMMIT. Most rows find
    -- their counter (a plain UPDATE); a new key's first row creates it.
    UPDATE docnumbers_counter
        SET value = CASE WHEN value < 9223372036854775807 THEN value + 1 END
        WHERE key = parts[1]
        RETURNING id, value INTO counter_id, issued;
    IF NOT FOUND THEN
        INSERT INTO docnumbers_counter AS c
                (key, value, sequence, scope, period, number_format_id)
            VALUES (parts[1], {start_at}, {label_text}, parts[2], parts[3],
                    NULLIF(parts[4], '')::bigint)
            ON CONFLICT (key) DO UPDATE
                SET value = CASE WHEN c.value < 9223372036854775807 THEN c.value + 1 END
            RETURNING c.id, c.value INTO counter_id, issued;
    END IF;
    {write}
    RETURN NULL;
END;
$docnumbers$;
DROP TRIGGER IF EXISTS {backstop} ON {table};
DROP TRIGGER IF EXISTS {name} ON {table};
CREATE CONSTRAINT TRIGGER {name} AFTER {events} ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.{number} IS NULL)
    EXECUTE FUNCTION {name}();
"""

#: A formatted field's number, text and counter (a plain field writes only the number).
_WRITE_FORMATTED = """digits := abs(issued)::text;
    IF length(digits) < parts[5]::int THEN
        digits := lpad(digits, parts[5]::int, '0');
    END IF;
    IF issued < 0 THEN
        digits := '-' || digits;
    END IF;
    UPDATE {table} SET {number} = issued, {display} = parts[6] || digits || parts[7],
        {counter} = counter_id, {pending} = NULL
        WHERE {pk} = NEW.{pk};"""
_WRITE_PLAIN = "UPDATE {table} SET {number} = issued, {pending} = NULL WHERE {pk} = NEW.{pk};"

#: A field with ``issue_when`` (#21): the row is numbered only if the condition holds on
#: the row as it is at COMMIT; a draft (or a row deleted since) takes nothing, and a value
#: prepared before it went back to draft is dropped. The trigger fires on UPDATE too, so a
#: draft posted by a later UPDATE is numbered at that transaction's COMMIT.
_DRAFT_GUARD = """    PERFORM 1 FROM {table} WHERE {pk} = NEW.{pk} AND ({condition});
    IF NOT FOUND THEN
        UPDATE {table} SET {pending} = NULL WHERE {pk} = NEW.{pk} AND {pending} IS NOT NULL;
        RETURN NULL;
    END IF;
"""
#: The condition names the table's columns, which win over the function's variables.
_DRAFT_OPTIONS = "#variable_conflict use_column\n"


def render(field) -> tuple[str, str]:
    """The SQL that installs the trigger of ``field``, and the SQL that removes it."""
    from .keys import sequence_label

    meta = field.model._meta
    label = sequence_label(field.model, field.name)
    names = {
        "name": _quote(trigger_name(field)),
        "table": _quote(meta.db_table),
        "pk": _quote(meta.pk.column),
        "number": _quote(field.column),
        "pending": _quote(meta.get_field(pending_name(field)).column),
    }
    if field.format_code is None:
        write = _WRITE_PLAIN.format(**names)
    else:
        display = _quote(meta.get_field(field.display_name).column)
        counter = _quote(meta.get_field(field.counter_name).column)
        write = _WRITE_FORMATTED.format(**names, display=display, counter=counter)
    options, guard, events = "", "", "INSERT"
    if getattr(field, "issue_when", None) is not None:
        options = _DRAFT_OPTIONS
        guard = _DRAFT_GUARD.format(**names, condition=condition_sql(field))
        events = "INSERT OR UPDATE"
    install = _INSTALL.format(
        **names,
        options=options,
        guard=guard,
        events=events,
        version=VERSION,
        label=label,
        label_text=_literal(label),
        table_text=_literal(meta.db_table),
        number_text=_literal(field.column),
        start_at=int(field.start_at),
        backstop=_quote(backstop_name(field)),
        write=write,
    )
    uninstall = (
        f"DROP TRIGGER IF EXISTS {names['name']} ON {names['table']};\n"
        f"DROP FUNCTION IF EXISTS {names['name']}();\n"
    )
    return install, uninstall


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
        return _literal(text)
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
        if connection.vendor != "postgresql":
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


#: Where an installed trigger is: its name, table and number column (in ``render``'s SQL).
_INSTALLED = re.compile(
    r'CREATE CONSTRAINT TRIGGER (?P<name>"(?:[^"]|"")+") AFTER INSERT(?: OR UPDATE)? '
    r'ON (?P<table>"(?:[^"]|"")+")'
    r'.*?WHEN \(NEW\.(?P<number>"(?:[^"]|"")+") IS NULL\)',
    re.DOTALL,
)
#: The end of the function in ``render``'s SQL: the trigger's own statements follow.
_FUNCTION_END = "$docnumbers$;\n"


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
    drop_sql, reverse_sql = "", previous
    now, before = _INSTALLED.search(install), _INSTALLED.search(previous)
    if before is not None and before.group("table", "number") != now.group("table", "number"):
        table, number = now.group("table", "number")
        drop_sql = (
            f"DROP TRIGGER IF EXISTS {before['name']} ON {table};\n"
            f"DROP FUNCTION IF EXISTS {before['name']}();\n"
        )
        function, _, statements = previous.rpartition(_FUNCTION_END)
        statements = statements.replace(f" ON {before['table']}", f" ON {table}")
        statements = statements.replace(
            f"WHEN (NEW.{before['number']} IS NULL)", f"WHEN (NEW.{number} IS NULL)"
        )
        reverse_sql = uninstall + function + _FUNCTION_END + statements
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
        # The trigger reads the format version of docnumbers' migration 0006.
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
