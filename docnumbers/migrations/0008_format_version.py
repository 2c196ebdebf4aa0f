from django.db import migrations

# Frozen with this migration: do not edit. A change ships as a new migration.
#
# One row whose value moves with every change to a NumberFormat (in the same
# transaction, so a rolled-back edit moves nothing). A process that keeps a
# format between saves (late allocation, PostgreSQL) writes the value it read
# into the row's pending column; the COMMIT trigger refuses the row if it moved.
INSTALL_SQL = """
CREATE TABLE IF NOT EXISTS docnumbers_formatversion (
    id smallint PRIMARY KEY CHECK (id = 1),
    value bigint NOT NULL
);
INSERT INTO docnumbers_formatversion (id, value) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE OR REPLACE FUNCTION docnumbers_bump_format_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE docnumbers_formatversion SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS docnumbers_format_version ON docnumbers_numberformat;
CREATE TRIGGER docnumbers_format_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON docnumbers_numberformat
    FOR EACH STATEMENT EXECUTE FUNCTION docnumbers_bump_format_version();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS docnumbers_format_version ON docnumbers_numberformat;
DROP FUNCTION IF EXISTS docnumbers_bump_format_version();
DROP TABLE IF EXISTS docnumbers_formatversion;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL_SQL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("docnumbers", "0007_creation_guard"),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
