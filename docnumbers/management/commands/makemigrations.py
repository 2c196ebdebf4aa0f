"""Django's makemigrations, made safe for AutoSequenceFields and their COMMIT triggers.

- An ``AddField`` of an AutoSequenceField becomes: AddField with ``null=True``, the
  companion columns, ``NumberExistingRows`` and ``AlterField`` to the declared
  field, before the unique constraints (``docnumbers.operations.adoption_steps``).
- A ``late=True`` field whose migrations do not install the COMMIT trigger of its
  current declaration gets ``docnumbers.triggers.InstallLateNumbering`` (its SQL
  frozen there): at the end of the app's new migration when the app has model
  changes, else in a migration of its own. A trigger whose field is no longer late
  (or gone) gets ``RemoveLateNumbering``, first in that migration. ``--check`` fails
  while one is missing. The system check that asks for them (``docnumbers.E011``)
  does not stop this command.

Everything else is Django's command unchanged. docnumbers' commands take
precedence over django.core's when docnumbers is in INSTALLED_APPS.
"""

import sys

from django.core.management.commands import makemigrations
from django.db.migrations.loader import MigrationLoader

from docnumbers import triggers
from docnumbers._compat import MigrationWriteHook
from docnumbers.checks import checks_but_triggers
from docnumbers.operations import rewrite_migration


class Command(MigrationWriteHook, makemigrations.Command):
    def check(self, *args, tags=None, **kwargs):
        # Every check but docnumbers.E011, which this command writes the migrations for.
        return super().check(*args, tags=tags or checks_but_triggers(), **kwargs)

    def handle(self, *app_labels, **options):
        # Read once, before anything is written: reading the migrations again would
        # import the new files, and an edit made to them in this process (order_by of
        # NumberExistingRows, say) would not reach a later migrate.
        triggers.forget()
        self.docnumbers_stale = triggers.missing_operations()
        super().handle(*app_labels, **options)
        if options["merge"] or options["empty"]:
            return
        self.write_missing_triggers(set(app_labels), options)

    def before_writing(self, changes):
        leaf = _docnumbers_leaf() if changes else None
        stale = getattr(self, "docnumbers_stale", {})
        if getattr(self, "empty", False):
            stale = {}
        for label, migrations in changes.items():
            for migration in migrations:
                rewrite_migration(migration, leaf)
            if stale.get(label) and migrations:
                removals = [op for op in stale[label] if op.removes]
                migrations[0].operations[:0] = removals
                last = migrations[-1]
                last.operations += [op for op in stale[label] if op not in removals]
                if leaf is not None and leaf not in last.dependencies:
                    last.dependencies.append(leaf)
                stale[label] = []  # carried by this migration

    def after_writing(self):
        triggers.forget()  # the files just written are what the migrations install now

    def write_missing_triggers(self, app_labels, options):
        """The triggers no model change carried: a migration per app, or --check fails."""
        stale = {
            label: operations
            for label, operations in self.docnumbers_stale.items()
            if operations and (not app_labels or label in app_labels)
        }
        if not stale:
            return
        if options["check_changes"] or options["dry_run"]:
            for label, operations in sorted(stale.items()):
                names = "; ".join(op.describe() for op in operations)
                self.log(f"Migrations for {label!r}: {names}")
            if options["check_changes"]:
                sys.exit(1)
            return
        for path, operations in triggers.write_migrations(sorted(stale)):
            self.log(self.style.MIGRATE_HEADING(f"Late-numbering triggers: {path}"))
            for operation in operations:
                self.log(f"    - {operation.describe()}")


def _docnumbers_leaf():
    """docnumbers' latest migration, as a dependency: ``("docnumbers", "0003_...")``."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    leaves = graph.leaf_nodes("docnumbers")
    return leaves[0] if leaves else None
