from django.db import migrations

# Frozen with this migration: do not edit. MariaDB/MySQL only: the guard rows a
# transaction locks while it creates a missing counter row (docnumbers.sql). A plain
# table, not a model, so that flush and TransactionTestCase never empty it.
BUCKETS = 1024


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    schema_editor.execute(
        "CREATE TABLE IF NOT EXISTS `docnumbers_creationguard` (`id` integer NOT NULL PRIMARY KEY)",
        params=None,
    )
    values = ", ".join(f"({i})" for i in range(BUCKETS))
    schema_editor.execute(
        f"INSERT IGNORE INTO `docnumbers_creationguard` (`id`) VALUES {values}", params=None
    )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute("DROP TABLE IF EXISTS `docnumbers_creationguard`", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("docnumbers", "0006_exact_text"),
    ]

    operations = [
        migrations.RunPython(install, uninstall, atomic=False, elidable=False),
    ]
