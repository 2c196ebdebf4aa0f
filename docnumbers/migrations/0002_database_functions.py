from django.db import migrations

# Frozen with this migration: do not edit. A change ships as a new migration.
#
# What docnumbers needs in the database beyond its tables:
#
# - MariaDB/MySQL: the guard rows a transaction locks while it creates a missing counter
#   row (``backends.mysql``). A plain table, not a model, so that flush and
#   TransactionTestCase never empty it.
# - PostgreSQL: ``docnumbers_next_value``, which a plain field's INSERT calls to take its
#   number in the same statement (``VALUES (..., docnumbers_next_value(...)) RETURNING``).
#   Like the counter statement, it moves the counter row of the key (creating it at
#   first_value) and keeps it locked until COMMIT.
# - PostgreSQL: the template language, the period key and the sequence key of
#   ``docnumbers.formatting`` and ``docnumbers.keys`` as SQL functions, with which a late
#   field's COMMIT trigger numbers and renders a row from its own columns (``triggers``).
#   tests/test_sql_renderer.py proves with Hypothesis that each returns, byte for byte,
#   what the Python function returns, and raises where Python raises. All are PL/pgSQL:
#   PostgreSQL keeps their plans for the session, where an SQL-language function called
#   from a trigger is planned again in every transaction (a millisecond per COMMIT).

GUARD_BUCKETS = 1024

NEXT_VALUE_SQL = """
CREATE OR REPLACE FUNCTION docnumbers_next_value(
    counter_key text, sequence_label text, scope_text text, first_value bigint
) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $docnumbers$
DECLARE
    issued bigint;
BEGIN
    UPDATE docnumbers_counter SET value = value + 1
        WHERE key = counter_key AND value < 9223372036854775807
        RETURNING value INTO issued;
    IF FOUND THEN
        RETURN issued;
    END IF;
    -- Not moved: the counter is at the end of the range, or missing. (A counter another
    -- transaction is creating is not visible yet: the INSERT below waits for it.)
    PERFORM 1 FROM docnumbers_counter
        WHERE key = counter_key AND value >= 9223372036854775807;
    IF FOUND THEN
        RAISE EXCEPTION 'docnumbers: the counter % is at the end of the 64-bit range and '
                        'cannot issue another number', counter_key
            USING HINT = 'Start a new sequence (another start_at or scope) instead.',
                  ERRCODE = 'numeric_value_out_of_range';
    END IF;
    -- A new key. Another transaction may create it meanwhile: then this one waits
    -- for it and moves the counter it made.
    INSERT INTO docnumbers_counter AS c (key, value, sequence, scope, period, number_format_id)
        VALUES (counter_key, first_value, sequence_label, scope_text, '', NULL)
        ON CONFLICT (key) DO UPDATE
            SET value = CASE WHEN c.value < 9223372036854775807 THEN c.value + 1 END
        RETURNING c.value INTO issued;
    RETURN issued;
END;
$docnumbers$;
"""

RENDERER_SQL = r"""
CREATE OR REPLACE FUNCTION docnumbers_fiscal_year(on_day date, first_month integer)
RETURNS integer LANGUAGE plpgsql IMMUTABLE STRICT AS $docnumbers$
BEGIN
    RETURN CASE WHEN extract(month FROM on_day) >= first_month
                THEN extract(year FROM on_day)::integer
                ELSE extract(year FROM on_day)::integer - 1 END;
END;
$docnumbers$;

CREATE OR REPLACE FUNCTION docnumbers_calendar_year(year integer, on_day date, first_month integer)
RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $docnumbers$
BEGIN
    IF year < 1 OR year > 9999 THEN
        RAISE EXCEPTION 'docnumbers: the date % falls in a fiscal year (first month %) '
                        'outside the calendar', on_day, first_month
            USING ERRCODE = 'datetime_field_overflow';
    END IF;
    RETURN lpad(year::text, 4, '0');
END;
$docnumbers$;

CREATE OR REPLACE FUNCTION docnumbers_render_template(
    template text, on_day date, first_month integer
) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $docnumbers$
DECLARE
    rendered text := '';
    at integer := 1;
    size integer := length(template);
    letter text;
    closing integer;
    token text;
    fiscal integer;
BEGIN
    -- Most templates hold tokens and literal text only: replace the tokens. Escaped
    -- braces, or a brace left over (an unknown token), take the loop below.
    IF strpos(template, '{{') = 0 AND strpos(template, '}}') = 0 THEN
        rendered := replace(replace(replace(replace(template,
            '{YYYY}', lpad(extract(year FROM on_day)::integer::text, 4, '0')),
            '{YY}', lpad((extract(year FROM on_day)::integer % 100)::text, 2, '0')),
            '{MM}', lpad(extract(month FROM on_day)::integer::text, 2, '0')),
            '{DD}', lpad(extract(day FROM on_day)::integer::text, 2, '0'));
        IF strpos(rendered, '{FY') > 0 THEN
            fiscal := docnumbers_fiscal_year(on_day, first_month);
            IF strpos(rendered, '{FYE}') > 0 THEN
                rendered := replace(rendered, '{FYE}', docnumbers_calendar_year(
                    fiscal + CASE WHEN first_month = 1 THEN 0 ELSE 1 END, on_day, first_month));
            END IF;
            IF strpos(rendered, '{FY}') > 0 THEN
                rendered := replace(rendered, '{FY}',
                                    docnumbers_calendar_year(fiscal, on_day, first_month));
            END IF;
        END IF;
        IF strpos(rendered, '{') = 0 AND strpos(rendered, '}') = 0 THEN
            RETURN rendered;
        END IF;
        rendered := '';
    END IF;
    WHILE at <= size LOOP
        letter := substr(template, at, 1);
        IF letter = '{' AND substr(template, at + 1, 1) = '{' THEN
            rendered := rendered || '{';
            at := at + 2;
        ELSIF letter = '}' AND substr(template, at + 1, 1) = '}' THEN
            rendered := rendered || '}';
            at := at + 2;
        ELSIF letter = '{' THEN
            closing := strpos(substr(template, at + 1), '}');
            IF closing = 0 THEN
                RAISE EXCEPTION 'docnumbers: unbalanced { in the template %', template
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            token := substr(template, at + 1, closing - 1);
            fiscal := docnumbers_fiscal_year(on_day, first_month);
            rendered := rendered || CASE token
                WHEN 'YYYY' THEN lpad(extract(year FROM on_day)::integer::text, 4, '0')
                WHEN 'YY' THEN lpad((extract(year FROM on_day)::integer % 100)::text, 2, '0')
                WHEN 'MM' THEN lpad(extract(month FROM on_day)::integer::text, 2, '0')
                WHEN 'DD' THEN lpad(extract(day FROM on_day)::integer::text, 2, '0')
                WHEN 'FY' THEN docnumbers_calendar_year(fiscal, on_day, first_month)
                WHEN 'FYE' THEN docnumbers_calendar_year(
                    fiscal + CASE WHEN first_month = 1 THEN 0 ELSE 1 END, on_day, first_month)
            END;
            IF token NOT IN ('YYYY', 'YY', 'MM', 'DD', 'FY', 'FYE') THEN
                RAISE EXCEPTION 'docnumbers: unknown token {%} in the template %', token, template
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            at := at + closing + 1;
        ELSIF letter = '}' THEN
            RAISE EXCEPTION 'docnumbers: unbalanced } in the template %', template
                USING ERRCODE = 'invalid_parameter_value';
        ELSE
            rendered := rendered || letter;
            at := at + 1;
        END IF;
    END LOOP;
    RETURN rendered;
END;
$docnumbers$;

CREATE OR REPLACE FUNCTION docnumbers_render_number(number bigint, padding integer)
RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $docnumbers$
DECLARE
    digits text := ltrim(number::text, '-');
BEGIN
    RETURN CASE WHEN number < 0 THEN '-' ELSE '' END
        || lpad(digits, greatest(padding, length(digits)), '0');
END;
$docnumbers$;

CREATE OR REPLACE FUNCTION docnumbers_render(
    prefix text, suffix text, padding integer, on_day date, number bigint, first_month integer
) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $docnumbers$
BEGIN
    RETURN docnumbers_render_template(prefix, on_day, first_month)
        || docnumbers_render_number(number, padding)
        || docnumbers_render_template(suffix, on_day, first_month);
END;
$docnumbers$;

CREATE OR REPLACE FUNCTION docnumbers_period_key(on_day date, reset text, first_month integer)
RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $docnumbers$
DECLARE
    y text := lpad(extract(year FROM on_day)::integer::text, 4, '0');
    m text := lpad(extract(month FROM on_day)::integer::text, 2, '0');
BEGIN
    RETURN CASE reset
        WHEN 'never' THEN ''
        WHEN 'yearly' THEN y
        WHEN 'monthly' THEN y || '-' || m
        WHEN 'daily' THEN y || '-' || m || '-'
            || lpad(extract(day FROM on_day)::integer::text, 2, '0')
        -- A fiscal year outside the calendar (year 0) is refused, as in Python.
        WHEN 'fiscal' THEN 'FY'
            || docnumbers_calendar_year(docnumbers_fiscal_year(on_day, first_month),
                                        on_day, first_month)
            || '-' || lpad(first_month::text, 2, '0')
    END;
END;
$docnumbers$;

CREATE OR REPLACE FUNCTION docnumbers_scope_text(names text[], vals text[])
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $docnumbers$
DECLARE
    pairs text := '';
BEGIN
    IF COALESCE(cardinality(names), 0) = 0 THEN
        RETURN '';
    END IF;
    FOR i IN 1 .. cardinality(names) LOOP
        pairs := pairs || CASE WHEN i > 1 THEN ',' ELSE '' END
            || to_json(names[i])::text || ':' || COALESCE(to_json(vals[i])::text, 'null');
    END LOOP;
    RETURN '{' || pairs || '}';
END;
$docnumbers$;

CREATE OR REPLACE FUNCTION docnumbers_key_text(
    sequence text, series bigint, scope text, period text
) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $docnumbers$
DECLARE
    full_text text := sequence
        || CASE WHEN series IS NULL THEN '' ELSE '#' || series::text END
        || CASE WHEN COALESCE(scope, '') = '' THEN '' ELSE '|' || scope END
        || CASE WHEN COALESCE(period, '') = '' THEN '' ELSE '@' || period END;
BEGIN
    IF length(full_text) <= 255 THEN
        RETURN full_text;
    END IF;
    RETURN left(full_text, 190) || '~' || encode(sha256(convert_to(full_text, 'UTF8')), 'hex');
END;
$docnumbers$;
"""

DROP_SQL = """
DROP FUNCTION IF EXISTS docnumbers_key_text(text, bigint, text, text);
DROP FUNCTION IF EXISTS docnumbers_scope_text(text[], text[]);
DROP FUNCTION IF EXISTS docnumbers_period_key(date, text, integer);
DROP FUNCTION IF EXISTS docnumbers_render(text, text, integer, date, bigint, integer);
DROP FUNCTION IF EXISTS docnumbers_render_number(bigint, integer);
DROP FUNCTION IF EXISTS docnumbers_render_template(text, date, integer);
DROP FUNCTION IF EXISTS docnumbers_calendar_year(integer, date, integer);
DROP FUNCTION IF EXISTS docnumbers_fiscal_year(date, integer);
DROP FUNCTION IF EXISTS docnumbers_next_value(text, text, text, bigint);
"""


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(NEXT_VALUE_SQL, params=None)
        schema_editor.execute(RENDERER_SQL, params=None)
    elif vendor == "mysql":
        schema_editor.execute(
            "CREATE TABLE IF NOT EXISTS `docnumbers_creationguard` "
            "(`id` integer NOT NULL PRIMARY KEY)",
            params=None,
        )
        values = ", ".join(f"({i})" for i in range(GUARD_BUCKETS))
        schema_editor.execute(
            f"INSERT IGNORE INTO `docnumbers_creationguard` (`id`) VALUES {values}", params=None
        )


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)
    elif vendor == "mysql":
        schema_editor.execute("DROP TABLE IF EXISTS `docnumbers_creationguard`", params=None)


class Migration(migrations.Migration):
    dependencies = [("docnumbers", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, atomic=False, elidable=False)]
