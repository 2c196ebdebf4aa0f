import django.db.models.deletion
from django.db import migrations, models


# Frozen with this migration: do not edit. A change to the COMMIT trigger ships as a
# new migration, so that databases migrated before it keep a history that does not move.
FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION docnumbers_issue_pending() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    issued bigint;
    digits text;
BEGIN
    -- Everything that needs no number comes before the counter's row lock.
    DELETE FROM docnumbers_pendingnumber WHERE id = NEW.id;
    UPDATE docnumbers_counter SET value = value + 1 WHERE id = NEW.counter_id
        RETURNING value INTO issued;
    IF NEW.display_column = '' THEN
        EXECUTE format('UPDATE %I SET %I = $1 WHERE %I = $2::' || NEW.pk_type,
                       NEW.table_name, NEW.number_column, NEW.pk_column)
            USING issued, NEW.pk_value;
    ELSE
        digits := abs(issued)::text;
        IF length(digits) < NEW.padding THEN
            digits := lpad(digits, NEW.padding, '0');
        END IF;
        IF issued < 0 THEN
            digits := '-' || digits;
        END IF;
        EXECUTE format('UPDATE %I SET %I = $1, %I = $3, %I = $4 WHERE %I = $2::' || NEW.pk_type,
                       NEW.table_name, NEW.number_column, NEW.display_column,
                       NEW.counter_column, NEW.pk_column)
            USING issued, NEW.pk_value, NEW.prefix_text || digits || NEW.suffix_text,
                  NEW.counter_id;
    END IF;
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS docnumbers_issue_pending ON docnumbers_pendingnumber;
CREATE CONSTRAINT TRIGGER docnumbers_issue_pending
    AFTER INSERT ON docnumbers_pendingnumber
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION docnumbers_issue_pending();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS docnumbers_issue_pending ON docnumbers_pendingnumber;
DROP FUNCTION IF EXISTS docnumbers_issue_pending();
"""


def install(apps, schema_editor):
    """Create the COMMIT trigger on PostgreSQL; other backends take numbers at save time.

    The queue table is UNLOGGED: an entry lives only inside its transaction, so
    after a crash there is nothing in it to keep, and it writes no WAL.
    """
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE docnumbers_pendingnumber SET UNLOGGED", params=None)
        schema_editor.execute(FUNCTION_SQL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("docnumbers", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="PendingNumber",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("table_name", models.CharField(max_length=128)),
                ("pk_column", models.CharField(max_length=128)),
                ("pk_type", models.CharField(max_length=64)),
                ("pk_value", models.TextField()),
                ("number_column", models.CharField(max_length=128)),
                ("display_column", models.CharField(blank=True, max_length=128)),
                ("counter_column", models.CharField(blank=True, max_length=128)),
                ("prefix_text", models.CharField(blank=True, max_length=50)),
                ("suffix_text", models.CharField(blank=True, max_length=50)),
                ("padding", models.PositiveSmallIntegerField(default=0)),
                ("counter", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="docnumbers.counter")),
            ],
            options={
                "verbose_name": "pending number",
                "verbose_name_plural": "pending numbers",
            },
        ),
        # The deferred constraint trigger that issues pending numbers at COMMIT (PostgreSQL only).
        migrations.RunPython(install, uninstall, elidable=False),
    ]
