"""Run migrations of the shapes app on a database of its own, in a process of its own.

``python -m tests.shapes.harness ACTION ...``, with the environment variables
``tests.shapes.settings`` reads (``SHAPES_DIR``, ``SHAPES_MIGRATIONS``) and
``SHAPES_STAGE`` for the models. Each action's result goes into one JSON object,
printed on the last line of stdout after ``SHAPES-RESULT:``. An action that
fails stops the run (its error is in the result), except ``destroy``, which
always runs when asked. Models cannot be swapped inside one process: each stage
of the models is a run of its own, on the same database.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
import traceback

import django

from tests.shapes import MARKER

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.shapes.settings")
django.setup()

from django.apps import apps  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import IntegrityError, connection, transaction  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402

from docnumbers.models import NumberFormat  # noqa: E402


def model(name):
    return apps.get_model("shapes", name)


def create_db():
    """A fresh, empty database: migrate runs, the shapes app has no migration yet."""
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return connection.settings_dict["NAME"]


def destroy():
    connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    return True


def _makemigrations(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    # A prompt would read stdin, which the test gives as empty: it fails at once.
    call_command("makemigrations", "shapes", *args, stdout=out, stderr=err, **options)
    return out.getvalue() + err.getvalue()


def makemigrations():
    """Interactive, as a developer types it: it must not ask anything."""
    return _makemigrations(interactive=True)


def check_clean():
    """makemigrations --check --dry-run: True when the models match the migrations."""
    try:
        _makemigrations("--check", "--dry-run", interactive=False)
    except SystemExit as exc:
        return exc.code in (0, None)
    return True


def migrate():
    out = io.StringIO()
    call_command("migrate", interactive=False, stdout=out, verbosity=1)
    return out.getvalue()


def _describe(operation) -> str:
    """``AddField bill.number``: the operation's class, model and field (or name)."""
    parts = [getattr(operation, "model_name", None), getattr(operation, "name", None)]
    target = ".".join(str(part) for part in parts if part)
    return f"{type(operation).__name__} {target}".strip()


def operations():
    """The operations and dependencies of the shapes app's migrations, by migration name."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = {}
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app == "shapes":
            found[name] = [_describe(op) for op in migration.operations]
            found[name + ":dependencies"] = [list(d) for d in migration.dependencies]
    return found


def unique_sets():
    """Per shapes table: the column sets of its unique constraints (the primary key left out)."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if not table.startswith("shapes_"):
                continue
            constraints = connection.introspection.get_constraints(cursor, table)
            found[table] = sorted(
                ",".join(c["columns"])
                for c in constraints.values()
                if c["unique"] and not c["primary_key"]
            )
    return found


def refused(do):
    """Whether the database refuses what ``do`` writes."""
    try:
        with transaction.atomic():
            do()
    except IntegrityError:
        return True
    return False


def texts(objects, attr="number_display"):
    return [getattr(obj, attr) for obj in objects]


def day(text):
    return dt.date.fromisoformat(text)


def fill_full():
    """Rows of every shape, numbered from their creation; what they got."""
    Branch = model("Branch")
    a, b = Branch.objects.create(name="a"), Branch.objects.create(name="b")
    result = {"plain": [model("Plain").objects.create().number for _ in range(2)]}
    Scoped = model("Scoped")
    result["scoped"] = [Scoped.objects.create(branch=x).number for x in (a, b, a)]
    Bill = model("Bill")
    bills = [Bill.objects.create(issued_on=day(d)) for d in ("2025-12-31", "2026-01-01")]
    bills.append(model("BillProxy").objects.create(issued_on=day("2026-02-01")))
    result["bills"] = texts(bills)
    model("BillLine").objects.create(bill=bills[0], text="one")
    result["lines"] = model("BillLine").objects.filter(bill=bills[0]).count()
    Quote = model("Quote")
    export = NumberFormat.objects.create(code="shape-quote", prefix="QX-", padding=3, position=9)
    quotes = [Quote.objects.create(), Quote.objects.create(series=export), Quote.objects.create()]
    result["quotes"] = texts(quotes)
    result["receipts"] = texts([model("Receipt").objects.create() for _ in range(2)])
    Document, Contract = model("Document"), model("Contract")
    result["documents"] = texts([Document.objects.create(), Contract.objects.create(party="x")])
    LateBill = model("LateBill")
    with transaction.atomic():
        late = [LateBill.objects.create(issued_on=day(d)) for d in ("2025-03-01", "2026-03-01")]
    result["late"] = texts([LateBill.objects.get(pk=obj.pk) for obj in late])
    result["refused"] = {
        "display": refused(
            lambda: Bill.objects.filter(pk=bills[1].pk).update(number_display="B-2025-0001")
        ),
        "scoped": refused(lambda: Scoped.objects.create(branch=a, number=1)),
        "plain": refused(lambda: model("Plain").objects.create(number=2)),
    }
    result["unique"] = unique_sets()
    return result


ACTIONS = {
    f.__name__: f
    for f in (
        create_db,
        makemigrations,
        operations,
        migrate,
        fill_full,
        check_clean,
        destroy,
    )
}


def run(names: list[str]) -> dict:
    result: dict = {"vendor": connection.vendor, "error": None}
    for name in names:
        if result["error"] is not None and name != "destroy":
            continue
        try:
            result[name] = ACTIONS[name]()
        except BaseException as exc:  # SystemExit too: makemigrations exits on a question.
            traceback.print_exc()
            result[name] = None
            result["error"] = result["error"] or {
                "action": name,
                "type": type(exc).__name__,
                "message": str(exc),
            }
    return result


if __name__ == "__main__":
    print(MARKER + json.dumps(run(sys.argv[1:]), default=str), flush=True)
