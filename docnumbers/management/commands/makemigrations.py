"""Django's makemigrations, with AutoSequenceFields added to existing models made safe.

An ``AddField`` of an AutoSequenceField becomes: AddField with ``null=True``, the
companion columns, ``NumberExistingRows`` and ``AlterField`` to the declared
field, before the unique constraints (``docnumbers.operations.adoption_steps``).
Everything else is Django's command unchanged. docnumbers' commands take
precedence over django.core's when docnumbers is in INSTALLED_APPS.
"""

from django.core.management.commands import makemigrations
from django.db.migrations.loader import MigrationLoader

from docnumbers.operations import rewrite_migration


class Command(makemigrations.Command):
    def write_migration_files(self, changes, *args, **kwargs):
        # Django 4.2 passes (changes); 5.x also update_previous_migration_paths.
        leaf = _docnumbers_leaf() if changes else None
        for migrations in changes.values():
            for migration in migrations:
                rewrite_migration(migration, leaf)
        return super().write_migration_files(changes, *args, **kwargs)


def _docnumbers_leaf():
    """docnumbers' latest migration, as a dependency: ``("docnumbers", "0003_...")``."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    leaves = graph.leaf_nodes("docnumbers")
    return leaves[0] if leaves else None
