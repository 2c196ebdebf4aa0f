from django.db import migrations

# The reference of issue 14: what a hand-written deferred trigger with static SQL costs.
HAND_TRIGGER_SQL = """
INSERT INTO benchapp_counterrow (name, value) VALUES ('hand-trigger', 0) ON CONFLICT DO NOTHING;
CREATE OR REPLACE FUNCTION bench_hand_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    issued bigint;
BEGIN
    UPDATE benchapp_counterrow SET value = value + 1 WHERE name = 'hand-trigger'
        RETURNING value INTO issued;
    UPDATE benchapp_handtriggerinvoice
        SET number = issued,
            number_display = 'INV-' || to_char(NEW.issued_on, 'YYYY') || '-'
                             || lpad(issued::text, 6, '0')
        WHERE id = NEW.id;
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS bench_hand_number ON benchapp_handtriggerinvoice;
CREATE CONSTRAINT TRIGGER bench_hand_number AFTER INSERT ON benchapp_handtriggerinvoice
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bench_hand_number();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(HAND_TRIGGER_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("benchapp", "0004_issue14")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
