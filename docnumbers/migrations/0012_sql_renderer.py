from django.db import migrations

# Frozen with this migration: do not edit. A change ships as a new migration.
#
# The template language, the period key and the sequence key of ``docnumbers.formatting``
# and ``docnumbers.keys``, as SQL functions (PostgreSQL), so that a COMMIT trigger can
# number and render a row from its own columns (#19). tests/test_sql_renderer.py proves
# with Hypothesis that each returns, byte for byte, what the Python function returns, and
# raises where Python raises (a token it does not know, a fiscal year outside 1..9999).
FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION docnumbers_fiscal_year(on_day date, first_month integer)
RETURNS integer LANGUAGE sql IMMUTABLE STRICT AS $docnumbers$
    SELECT CASE WHEN extract(month FROM on_day) >= first_month
                THEN extract(year FROM on_day)::integer
                ELSE extract(year FROM on_day)::integer - 1 END
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
RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $docnumbers$
    SELECT CASE WHEN number < 0 THEN '-' ELSE '' END
        || lpad(ltrim(number::text, '-'), greatest(padding, length(ltrim(number::text, '-'))), '0')
$docnumbers$;

CREATE OR REPLACE FUNCTION docnumbers_render(
    prefix text, suffix text, padding integer, on_day date, number bigint, first_month integer
) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $docnumbers$
    SELECT docnumbers_render_template(prefix, on_day, first_month)
        || docnumbers_render_number(number, padding)
        || docnumbers_render_template(suffix, on_day, first_month)
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
        WHEN 'fiscal' THEN 'FY' || lpad(docnumbers_fiscal_year(on_day, first_month)::text, 4, '0')
            || '-' || lpad(first_month::text, 2, '0')
    END;
END;
$docnumbers$;

CREATE OR REPLACE FUNCTION docnumbers_scope_text(names text[], vals text[])
RETURNS text LANGUAGE sql IMMUTABLE AS $docnumbers$
    SELECT COALESCE(
        '{' || string_agg(to_json(n)::text || ':' || COALESCE(to_json(v)::text, 'null'), ','
                          ORDER BY i) || '}',
        '')
    FROM unnest(names, vals) WITH ORDINALITY AS s(n, v, i)
$docnumbers$;

CREATE OR REPLACE FUNCTION docnumbers_key_text(
    sequence text, series bigint, scope text, period text
) RETURNS text LANGUAGE sql IMMUTABLE AS $docnumbers$
    SELECT CASE WHEN length(t) <= 255 THEN t
                ELSE left(t, 190) || '~' || encode(sha256(convert_to(t, 'UTF8')), 'hex') END
    FROM (SELECT sequence
              || CASE WHEN series IS NULL THEN '' ELSE '#' || series::text END
              || CASE WHEN COALESCE(scope, '') = '' THEN '' ELSE '|' || scope END
              || CASE WHEN COALESCE(period, '') = '' THEN '' ELSE '@' || period END AS t) AS k
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
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS_SQL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("docnumbers", "0011_verbose_names")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
