"""Django's makemigrations, made safe for AutoSequenceFields and their COMMIT triggers.

- An ``AddField`` of an AutoSequenceField becomes: AddField with ``null=True``, the
  companion columns, ``NumberExistingRows`` and ``AlterField`` to the declared
  field, before the unique constraints (``docnumbers.operations.adoption_steps``).
- A ``late=True`` field whose migrations do not install the COMMIT trigger of its
  current declaration gets ``docnumbers.triggers.InstallLateNumbering`` (its SQL
  frozen there): at the end of the app's new migration when the app has model
  changes, else in a migration of its own. ``--check`` fails while one is missing.

Everything else is Django's command unchanged. docnumbers' commands take
precedence over django.core's when docnumbers is in INSTALLED_APPS.
"""

import sys

from django.core.management.commands import makemigrations
from django.db.migrations.loader import MigrationLoader

from docnumbers import registry, triggers
from docnumbers._compat import MigrationWriteHook
from docnumbers.operations import rewrite_migration


class Command(MigrationWriteHook, makemigrations.Command):
    def handle(self, *app_labels, **options):
        # Read once, before anything is written: reading the migrations again would
        # import the new files, and an edit made to them in this process (order_by of
        # NumberExistingRows, say) would not reach a later migrate.
        self.docnumbers_stale = _stale_by_app()
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
                last = migrations[-1]
                last.operations += [triggers.migration_operation(f) for f in stale[label]]
                if leaf is not None and leaf not in last.dependencies:
                    last.dependencies.append(leaf)
                stale[label] = []  # carried by this migration

    def after_writing(self):
        triggers.forget()  # the files just written are what the migrations install now

    def write_missing_triggers(self, app_labels, options):
        """The triggers no model change carried: a migration per app, or --check fails."""
        stale = {
            label: fields
            for label, fields in self.docnumbers_stale.items()
            if fields and (not app_labels or label in app_labels)
        }
        if not stale:
            return
        if options["check_changes"] or options["dry_run"]:
            for label, fields in sorted(stale.items()):
                names = ", ".join(f"{f.model.__name__}.{f.name}" for f in fields)
                self.log(f"Migrations for {label!r}: the late-numbering trigger of {names}")
            if options["check_changes"]:
                sys.exit(1)
            return
        for path, fields in triggers.write_migrations(sorted(stale)):
            self.log(self.style.MIGRATE_HEADING(f"Late-numbering triggers: {path}"))
            for field in fields:
                self.log(f"    - InstallLateNumbering {field.model.__name__}.{field.name}")


def _stale_by_app() -> dict:
    """App label -> its late fields whose migrations lack their current trigger."""
    triggers.forget()
    stale = {}
    for field in triggers.stale_fields(registry.fields()):
        stale.setdefault(field.model._meta.app_label, []).append(field)
    return stale


def _docnumbers_leaf():
    """docnumbers' latest migration, as a dependency: ``("docnumbers", "0003_...")``."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    leaves = graph.leaf_nodes("docnumbers")
    return leaves[0] if leaves else None
