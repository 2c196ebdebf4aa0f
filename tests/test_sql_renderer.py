"""The SQL renderer (docnumbers' migration 0002, PostgreSQL) equals the Python one, byte for
byte (#19): templates, numbers, periods, scopes and sequence keys drawn by Hypothesis.

Late numbering at COMMIT is PostgreSQL's alone, and so are these functions: on the other
databases the test asserts that the migration installed nothing there.
"""

import datetime as dt
import os

import pytest
from django.db import connection, models, transaction
from hypothesis import example, given, settings
from hypothesis import strategies as st

from docnumbers import formatting, keys, triggers
from docnumbers.backends import postgresql
from docnumbers.exceptions import TemplateError

pytestmark = pytest.mark.django_db

POSTGRESQL = connection.vendor == "postgresql"
FUNCTIONS = [
    "docnumbers_render_template",
    "docnumbers_render_number",
    "docnumbers_render",
    "docnumbers_period_key",
    "docnumbers_scope_text",
    "docnumbers_key_text",
]

#: Text as a database stores it: no NUL, no lone surrogate.
TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
#: Literal text a template may hold (NumberFormat validates it before it is stored).
LITERAL = st.text(
    st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="{}"), max_size=6
).filter(str.isprintable)
PART = st.one_of(
    LITERAL,
    st.sampled_from(["{YYYY}", "{YY}", "{MM}", "{DD}", "{FY}", "{FYE}", "{{", "}}"]),
)
TEMPLATE = st.lists(PART, max_size=6).map("".join).filter(lambda t: len(t) <= 50)
DAY = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
MONTH = st.integers(1, 12)
NUMBER = st.integers(-(2**63), 2**63 - 1)


def sql(function, *args):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}({', '.join(['%s'] * len(args))})", list(args))
        return cursor.fetchone()[0]


def python_or_error(call, *args):
    try:
        return call(*args)
    except TemplateError:
        return TemplateError


def sql_or_error(function, *args):
    try:
        with transaction.atomic():
            return sql(function, *args)
    except Exception as exc:  # the database's error, for a date Python refuses too
        assert "outside the calendar" in str(exc), exc
        return TemplateError


def test_the_sql_renderer_is_installed_where_late_numbering_is():
    with connection.cursor() as cursor:
        if not POSTGRESQL:
            # No COMMIT trigger to use it: the migration installs nothing here.
            tables = connection.introspection.table_names(cursor)
            assert "docnumbers_counter" in tables
            return
        cursor.execute(
            "SELECT proname FROM pg_proc WHERE proname = ANY(%s) ORDER BY proname", [FUNCTIONS]
        )
        assert [name for (name,) in cursor.fetchall()] == sorted(FUNCTIONS)


@settings(max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 300)), deadline=None)
@given(template=TEMPLATE, day=DAY, first_month=MONTH)
def test_a_template_renders_the_same_in_sql(template, day, first_month):
    if not POSTGRESQL:
        return
    expected = python_or_error(formatting._render_template, template, day, first_month)
    assert sql_or_error("docnumbers_render_template", template, day, first_month) == expected


#: Templates NumberFormat refuses too: stray braces, unknown or unclosed tokens.
ROUGH = st.lists(
    st.one_of(PART, st.sampled_from(["{", "}", "{Q}", "{yyyy}", "{YYYY", "YY}", "{}"])),
    max_size=6,
).map("".join)


def sql_or_refused(function, *args):
    """The SQL function's result, or TemplateError for whatever it raised."""
    try:
        with transaction.atomic():
            return sql(function, *args)
    except Exception:  # noqa: BLE001 - the database's error, compared with Python's refusal
        return TemplateError


@settings(max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 300)), deadline=None)
@given(template=ROUGH, day=DAY, first_month=MONTH)
def test_a_template_python_refuses_is_refused_in_sql_and_any_other_renders_the_same(
    template, day, first_month
):
    if not POSTGRESQL:
        return
    expected = python_or_error(formatting._render_template, template, day, first_month)
    assert sql_or_refused("docnumbers_render_template", template, day, first_month) == expected


@settings(max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 300)), deadline=None)
@given(number=NUMBER, padding=st.integers(0, 18))
def test_a_number_renders_the_same_in_sql(number, padding):
    if not POSTGRESQL:
        return
    assert sql("docnumbers_render_number", number, padding) == formatting.render_number(
        number, padding
    )


@settings(max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 200)), deadline=None)
@given(
    prefix=TEMPLATE,
    suffix=TEMPLATE,
    padding=st.integers(0, 18),
    day=DAY,
    number=NUMBER,
    first_month=MONTH,
)
def test_a_whole_number_renders_the_same_in_sql(prefix, suffix, padding, day, number, first_month):
    if not POSTGRESQL:
        return
    args = (prefix, suffix, padding, day, number, first_month)
    assert sql_or_error("docnumbers_render", *args) == python_or_error(formatting.render, *args)


@settings(max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 300)), deadline=None)
@given(day=DAY, reset=st.sampled_from(formatting.Reset.ALL), first_month=MONTH)
# A fiscal year outside the calendar (year 0): both refuse it.
@example(day=dt.date(1, 1, 1), reset="fiscal", first_month=2)
@example(day=dt.date(9999, 12, 31), reset="fiscal", first_month=4)
def test_a_period_key_is_the_same_in_sql(day, reset, first_month):
    if not POSTGRESQL:
        return
    expected = python_or_error(formatting.period_key, day, reset, first_month)
    assert sql_or_error("docnumbers_period_key", day, reset, first_month) == expected


SCOPE = st.lists(
    st.tuples(st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True), st.none() | TEXT),
    max_size=3,
    unique_by=lambda pair: pair[0],
)


@settings(max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 300)), deadline=None)
@given(
    sequence=st.from_regex(r"[a-z_]{1,20}\.[a-z_]{1,20}\.[a-z_]{1,20}", fullmatch=True) | TEXT,
    series=st.none() | st.integers(1, 2**40),
    scope=SCOPE,
    period=st.sampled_from(["", "2026", "2026-03", "2026-03-14", "FY2025-04"]),
)
def test_scope_and_key_texts_are_the_same_in_sql(sequence, series, scope, period):
    if not POSTGRESQL:
        return
    names, values = [n for n, _ in scope], [v for _, v in scope]
    scope_text = sql("docnumbers_scope_text", names, values)
    assert scope_text == keys.scope_text(tuple(scope))
    expected = keys.SequenceKey(sequence, series, tuple(scope), period).text
    assert sql("docnumbers_key_text", sequence, series, scope_text, period) == expected


# -- the same functions as the COMMIT trigger writes them inline (backends.postgresql.inline) -


def inline(name, **typed):
    """The trigger's inline expression ``name``, its arguments (value, SQL type) bound."""
    text = postgresql.inline(name, **{k: f"(@{k}@)::{t}" for k, (_, t) in typed.items()})
    text = text.replace("%", "%%")  # a modulo, not a placeholder
    for k in typed:
        text = text.replace(f"@{k}@", f"%({k})s")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT {text}", {k: value for k, (value, _) in typed.items()})
        return cursor.fetchone()[0]


def inline_or_refused(name, **typed):
    try:
        return inline(name, **typed)
    except Exception:  # noqa: BLE001 - the database's error, compared with Python's refusal
        return TemplateError


@settings(max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 300)), deadline=None)
@given(day=DAY, reset=st.sampled_from(formatting.Reset.ALL), first_month=MONTH)
# A fiscal year outside the calendar (year 0): both refuse it.
@example(day=dt.date(1, 1, 1), reset="fiscal", first_month=2)
@example(day=dt.date(9999, 12, 31), reset="fiscal", first_month=4)
def test_the_triggers_inline_period_key_is_pythons(day, reset, first_month):
    if not POSTGRESQL:
        return
    got = inline_or_refused(
        "period_key", day=(day, "date"), reset=(reset, "text"), first_month=(first_month, "int")
    )
    assert got == python_or_error(formatting.period_key, day, reset, first_month)


@settings(max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 300)), deadline=None)
@given(
    sequence=st.from_regex(r"[a-z_]{1,20}\.[a-z_]{1,20}\.[a-z_]{1,20}", fullmatch=True)
    | TEXT
    | st.text(min_size=150, max_size=300),
    series=st.none() | st.integers(1, 2**63 - 1),
    scope=SCOPE,
    period=st.sampled_from(["", "2026", "2026-03", "2026-03-14", "FY2025-04"]),
)
def test_the_triggers_inline_key_is_pythons_short_or_long(sequence, series, scope, period):
    if not POSTGRESQL or "\x00" in sequence:
        return
    scope_text = keys.scope_text(tuple(scope))
    got = inline(
        "key_text",
        sequence=(sequence, "text"),
        series=(series, "bigint"),
        scope=(scope_text, "text"),
        period=(period, "text"),
    )
    assert got == keys.SequenceKey(sequence, series, tuple(scope), period).text


@settings(max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 300)), deadline=None)
@given(number=NUMBER, padding=st.integers(0, 18))
def test_the_triggers_inline_number_is_pythons(number, padding):
    if not POSTGRESQL:
        return
    got = inline("render_number", number=(number, "bigint"), padding=(padding, "int"))
    assert got == formatting.render_number(number, padding)


@settings(max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 300)), deadline=None)
@given(template=ROUGH | LITERAL, day=DAY, first_month=MONTH)
def test_the_triggers_inline_template_is_pythons(template, day, first_month):
    if not POSTGRESQL:
        return
    got = inline_or_refused(
        "render_template",
        template=(template, "text"),
        day=(day, "date"),
        first_month=(first_month, "int"),
    )
    assert got == python_or_error(formatting._render_template, template, day, first_month)


# -- the scope values a late field's trigger reads from its row (triggers.scope_sql) ---------

#: (Django field, values Hypothesis draws) for each type a late field may be scoped by.
SCOPE_KINDS = {
    "integer": (lambda: models.BigIntegerField(null=True), st.integers(-(2**63), 2**63 - 1)),
    "text": (lambda: models.TextField(null=True), TEXT),
    "date": (lambda: models.DateField(null=True), DAY),
    "boolean": (lambda: models.BooleanField(null=True), st.booleans()),
    "uuid": (lambda: models.UUIDField(null=True), st.uuids()),
}


def scope_field(kind):
    field = SCOPE_KINDS[kind][0]()
    field.set_attributes_from_name(f"scope_{kind}")
    return field


@settings(max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 200)), deadline=None)
@given(
    st.fixed_dictionaries(
        {kind: st.one_of(st.none(), values) for kind, (_, values) in SCOPE_KINDS.items()}
    )
)
def test_the_trigger_reads_each_scope_value_as_python_writes_it(values):
    fields = [scope_field(kind) for kind in SCOPE_KINDS]
    row = [values[kind] for kind in SCOPE_KINDS]
    expected = keys.scope_text(keys.scope_from_values(fields, row))
    if not POSTGRESQL:
        # No trigger reads it here; the expressions are still rendered, one per field.
        assert [triggers.scope_sql(f) for f in fields][2] == "to_char(\"scope_date\", 'YYYY-MM-DD')"
        return
    columns = ", ".join(f'"{f.column}" {f.db_type(connection)}' for f in fields)
    names = ", ".join(f"'{f.name}'" for f in fields)
    expressions = ", ".join(triggers.scope_sql(f) for f in fields)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS scope_values ({columns})")
        cursor.execute("DELETE FROM scope_values")
        marks = ", ".join(["%s"] * len(fields))
        cursor.execute(f"INSERT INTO scope_values VALUES ({marks})", row)
        cursor.execute(
            f"SELECT docnumbers_scope_text(ARRAY[{names}]::text[], ARRAY[{expressions}]::text[])"
            " FROM scope_values"
        )
        assert cursor.fetchone()[0] == expected


def test_a_scope_the_trigger_cannot_write_as_python_is_refused_by_name():
    for field in (models.FloatField(), models.DateTimeField(), models.JSONField()):
        field.set_attributes_from_name("scope")
        field.model = type("M", (), {"_meta": type("Meta", (), {"label": "app.M"})})
        with pytest.raises(triggers.Unsupported, match="app.M.scope is a"):
            triggers.scope_sql(field)
