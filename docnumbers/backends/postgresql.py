"""PostgreSQL: upserts, numbers taken by the INSERT, late numbers at COMMIT, snapshots.

Besides the ON CONFLICT counter statements: ``docnumbers_next_value`` (migration
0009) called by a plain field's INSERT; the late-allocation queue (migration
0002's trigger reads it); the backstop trigger of migration 0005's function; and
the SQL of each late field's static COMMIT trigger, which ``triggers`` freezes
in the project's migrations (``late_trigger_sql``). That SQL is PostgreSQL's
whatever database ``makemigrations`` runs with, so it is rendered here with
PostgreSQL's own quoting and longest name, without a connection.
"""

from __future__ import annotations

import re

from django.db.backends.utils import truncate_name

from .base import COUNTER_COLUMNS, COUNTER_TABLE, OnConflictOperations

#: The columns of a late-allocation queue entry (``docnumbers_pendingnumber``).
QUEUE_COLUMNS = (
    "table_name",
    "pk_column",
    "pk_type",
    "pk_value",
    "number_column",
    "display_column",
    "counter_column",
    "prefix_text",
    "suffix_text",
    "padding",
)


class PostgreSQLOperations(OnConflictOperations):
    """PostgreSQL: every fast path docnumbers has."""

    has_commit_hook = True

    def __init__(self, connection):
        super().__init__(connection)
        self.can_number_in_insert = bool(connection.features.can_return_columns_from_insert)

    def snapshot_sql(self) -> str:
        return "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"

    # -- a plain field's number taken by its own INSERT (migration 0009) -----------------------

    def next_value_sql(self) -> str:
        """The INSERT's value for the number column: key, sequence, scope, first value."""
        return "docnumbers_next_value(%s, %s, %s, %s)"

    def has_next_value_sql(self) -> str:
        """Whether the database has that function (migration 0009 applied)."""
        return (
            "SELECT to_regprocedure('docnumbers_next_value(text, text, text, bigint)') IS NOT NULL"
        )

    # -- late allocation: counters made without a lock, the queue, the backstop ---------------

    def _find_or_make_counter(self) -> str:
        """A CTE ``counter(id)`` that creates the counter row if missing, without locking it.
        Parameters: the six values of a new row, then the key again."""
        qn = self.quote_name
        table, key, id_ = qn(COUNTER_TABLE), qn("key"), qn("id")
        columns = ", ".join(qn(c) for c in COUNTER_COLUMNS)
        marks = ", ".join(["%s"] * len(COUNTER_COLUMNS))
        return (
            f"WITH made AS (INSERT INTO {table} ({columns}) VALUES ({marks}) "
            f"ON CONFLICT ({key}) DO NOTHING RETURNING {id_}), "
            f"counter AS (SELECT {id_} FROM made UNION ALL "
            f"SELECT {id_} FROM {table} WHERE {key} = %s LIMIT 1) "
        )

    def counter_id_sql(self) -> str:
        return self._find_or_make_counter() + f"SELECT {self.quote_name('id')} FROM counter"

    def counter_id_by_key_sql(self) -> str:
        qn = self.quote_name
        return f"SELECT {qn('id')} FROM {qn(COUNTER_TABLE)} WHERE {qn('key')} = %s"

    def queue_pending_sql(self) -> str:
        """One queue entry, its counter made if missing: the counter CTE's parameters, then
        the entry's values in QUEUE_COLUMNS order."""
        qn = self.quote_name
        columns = ", ".join(qn(c) for c in ("counter_id", *QUEUE_COLUMNS))
        marks = ", ".join(["%s"] * len(QUEUE_COLUMNS))
        return (
            f"{self._find_or_make_counter()}INSERT INTO {qn('docnumbers_pendingnumber')} "
            f"({columns}) SELECT {qn('id')}, {marks} FROM counter"
        )

    def static_triggers_sql(self) -> str:
        """The static late-numbering triggers installed (``triggers.trigger_name``), by name."""
        return (
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgname LIKE 'docnumbers_late_%%'"
        )

    def drop_trigger_sql(self, name: str, table: str) -> str:
        return f"DROP TRIGGER IF EXISTS {self.name(name)} ON {self.quote_name(table)}"

    def require_number_sql(self, name: str, table: str, column: str, pk: str) -> str:
        """The COMMIT-time backstop on a late field's table (the function is in migration
        0005): a row still without its number at COMMIT, and not queued, is refused."""
        qn = self.quote_name
        return (
            f"{self.drop_trigger_sql(name, table)}; "
            f"CREATE CONSTRAINT TRIGGER {self.name(name)} AFTER INSERT ON {qn(table)} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"WHEN (NEW.{qn(column)} IS NULL) "
            f"EXECUTE FUNCTION docnumbers_require_number({literal(column)}, {literal(pk)})"
        )


# -- the static COMMIT trigger of a late field, frozen in the project's migrations ------------
#
# Rendered without a connection: the text must not depend on the database makemigrations
# runs with. Do not change what it renders without bumping ``triggers.VERSION`` (issue 19).

#: PostgreSQL's longest identifier (``connection.ops.max_name_length()`` there).
MAX_NAME_LENGTH = 63


def identifier(text: str) -> str:
    """``text`` as PostgreSQL keeps it: cut to its longest name with a hash, as Django does."""
    return truncate_name(text, MAX_NAME_LENGTH)


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote(name: str) -> str:
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


def late_trigger_sql(
    *,
    name,
    table,
    pk,
    number,
    pending,
    label,
    start_at,
    backstop,
    version,
    formatted=None,
    condition=None,
) -> tuple[str, str]:
    """The SQL that installs a late field's trigger, and the SQL that removes it.

    Names come unquoted; ``formatted`` is ``(display column, counter column)`` for a
    formatted field, None for a plain one; ``condition`` the SQL of ``issue_when``
    (the row is numbered at COMMIT only where it holds), None without one.
    """
    names = {
        "name": quote(name),
        "table": quote(table),
        "pk": quote(pk),
        "number": quote(number),
        "pending": quote(pending),
    }
    if formatted is None:
        write = _WRITE_PLAIN.format(**names)
    else:
        display, counter = (quote(column) for column in formatted)
        write = _WRITE_FORMATTED.format(**names, display=display, counter=counter)
    options, guard, events = "", "", "INSERT"
    if condition is not None:
        options = _DRAFT_OPTIONS
        guard = _DRAFT_GUARD.format(**names, condition=condition)
        events = "INSERT OR UPDATE"
    install = _INSTALL.format(
        **names,
        options=options,
        guard=guard,
        events=events,
        version=version,
        label=label,
        label_text=literal(label),
        table_text=literal(table),
        number_text=literal(number),
        start_at=int(start_at),
        backstop=quote(backstop),
        write=write,
    )
    uninstall = (
        f"DROP TRIGGER IF EXISTS {names['name']} ON {names['table']};\n"
        f"DROP FUNCTION IF EXISTS {names['name']}();\n"
    )
    return install, uninstall


#: Where an installed trigger is: its name, table and number column (in ``_INSTALL``'s SQL).
_INSTALLED = re.compile(
    r'CREATE CONSTRAINT TRIGGER (?P<name>"(?:[^"]|"")+") AFTER INSERT(?: OR UPDATE)? '
    r'ON (?P<table>"(?:[^"]|"")+")'
    r'.*?WHEN \(NEW\.(?P<number>"(?:[^"]|"")+") IS NULL\)',
    re.DOTALL,
)
#: The end of the function in ``_INSTALL``'s SQL: the trigger's own statements follow.
_FUNCTION_END = "$docnumbers$;\n"


def moved_trigger_sql(install: str, uninstall: str, previous: str) -> tuple[str, str]:
    """``(drop_sql, reverse_sql)`` for replacing the trigger ``previous`` installed by
    ``install``: when the table or the number column moved, the previous trigger is on
    the moved table under its old name; it is dropped first, and the reverse puts it
    back on the table as it is then. Otherwise nothing to drop, and ``previous`` reverses."""
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
    return drop_sql, reverse_sql
