from django.db import migrations

# The hand-written references the throughput benchmark compares docnumbers with.
#
# PostgreSQL: a hand-written deferred COMMIT trigger with static SQL that writes the
# number and its text (INV-YYYY-NNNNNN, a unique column) from CounterRow "hand-trigger",
# the reference for formatted late numbers (issues 14 and 19);
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

# the same trigger writing the number alone, from CounterRow "hand-plain": the reference
# for plain late numbers;
HAND_PLAIN_TRIGGER_SQL = """
INSERT INTO benchapp_counterrow (name, value) VALUES ('hand-plain', 0) ON CONFLICT DO NOTHING;
CREATE OR REPLACE FUNCTION bench_hand_plain_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    issued bigint;
BEGIN
    UPDATE benchapp_counterrow SET value = value + 1 WHERE name = 'hand-plain'
        RETURNING value INTO issued;
    UPDATE benchapp_handplaintriggerinvoice SET number = issued WHERE id = NEW.id;
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS bench_hand_plain_number ON benchapp_handplaintriggerinvoice;
CREATE CONSTRAINT TRIGGER bench_hand_plain_number AFTER INSERT ON benchapp_handplaintriggerinvoice
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bench_hand_plain_number();
"""

# and the counter row of the gapless number taken by the INSERT itself.
# (0001_initial creates its function and the sequence: column defaults call them.)
IN_INSERT_SQL = """
INSERT INTO benchapp_counterrow (name, value) VALUES ('in-insert', 0) ON CONFLICT DO NOTHING;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in (HAND_TRIGGER_SQL, HAND_PLAIN_TRIGGER_SQL, IN_INSERT_SQL):
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("benchapp", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
