from django.db import migrations

# Frozen with this migration: do not edit. A change ships as a new migration.
#
# A plain field's save on PostgreSQL takes its number inside its own INSERT
# (``VALUES (..., docnumbers_next_value(...)) RETURNING ..., "number"``): one statement
# instead of the counter statement and the INSERT. Like that statement, it moves the
# counter row of the key (creating it at first_value) and keeps it locked until COMMIT.
FUNCTION_SQL = """
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

DROP_SQL = "DROP FUNCTION IF EXISTS docnumbers_next_value(text, text, text, bigint);"


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION_SQL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("docnumbers", "0008_format_version")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
