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
import importlib
import io
import json
import os
import re
import sys
import traceback
from pathlib import Path

import django

from tests.shapes import MARKER

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.shapes.settings")
django.setup()

from django.apps import apps  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.commands import makemigrations as django_makemigrations  # noqa: E402
from django.db import IntegrityError, connection, transaction  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402

from docnumbers.models import Counter, NumberFormat  # noqa: E402


def model(name):
    return apps.get_model("shapes", name)


def create_db():
    """A fresh, empty database: migrate runs, the shapes app has no migration yet."""
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return connection.settings_dict["NAME"]


def destroy():
    connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    return True


def _makemigrations(*args, command="makemigrations", **options):
    out, err = io.StringIO(), io.StringIO()
    # A prompt would read stdin, which the test gives as empty: it fails at once.
    call_command(command, "shapes", *args, stdout=out, stderr=err, **options)
    return out.getvalue() + err.getvalue()


def makemigrations():
    """Interactive, as a developer types it: it must not ask anything."""
    return _makemigrations(interactive=True)


def _answering_yes() -> list:
    """Make makemigrations' questions ("Was the model renamed?") read "y"; the prompts."""
    import builtins

    asked = []

    def answer(prompt=""):
        asked.append(prompt)
        return "y"

    builtins.input = answer
    return asked


def makemigrations_renaming():
    """Interactive, answering yes to its questions: "Was the model renamed?"."""
    asked = _answering_yes()
    return _makemigrations(interactive=True) + "".join(asked)


def makemigrations_django_renaming():
    """Django's own command, interactive, answering yes: renames without RenameCounters."""
    asked = _answering_yes()
    command = django_makemigrations.Command()
    return _makemigrations(command=command, interactive=True) + "".join(asked)


def makemigrations_noinput():
    """With --noinput, dry run: it must not stop at a question either."""
    return _makemigrations("--dry-run", interactive=False)


def makemigrations_django():
    """Django's own command, as if docnumbers' were not installed (or a migration by hand)."""
    return _makemigrations(command=django_makemigrations.Command(), interactive=False)


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


def order_dated_bills_by_date():
    """The documented edit: number AdoptDatedBill's rows by date, not by primary key."""
    changed = []
    package = Path(os.environ["SHAPES_DIR"], os.environ["SHAPES_MIGRATIONS"])
    for path in sorted(package.glob("0*.py")):
        text = path.read_text()
        pattern = r"(model_name='adoptdatedbill',\s*name='number',\s*order_by=)\('pk',\)"
        new = re.sub(pattern, r"\1('issued_on', 'pk')", text)
        if new != text:
            path.write_text(new)
            changed.append(path.name)
    return changed


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
    result["late_trigger"] = late_trigger()
    result["refused"] = {
        "display": refused(
            lambda: Bill.objects.filter(pk=bills[1].pk).update(number_display="B-2025-0001")
        ),
        "scoped": refused(lambda: Scoped.objects.create(branch=a, number=1)),
        "plain": refused(lambda: model("Plain").objects.create(number=2)),
    }
    result["unique"] = unique_sets()
    return result


def fill_changed():
    """After the second migration: the rows kept their numbers, new rows continue."""
    Bill, Scoped, Document = model("Bill"), model("Scoped"), model("Document")
    a = model("Branch").objects.get(name="a")
    return {
        "bills": texts(Bill.objects.order_by("pk")),
        "bill": Bill.objects.create(issued_on=day("2026-03-01"), note="x").number_display,
        "scoped": list(Scoped.objects.order_by("pk").values_list("number", flat=True)),
        # A new scope (branch, kind) counts from the start.
        "scoped_kind": Scoped.objects.create(branch=a, kind="x").number,
        # start_at applies to new sequences only: the existing counter continues.
        "document": Document.objects.create().number_display,
        "late": late_bill_2027(),
        "late_trigger": late_trigger(),
        "unique": unique_sets(),
    }


def late_bill_2027():
    """A late bill in a new year: its counter starts at the declared start_at."""
    LateBill = model("LateBill")
    with transaction.atomic():
        bill = LateBill.objects.create(issued_on=day("2027-03-01"))
    return LateBill.objects.get(pk=bill.pk).number_display


def late_trigger():
    """Whether the migrations install LateBill's current trigger, and the database has it."""
    from docnumbers import triggers

    field = model("LateBill")._meta.get_field("number")
    triggers.forget()
    result = {"current": triggers.is_current(field), "installed": None}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = %s", [triggers.trigger_name(field)]
            )
            result["installed"] = cursor.fetchone()[0] == 1
    return result


def migrate_back_one():
    """Unapply the latest applied migration of the shapes app."""
    loader = MigrationLoader(connection)
    applied = [key for key in loader.applied_migrations if key in loader.graph.nodes]
    latest = max(key for key in applied if key[0] == "shapes")
    (previous,) = [
        node.key for node in loader.graph.node_map[latest].parents if node.key[0] == "shapes"
    ]
    out = io.StringIO()
    call_command("migrate", "shapes", previous[1], interactive=False, stdout=out, verbosity=1)
    return out.getvalue()


def migrate_back():
    """Unapply every migration of the shapes app after its first."""
    out = io.StringIO()
    call_command("migrate", "shapes", "0001", interactive=False, stdout=out, verbosity=1)
    return out.getvalue()


def late_state(branches="ab"):
    """Late bills saved in a transaction, and the late triggers PostgreSQL holds.

    A bill issued on 2026-04-01; when the model has them, due on 2027-01-15 and one
    in each of ``branches`` ("a": ``late``, "b": ``late_b``, else None)."""
    LateBill = late_model()
    names = {field.name for field in LateBill._meta.get_fields()}
    values = {"issued_on": day("2026-04-01")}
    if "due_on" in names:
        values["due_on"] = day("2027-01-15")
    scopes = {"a": {}}
    if "branch" in names:
        Branch = model("Branch")
        scopes = {name: {"branch": Branch.objects.get_or_create(name=name)[0]} for name in branches}
    with transaction.atomic():
        bills = {name: LateBill.objects.create(**values, **scope) for name, scope in scopes.items()}
    numbers = {
        name: LateBill.objects.get(pk=bill.pk).number_display for name, bill in bills.items()
    }
    return {"late": numbers["a"], "late_b": numbers.get("b"), **late_triggers()}


def next_numbers():
    """One more plain, scoped (branch "a") and formatted row, named as this stage names
    them: the numbers they get."""
    Plain, Scoped, Bill = model("Plain"), model("Scoped"), model("Bill")
    plain = Plain.objects.create()
    scope = "office" if "office" in {f.name for f in Scoped._meta.fields} else "branch"
    scoped = Scoped.objects.create(**{scope: model("Branch").objects.get(name="a")})
    bill = Bill.objects.create(issued_on=day("2026-06-01"))
    plain_field = "serial" if hasattr(plain, "serial") else "number"
    bill_field = "bill_number" if hasattr(bill, "bill_number") else "number"
    return {
        "plain": getattr(plain, plain_field),
        "scoped": scoped.number,
        "bill": getattr(bill, f"{bill_field}_display"),
    }


def late_model():
    """The late model of this stage: LateBill, or LateNote once renamed."""
    found = {m.__name__: m for m in apps.get_app_config("shapes").get_models()}
    return found.get("LateBill") or found["LateNote"]


def late_state_a():
    """``late_state`` with a bill in branch "a" only: bills of two branches may share a
    text, which the unique number_display of the model before its scope refuses."""
    return late_state(branches="a")


def late_triggers():
    """The late triggers (table, trigger) and their functions PostgreSQL holds for the
    shapes app, whatever its models are now; None for both on other databases."""
    if connection.vendor != "postgresql":
        return {"triggers": None, "functions": None}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE NOT t.tgisinternal"
            " AND (c.relname LIKE 'shapes%%' OR t.tgname LIKE 'docnumbers_late_%%')"
            " ORDER BY 1, 2"
        )
        found = [list(row) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT proname FROM pg_proc WHERE proname LIKE 'docnumbers_late_%%' ORDER BY 1"
        )
        return {"triggers": found, "functions": [name for (name,) in cursor.fetchall()]}


def squash():
    """squashmigrations of every shapes migration, as a developer runs it: the squashed
    migration's name, what it replaces and its operations."""
    (leaf,) = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("shapes")
    out = io.StringIO()
    call_command("squashmigrations", "shapes", leaf[1], interactive=False, stdout=out)
    importlib.invalidate_caches()  # the new file, in a directory already listed
    loader = MigrationLoader(None, ignore_no_migrations=True)
    (squashed,) = [
        m for (app, _), m in loader.disk_migrations.items() if app == "shapes" and m.replaces
    ]
    return {
        "name": squashed.name,
        "replaces": [name for _, name in squashed.replaces],
        "operations": [_describe(op) for op in squashed.operations],
    }


def keep_only_squashed():
    """Delete the migrations a squashed one replaces: only the squashed one is left."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    package = Path(os.environ["SHAPES_DIR"], os.environ["SHAPES_MIGRATIONS"])
    deleted = []
    for (app, _), migration in loader.disk_migrations.items():
        if app == "shapes" and migration.replaces:
            for _, name in migration.replaces:
                (package / f"{name}.py").unlink()
                deleted.append(name)
    return sorted(deleted)


def insert_before():
    """Documents of a project that does not number them yet, the dates across two years."""
    Branch = model("Branch")
    a, b = Branch.objects.create(name="a"), Branch.objects.create(name="b")
    dates = [day(d) for d in ("2025-05-01", "2026-01-10", "2025-02-01", "2026-03-01", "2025-12-31")]
    for name in "xyz":
        model("AdoptPlain").objects.create(name=name)
    for branch in (a, b, a, a, b):
        model("AdoptScoped").objects.create(branch=branch)
    for name in ("AdoptBill", "AdoptDatedBill"):
        for issued_on in dates:
            model(name).objects.create(issued_on=issued_on)
    for branch, issued_on in ((a, dates[0]), (b, dates[2]), (a, dates[1]), (a, dates[4])):
        model("AdoptScopedBill").objects.create(branch=branch, issued_on=issued_on)
    NumberFormat.objects.create(code="adopt-quote", prefix="Q-", padding=3, position=0)
    export = NumberFormat.objects.create(code="adopt-quote", prefix="QX-", padding=3, position=1)
    for series in (None, export, None):
        model("AdoptQuote").objects.create(series=series)
    for issued_on in dates[:2]:
        model("AdoptLate").objects.create(issued_on=issued_on)
    return True


def _rows(name, *columns):
    return [list(row) for row in model(name).objects.order_by("pk").values_list(*columns)]


def _counters(name):
    rows = Counter.objects.filter(sequence=f"shapes.{name.lower()}.number")
    return sorted([row.scope, row.period, row.value] for row in rows)


def check_after():
    """What the adoption migration gave the existing rows, and what the next save gets."""
    result = {
        "plain": _rows("AdoptPlain", "number"),
        "scoped": _rows("AdoptScoped", "branch__name", "number"),
        "bill": _rows("AdoptBill", "number", "number_display"),
        "dated": _rows("AdoptDatedBill", "number", "number_display"),
        "scoped_bill": _rows("AdoptScopedBill", "branch__name", "number_display"),
        "quote": _rows("AdoptQuote", "series__prefix", "number_display"),
        "late": _rows("AdoptLate", "number_display"),
        "counters_bill": _counters("AdoptBill"),
        "counters_scoped": _counters("AdoptScoped"),
        "counter_ids": _rows("AdoptBill", "number_counter__key"),
        "formats": sorted(NumberFormat.objects.values_list("code", "prefix")),
    }
    Branch = model("Branch")
    a = Branch.objects.get(name="a")
    result["next"] = {
        "plain": model("AdoptPlain").objects.create(name="new").number,
        "scoped": model("AdoptScoped").objects.create(branch=a).number,
        "bill_2025": model("AdoptBill").objects.create(issued_on=day("2025-07-01")).number_display,
        "bill_2026": model("AdoptBill").objects.create(issued_on=day("2026-07-01")).number_display,
        "quote": model("AdoptQuote").objects.create().number_display,
    }
    with transaction.atomic():
        late = model("AdoptLate").objects.create(issued_on=day("2026-07-01"))
    result["next"]["late"] = model("AdoptLate").objects.get(pk=late.pk).number_display
    bills = model("AdoptBill").objects.order_by("pk")
    result["refused"] = {
        "null": refused(lambda: model("AdoptPlain").objects.filter(name="x").update(number=None)),
        "display": refused(
            lambda: bills.filter(pk=bills[1].pk).update(number_display=bills[0].number_display)
        ),
    }
    result["unique"] = unique_sets()
    return result


ACTIONS = {
    f.__name__: f
    for f in (
        create_db,
        makemigrations,
        makemigrations_noinput,
        makemigrations_renaming,
        makemigrations_django_renaming,
        next_numbers,
        makemigrations_django,
        order_dated_bills_by_date,
        operations,
        migrate,
        fill_full,
        fill_changed,
        insert_before,
        check_after,
        migrate_back,
        migrate_back_one,
        late_state,
        late_state_a,
        late_triggers,
        squash,
        keep_only_squashed,
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
