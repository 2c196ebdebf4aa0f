from django.db import migrations

# Frozen with this migration: do not edit. A change ships as a new migration.
FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION docnumbers_require_number() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing boolean;
    key_text text;
BEGIN
    -- TG_ARGV[0]: the number column; TG_ARGV[1]: the primary key column.
    EXECUTE format('SELECT ($1).%I::text', TG_ARGV[1]) INTO key_text USING NEW;
    EXECUTE format('SELECT %I IS NULL FROM %I WHERE %I::text = $1',
                   TG_ARGV[0], TG_TABLE_NAME, TG_ARGV[1])
        INTO missing USING key_text;
    IF missing AND NOT EXISTS (
        SELECT 1 FROM docnumbers_pendingnumber
        WHERE table_name = TG_TABLE_NAME AND number_column = TG_ARGV[0] AND pk_value = key_text
    ) THEN
        RAISE EXCEPTION 'docnumbers: the row % of % would be committed without its number %',
            key_text, TG_TABLE_NAME, TG_ARGV[0]
            USING HINT = 'Save late-numbered documents through the ORM (save, bulk_create) '
                         'so that docnumbers queues their number; see the README, Late allocation.',
                  ERRCODE = 'not_null_violation';
    END IF;
    RETURN NULL;
END;
$$;
"""

DROP_SQL = "DROP FUNCTION IF EXISTS docnumbers_require_number() CASCADE;"


def install(apps, schema_editor):
    """The COMMIT-time backstop for late numbers (PostgreSQL); the per-table triggers
    that call it are kept in step with the project's late fields after every migrate."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION_SQL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("docnumbers", "0004_gap_kind_renumbered"),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
