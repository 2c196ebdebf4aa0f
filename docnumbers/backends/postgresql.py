"""PostgreSQL: upserts, numbers taken by the INSERT, late numbers at COMMIT, snapshots.

Besides the ON CONFLICT counter statements: ``docnumbers_next_value`` (docnumbers'
initial migration) called by a plain field's INSERT, and the SQL of each late
field's COMMIT trigger, which ``triggers`` freezes in the project's migrations
(``late_trigger_sql``). The trigger numbers the row from its own columns as they
are at COMMIT, with the SQL renderer of the initial migration
(``docnumbers_render``, ``docnumbers_period_key``, ``docnumbers_key_text``). That
SQL is PostgreSQL's whatever database ``makemigrations`` runs with, so it is
rendered here with PostgreSQL's own quoting and longest name, without a connection.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap

from django.db.backends.utils import truncate_name

from .base import OnConflictOperations


class PostgreSQLOperations(OnConflictOperations):
    """PostgreSQL: every fast path docnumbers has."""

    has_commit_hook = True

    def __init__(self, connection):
        super().__init__(connection)
        self.can_number_in_insert = bool(connection.features.can_return_columns_from_insert)

    def snapshot_sql(self) -> str:
        return "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"

    # -- a plain field's number taken by its own INSERT (docnumbers' initial migration) ---------

    def next_value_sql(self) -> str:
        """The INSERT's value for the number column: key, sequence, scope, first value."""
        return "docnumbers_next_value(%s, %s, %s, %s)"

    def has_next_value_sql(self) -> str:
        """Whether the database has that function (docnumbers' initial migration applied)."""
        return (
            "SELECT to_regprocedure('docnumbers_next_value(text, text, text, bigint)') IS NOT NULL"
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


#: The renderer's small functions as the trigger writes them inline: calling a PL/pgSQL
#: function costs more than evaluating its expression, and a COMMIT pays it for every
#: row. The common cases are computed in place; the others (a fiscal or daily period, a
#: key past 255 characters, a negative number, a template with a fiscal token or an
#: escaped brace) still call the function of docnumbers' migration 0002.
#: ``inline(name, **sql)`` fills them in; tests/test_sql_renderer.py proves each equal
#: to Python's renderer.
_INLINE = {
    "period_key": """CASE %(reset)s
        WHEN 'never' THEN ''
        WHEN 'yearly' THEN lpad(extract(year FROM %(day)s)::integer::text, 4, '0')
        WHEN 'monthly' THEN lpad(extract(year FROM %(day)s)::integer::text, 4, '0') || '-'
            || lpad(extract(month FROM %(day)s)::integer::text, 2, '0')
        ELSE docnumbers_period_key(%(day)s, %(reset)s, %(first_month)s) END""",
    "key_text": """CASE WHEN length(%(sequence)s) + 50 + length(%(scope)s) <= 255
        THEN %(sequence)s
            || CASE WHEN %(series)s IS NULL THEN '' ELSE '#' || %(series)s::text END
            || CASE WHEN %(scope)s = '' THEN '' ELSE '|' || %(scope)s END
            || CASE WHEN COALESCE(%(period)s, '') = '' THEN '' ELSE '@' || %(period)s END
        ELSE docnumbers_key_text(%(sequence)s, %(series)s, %(scope)s, %(period)s) END""",
    "render_number": """CASE WHEN %(number)s >= 0
        THEN lpad(%(number)s::text, greatest(%(padding)s, length(%(number)s::text)), '0')
        ELSE docnumbers_render_number(%(number)s, %(padding)s) END""",
    "render_template": r"""CASE WHEN strpos(%(template)s, '{') = 0 AND strpos(%(template)s, '}') = 0
        THEN %(template)s
        WHEN %(template)s ~ '^([^{}]|\{(YYYY|YY|MM|DD)\})*$'
        THEN replace(replace(replace(replace(%(template)s,
            '{YYYY}', lpad(extract(year FROM %(day)s)::integer::text, 4, '0')),
            '{YY}', lpad((extract(year FROM %(day)s)::integer %% 100)::text, 2, '0')),
            '{MM}', lpad(extract(month FROM %(day)s)::integer::text, 2, '0')),
            '{DD}', lpad(extract(day FROM %(day)s)::integer::text, 2, '0'))
        ELSE docnumbers_render_template(%(template)s, %(day)s, %(first_month)s) END""",
}


def inline(name: str, **sql: str) -> str:
    """The SQL expression of the renderer function ``name`` (``period_key``,
    ``key_text``, ``render_number``, ``render_template``), its arguments given as SQL."""
    return _INLINE[name] % sql


#: The trigger's function and the trigger, for ``str.format`` (``late_trigger_sql``).
#: Every variable starts with ``dn_``, so that no column of the project's table (which
#: wins, ``use_column``) hides one.
_INSTALL = """-- docnumbers late numbering, version {version}: {label}
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql AS $docnumbers$
#variable_conflict use_column
DECLARE
    dn_day date;
    dn_values text[];
    dn_series bigint;
    dn_code text;
    dn_prefix text := '';
    dn_suffix text := '';
    dn_padding integer := 0;
    dn_reset text := 'never';
    dn_first_month integer := 1;
    dn_scope text := '';
    dn_period text := '';
    dn_key text;
    dn_counter bigint;
    dn_issued bigint;
BEGIN
    -- The row as it is now, at COMMIT: a save since its INSERT may have changed its
    -- date, scope or series. Deleted, numbered already, or a draft: nothing to issue.
    {read}
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
{series}{scope}    dn_key := {key};
    -- The counter row's lock is held from here to the end of COMMIT. Most rows find
    -- their counter (a plain UPDATE); a new key's first row creates it.
    UPDATE docnumbers_counter
        SET value = CASE WHEN value < 9223372036854775807 THEN value + 1 END
        WHERE key = dn_key
        RETURNING id, value INTO dn_counter, dn_issued;
    IF NOT FOUND THEN
        INSERT INTO docnumbers_counter AS c
                (key, value, sequence, scope, period, number_format_id)
            VALUES (dn_key, {start_at}, {label_text}, dn_scope, dn_period, dn_series)
            ON CONFLICT (key) DO UPDATE
                SET value = CASE WHEN c.value < 9223372036854775807 THEN c.value + 1 END
            RETURNING c.id, c.value INTO dn_counter, dn_issued;
    END IF;
    {write}
    RETURN NULL;
END;
$docnumbers$;
DROP TRIGGER IF EXISTS {name} ON {table};
CREATE CONSTRAINT TRIGGER {name} AFTER {events} ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.{number} IS NULL)
    EXECUTE FUNCTION {name}();
"""

#: The series of a formatted field: the first active one of the code (the default),
#: created from the declared defaults when the code has none
#: (``NumberFormatQuerySet.default_series``). Blocks without indentation, for
#: ``_series_sql`` to nest.
_FIND_DEFAULT = """SELECT id, code, prefix, suffix, padding, reset, fiscal_year_start_month
    INTO dn_series, dn_code, dn_prefix, dn_suffix, dn_padding, dn_reset, dn_first_month
    FROM docnumbers_numberformat WHERE code = {code} AND active
    ORDER BY position, id LIMIT 1;"""
_DEFAULT_SERIES = """{find}
IF NOT FOUND THEN
    IF EXISTS (SELECT 1 FROM docnumbers_numberformat WHERE code = {code}) THEN
        RAISE EXCEPTION 'docnumbers: every series of the number format % is inactive', {code}
            USING HINT = 'Activate one in the admin (Number formats).',
                  ERRCODE = 'no_data_found';
    END IF;
{seed}
END IF;"""
_SEED = """INSERT INTO docnumbers_numberformat (code, name, prefix, suffix, padding, reset,
        fiscal_year_start_month, active, position, seeded_for)
    VALUES ({code}, '', {prefix}, {suffix}, {padding}, {reset}, {first_month}, true, 0, {code})
    ON CONFLICT (seeded_for) DO NOTHING;
{find}
IF NOT FOUND THEN
    RAISE EXCEPTION 'docnumbers: the number format % was changed or deactivated', {code}
        USING HINT = 'Activate a series of that code in the admin.',
              ERRCODE = 'no_data_found';
END IF;"""
_NO_SEED = """RAISE EXCEPTION 'docnumbers: there is no number format with the code %', {code}
    USING HINT = 'Add one in the admin (Number formats), or declare its defaults: '
                 'format=Format(...).',
          ERRCODE = 'no_data_found';"""
#: The row's own series (``series_field``) when it names one, else the default.
_OWN_SERIES = """IF dn_series IS NOT NULL THEN
    SELECT id, code, prefix, suffix, padding, reset, fiscal_year_start_month
        INTO dn_series, dn_code, dn_prefix, dn_suffix, dn_padding, dn_reset, dn_first_month
        FROM docnumbers_numberformat WHERE id = dn_series;
    IF dn_code IS DISTINCT FROM {code} THEN
        RAISE EXCEPTION 'docnumbers: the series % belongs to the code %, not %',
                dn_series, dn_code, {code}
            USING HINT = 'Pick a series of that code for ' || {label_text} || '.',
                  ERRCODE = 'check_violation';
    END IF;
ELSE
{default}
END IF;"""
#: Then the document's day, refused outside ``DOCNUMBERS_DATE_RANGE``, its period, and the
#: rendered prefix and suffix (``docnumbers_render`` in two halves, around the lock).
_PERIOD = """IF extract(year FROM dn_day) NOT BETWEEN {first_year} AND {last_year} THEN
    RAISE EXCEPTION 'docnumbers: % is outside the years documents are numbered for (% to %)',
            dn_day, {first_year}, {last_year}
        USING HINT = 'Correct the date of the row ' || NEW.{pk} || ' of ' || {table_text} || '.',
              ERRCODE = 'datetime_field_overflow';
END IF;
dn_period := {period};
-- The text around the number, rendered before the counter's lock is taken.
dn_prefix := {prefix};
dn_suffix := {suffix};"""
_SCOPE = "    dn_scope := docnumbers_scope_text(ARRAY[{names}]::text[], dn_values);\n"

#: A formatted field's number, text and counter; a plain field writes the number. A row
#: without a series keeps none (empty means the default series, as at save time).
_WRITE_FORMATTED = """UPDATE {table} SET {number} = dn_issued,
        {display} = dn_prefix || {rendered} || dn_suffix,
        {counter} = dn_counter
        WHERE {pk} = NEW.{pk};"""
_WRITE_PLAIN = "UPDATE {table} SET {number} = dn_issued WHERE {pk} = NEW.{pk};"


@dataclasses.dataclass(frozen=True)
class LateFormat:
    """What a formatted late field's trigger needs beyond a plain one's.

    Columns come unquoted; ``day`` is the SQL of the document's day (a column
    expression); ``defaults`` the declared ``Format`` (None: none declared);
    ``years`` the plausible years (``DOCNUMBERS_DATE_RANGE``)."""

    display: str
    counter: str
    code: str
    day: str
    years: tuple[int, int]
    series: str | None = None
    defaults: object = None


def late_trigger_sql(
    *,
    name,
    table,
    pk,
    number,
    label,
    start_at,
    version,
    scope=(),
    formatted: LateFormat | None = None,
    condition=None,
) -> tuple[str, str]:
    """The SQL that installs a late field's trigger, and the SQL that removes it.

    Names come unquoted; ``scope`` is ``[(field name, SQL of its value as text)]``
    (``keys.scope_of``'s form); ``formatted`` describes a formatted field (None: a
    plain one); ``condition`` the SQL of ``issue_when`` (the row is numbered at COMMIT
    only where it holds), None without one.
    """
    names = {"name": quote(name), "table": quote(table), "pk": quote(pk), "number": quote(number)}
    label_text = literal(label)
    read = _read_sql(names, scope, formatted, condition)
    series = ""
    if formatted is not None:
        series = _series_sql(formatted, names, label_text, table)
    scope_sql = ""
    if scope:
        scope_sql = _SCOPE.format(names=", ".join(literal(n) for n, _ in scope))
    install = _INSTALL.format(
        **names,
        version=version,
        label=label,
        label_text=label_text,
        read=read,
        series=series,
        scope=scope_sql,
        start_at=int(start_at),
        key=inline(
            "key_text",
            sequence=label_text,
            series="dn_series",
            scope="dn_scope",
            period="dn_period",
        ),
        write=_write_sql(names, formatted),
        events="INSERT" if condition is None else "INSERT OR UPDATE",
    )
    uninstall = (
        f"DROP TRIGGER IF EXISTS {names['name']} ON {names['table']};\n"
        f"DROP FUNCTION IF EXISTS {names['name']}();\n"
    )
    return install, uninstall


def _write_sql(names, formatted) -> str:
    """The UPDATE that gives the row its number (and a formatted field's text and counter)."""
    if formatted is None:
        return _WRITE_PLAIN.format(**names)
    return _WRITE_FORMATTED.format(
        **names,
        display=quote(formatted.display),
        counter=quote(formatted.counter),
        rendered=inline("render_number", number="dn_issued", padding="dn_padding"),
    )


def _read_sql(names, scope, formatted, condition) -> str:
    """The statement that reads what the row holds at COMMIT into the trigger's variables
    (or only finds it: a plain field without scope needs nothing from it)."""
    selected, into = [], []
    if formatted is not None:
        selected.append(formatted.day)
        into.append("dn_day")
    if scope:
        selected.append(f"ARRAY[{', '.join(sql for _, sql in scope)}]::text[]")
        into.append("dn_values")
    if formatted is not None and formatted.series is not None:
        selected.append(quote(formatted.series))
        into.append("dn_series")
    where = f"{names['pk']} = NEW.{names['pk']} AND {names['number']} IS NULL"
    if condition is not None:
        where += f"\n        AND ({condition})"
    if not selected:
        return f"PERFORM 1 FROM {names['table']} WHERE {where};"
    return (
        f"SELECT {', '.join(selected)}\n        INTO {', '.join(into)}\n"
        f"        FROM {names['table']} WHERE {where};"
    )


def _series_sql(formatted: LateFormat, names, label_text, table) -> str:
    """The statements that choose the series and compute the period, indented for
    ``_INSTALL``'s body."""
    code = literal(formatted.code)
    find = _FIND_DEFAULT.format(code=code)
    defaults = formatted.defaults
    if defaults is None:
        seed = _NO_SEED.format(code=code)
    else:
        seed = _SEED.format(
            code=code,
            find=find,
            prefix=literal(defaults.prefix),
            suffix=literal(defaults.suffix),
            padding=int(defaults.padding),
            reset=literal(defaults.reset),
            first_month=int(defaults.fiscal_year_start_month),
        )
    series = _DEFAULT_SERIES.format(find=find, code=code, seed=textwrap.indent(seed, "    "))
    if formatted.series is not None:
        series = _OWN_SERIES.format(
            code=code, label_text=label_text, default=textwrap.indent(series, "    ")
        )
    first, last = formatted.years
    on_day = {"day": "dn_day", "first_month": "dn_first_month"}
    period = _PERIOD.format(
        **names,
        table_text=literal(table),
        first_year=int(first),
        last_year=int(last),
        period=inline("period_key", reset="dn_reset", **on_day),
        prefix=inline("render_template", template="dn_prefix", **on_day),
        suffix=inline("render_template", template="dn_suffix", **on_day),
    )
    return textwrap.indent(f"{series}\n{period}\n", "    ")


def installed_name(install: str) -> str:
    """The trigger name (unquoted) that ``install`` (``late_trigger_sql``'s SQL) creates."""
    return _INSTALLED.search(install)["name"][1:-1].replace('""', '"')


def late_trigger_removal_sql(name) -> str:
    """The SQL that removes a late trigger wherever its table is (its function, cascading)."""
    return f"DROP FUNCTION IF EXISTS {quote(name)}() CASCADE;\n"


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
