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

Django's command runs unchanged and writes its files; this one then reads back the
files it wrote (new, or changed by ``--update``), completes them and writes them
again. Django offers no public hook between detecting changes and writing them, and
completing written files needs none: ``handle`` and the files are all it touches.
docnumbers' commands take precedence over django.core's when docnumbers is in
INSTALLED_APPS.
"""

import importlib
import os
import sys

from django.apps import apps
from django.core.management.commands import makemigrations
from django.core.management.utils import run_formatters
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.state import ProjectState
from django.db.migrations.writer import MigrationWriter

from docnumbers import triggers
from docnumbers.checks import checks_but_triggers
from docnumbers.operations import rewrite_migration


class Command(makemigrations.Command):
    def check(self, *args, tags=None, **kwargs):
        # Every check but docnumbers.E011, which this command writes the migrations for.
        return super().check(*args, tags=tags or checks_but_triggers(), **kwargs)

    def handle(self, *app_labels, **options):
        # Read before anything is written: reading the migrations afterwards would
        # import the new files, and the edit made to them here would not reach a
        # later migrate in this process.
        triggers.forget()
        stale = triggers.missing_operations()
        leaf = _docnumbers_leaf()
        before = _migration_files()
        super().handle(*app_labels, **options)
        detected = not (options["empty"] or options["merge"])  # else nothing to complete
        if detected and options["dry_run"]:
            self.preview(app_labels, stale, leaf)
        elif detected:
            self.complete(_written_since(before), stale, leaf)
        triggers.forget()  # the files just written are what the migrations install now
        if detected:
            self.write_missing_triggers(set(app_labels), stale, options)

    def complete(self, written, stale, leaf) -> None:
        """Rewrite the migrations Django just wrote with docnumbers' steps; the trigger
        operations they carry leave ``stale``."""
        rewritten = []
        for label, paths in sorted(written.items()):
            migrations = {path: _read(path, label) for path in paths}
            for path in _completed(label, list(migrations.values()), stale, leaf, paths):
                _write(path, migrations[path])
                rewritten.append(path)
                self.show(f"docnumbers completed {path}:", migrations[path])
        if rewritten:
            run_formatters(rewritten)  # as Django does for the files it writes (black)

    def preview(self, app_labels, stale, leaf) -> None:
        """``--dry-run``: what the files would hold once completed (nothing is written)."""
        loader = MigrationLoader(None, ignore_no_migrations=True)
        questioner = NonInteractiveMigrationQuestioner(specified_apps=app_labels, dry_run=True)
        changes = MigrationAutodetector(
            loader.project_state(), ProjectState.from_apps(apps), questioner
        ).changes(graph=loader.graph, trim_to_apps=app_labels or None)
        for label, migrations in sorted(changes.items()):
            names = [m.name for m in migrations]
            for name in _completed(label, migrations, stale, leaf, names):
                shown = next(m for m in migrations if m.name == name)
                self.show(f"docnumbers would complete {label}.{name}:", shown)

    def show(self, heading, migration) -> None:
        self.log(self.style.MIGRATE_HEADING(heading))
        for operation in migration.operations:
            self.log(f"    - {operation.describe()}")

    def write_missing_triggers(self, app_labels, stale, options):
        """The triggers no model change carried: a migration per app, or --check fails."""
        stale = {
            label: operations
            for label, operations in stale.items()
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


def _completed(label, migrations, stale, leaf, names) -> list:
    """Complete an app's new ``migrations`` (in order) in place: adoption steps, and the
    trigger operations ``stale`` holds for the app (removals first in the first, installs
    last in the last). Returns the ``names`` of those that changed."""
    changed = [rewrite_migration(migration, leaf) for migration in migrations]
    operations = stale.pop(label, [])
    if operations and migrations:
        removals = [op for op in operations if op.removes]
        migrations[0].operations[:0] = removals
        last = migrations[-1]
        last.operations += [op for op in operations if op not in removals]
        if leaf is not None and leaf not in last.dependencies:
            last.dependencies.append(leaf)
        changed[0] = changed[-1] = True
    return [name for name, done in zip(names, changed, strict=True) if done]


def _docnumbers_leaf():
    """docnumbers' latest migration, as a dependency: ``("docnumbers", "0003_...")``."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    leaves = graph.leaf_nodes("docnumbers")
    return leaves[0] if leaves else None


def _migration_files() -> dict[str, dict[str, tuple]]:
    """App label -> {path of a migration file: (mtime, size)}, for every installed app."""
    importlib.invalidate_caches()  # a migrations package made since is found
    found = {}
    for config in apps.get_app_configs():
        package, _ = MigrationLoader.migrations_module(config.label)
        try:
            module = importlib.import_module(package) if package else None
        except ImportError:
            module = None
        directories = list(getattr(module, "__path__", []))
        found[config.label] = {
            entry.path: (entry.stat().st_mtime_ns, entry.stat().st_size)
            for directory in directories
            for entry in os.scandir(directory)
            if entry.name.endswith(".py") and not entry.name.startswith("_")
        }
    return found


def _written_since(before) -> dict[str, list[str]]:
    """App label -> the migration files new or changed since ``before``, in name order."""
    written = {}
    for label, files in _migration_files().items():
        old = before.get(label, {})
        paths = [path for path, stamp in files.items() if old.get(path) != stamp]
        if paths:
            written[label] = sorted(paths, key=os.path.basename)
    return written


def _read(path, label):
    """The Migration a file holds, read without importing it as a module (a migrate later
    in this process imports the completed file, not this reading)."""
    name = os.path.splitext(os.path.basename(path))[0]
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    namespace = {"__name__": f"docnumbers_reading.{label}.{name}", "__file__": path}
    exec(compile(source, path, "exec"), namespace)  # noqa: S102 - the file makemigrations wrote
    return namespace["Migration"](name, label)


def _write(path, migration) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(MigrationWriter(migration).as_string())
