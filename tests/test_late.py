"""Late allocation: on PostgreSQL the number is taken inside COMMIT; elsewhere at save time."""

import datetime as dt
import random
import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from docnumbers import NumberFrozen
from tests.testapp.models import LateInvoice, LateInvoiceChild, LateInvoiceProxy, LateTicket

pytestmark = pytest.mark.django_db(transaction=True)

D = dt.date(2026, 5, 4)


def at_commit():
    """Whether this backend takes late numbers inside COMMIT."""
    return connection.vendor == "postgresql"


def test_number_is_taken_at_commit_and_readable_afterwards():
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            doc = LateInvoice.objects.create(issued_on=D)
        if at_commit():
            # The trigger's migration is in testapp: the INSERT is the only statement, and
            # it carries nothing but the model's own columns.
            assert [q["sql"].split()[0] for q in queries] == ["INSERT"]
            assert "pending" not in queries[0]["sql"]
            assert doc.number is None and doc.number_display is None
        else:
            assert doc.number == 1
    assert doc.number == 1
    assert doc.number_display == "L-2026-0001"
    assert doc.number_counter.period == "2026"
    stored = LateInvoice.objects.get(pk=doc.pk)
    assert (stored.number, stored.number_display) == (1, "L-2026-0001")


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: LateInvoice(issued_on=D), id="its own primary key"),
        pytest.param(lambda: LateInvoice(id=4242, issued_on=D), id="an explicit primary key"),
        pytest.param(lambda: LateInvoiceProxy(issued_on=D), id="a proxy"),
        pytest.param(lambda: LateInvoiceChild(issued_on=D, note="x"), id="an MTI child"),
        pytest.param(lambda: LateTicket(queue="q"), id="a plain scoped field"),
    ],
)
def test_a_late_save_sends_its_inserts_and_nothing_else(make):
    """Whatever the model's shape: no read before COMMIT (a row with an explicit primary
    key used to be looked up for a number COMMIT had not written)."""
    document = make()
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            document.save(force_insert=True)  # without: Django tries an UPDATE by primary key
        verbs = [q["sql"].split()[0] for q in queries]
        if at_commit():
            assert set(verbs) == {"INSERT"}, verbs
    assert document.number == 1


def test_rollback_leaves_no_gap_and_no_pending_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        LateInvoice.objects.create(issued_on=D)
        raise RuntimeError
    with transaction.atomic():
        doc = LateInvoice.objects.create(issued_on=D)
    assert doc.number_display == "L-2026-0001"


def test_rolled_back_savepoint_drops_its_pending_number():
    with transaction.atomic():
        first = LateInvoice.objects.create(issued_on=D)
        try:
            with transaction.atomic():
                LateInvoice.objects.create(issued_on=D)
                raise RuntimeError
        except RuntimeError:
            pass
        second = LateInvoice.objects.create(issued_on=D)
    assert (first.number, second.number) == (1, 2)
    assert LateInvoice.objects.count() == 2


def test_numbers_follow_save_order_within_a_transaction():
    with transaction.atomic():
        docs = [LateInvoice.objects.create(issued_on=D) for _ in range(4)]
    assert [d.number for d in docs] == [1, 2, 3, 4]


def test_saving_again_before_and_after_commit_keeps_the_number():
    with transaction.atomic():
        doc = LateInvoice.objects.create(issued_on=D)
        doc.save()
    doc.issued_on = dt.date(2026, 12, 1)
    doc.save()
    stored = LateInvoice.objects.get(pk=doc.pk)
    assert (stored.number, stored.number_display) == (1, "L-2026-0001")
    assert LateInvoice.objects.count() == 1
    doc.issued_on = dt.date(2027, 1, 1)
    with pytest.raises(NumberFrozen):
        doc.save()


def test_autocommit_save_takes_its_number_at_once():
    doc = LateInvoice.objects.create(issued_on=D)
    assert doc.__dict__["number"] == 1
    assert doc.number_display == "L-2026-0001"


def test_bulk_create_late_numbers_every_object_in_list_order():
    with transaction.atomic():
        docs = LateTicket.objects.bulk_create(
            [LateTicket(queue=q) for q in ["a", "b", "a", "a", "b"]]
        )
    assert [(d.queue, d.number) for d in docs] == [
        ("a", 1),
        ("b", 1),
        ("a", 2),
        ("a", 3),
        ("b", 2),
    ]


def test_formats_and_resets_hold_in_late_mode():
    with transaction.atomic():
        a = LateInvoice.objects.create(issued_on=dt.date(2025, 12, 31))
        b = LateInvoice.objects.create(issued_on=dt.date(2026, 1, 1))
        c = LateInvoice.objects.create(issued_on=dt.date(2026, 1, 2), number=40)
    # At COMMIT the explicit 40 has already moved the counter, so b comes after it.
    b_number = "L-2026-0041" if at_commit() else "L-2026-0001"
    assert [a.number_display, b.number_display, c.number_display] == [
        "L-2025-0001",
        b_number,
        "L-2026-0040",
    ]
    with transaction.atomic():
        d = LateInvoice.objects.create(issued_on=dt.date(2026, 2, 1))
    assert d.number_display == ("L-2026-0042" if at_commit() else "L-2026-0041")


def test_parallel_late_writers_with_rollbacks_are_gapless():
    committed = {q: 0 for q in ["x", "y"]}
    lock = threading.Lock()
    errors = []

    def writer(index):
        rng = random.Random(index)
        try:
            for _ in range(120):
                queue = rng.choice(["x", "y"])
                with transaction.atomic():
                    LateTicket.objects.create(queue=queue)
                    if rng.random() < 0.1:
                        transaction.set_rollback(True)
                        continue
                with lock:
                    committed[queue] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    for queue, count in committed.items():
        got = sorted(LateTicket.objects.filter(queue=queue).values_list("number", flat=True))
        assert got == list(range(1, count + 1))


# -- the static COMMIT trigger (PostgreSQL) and its migration ---------------------------------


def test_a_document_deleted_before_commit_takes_no_number():
    with transaction.atomic():
        gone = LateInvoice.objects.create(issued_on=D)
        gone.delete()
        kept = LateInvoice.objects.create(issued_on=D)
    assert kept.number_display == ("L-2026-0001" if at_commit() else "L-2026-0002")
    assert list(LateInvoice.objects.values_list("number", flat=True)) == [kept.number]


def test_bulk_create_of_a_formatted_late_field_sends_one_insert_per_batch():
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            docs = LateInvoice.objects.bulk_create(
                [LateInvoice(issued_on=day) for day in [D, D, dt.date(2027, 1, 1), D]]
            )
        if at_commit():  # one INSERT, and nothing else before COMMIT
            assert [q["sql"].split()[0] for q in queries] == ["INSERT"]
    assert [d.number_display for d in docs] == [
        "L-2026-0001",
        "L-2026-0002",
        "L-2027-0001",
        "L-2026-0003",
    ]


def test_every_late_field_of_the_test_project_has_its_trigger_migration():
    from io import StringIO

    from django.core.management import call_command

    from docnumbers import checks, triggers

    out = StringIO()
    call_command("docnumbers", "triggers", "--check", stdout=out)
    assert "Every late field's trigger is in its migrations." in out.getvalue()
    assert checks.late_triggers() == []
    assert triggers.is_current(LateInvoice._meta.get_field("number"))


def test_a_field_whose_trigger_migration_is_missing_is_a_check_error_that_names_the_fix(
    monkeypatch,
):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    from docnumbers import checks, triggers

    monkeypatch.setattr(triggers, "frozen_sql", lambda: {})
    monkeypatch.setattr(triggers, "_current", {})
    errors = checks.late_triggers()
    assert {e.id for e in errors} == {"docnumbers.E011"}
    assert all(e.is_serious() for e in errors)
    assert {e.obj.model.__name__ for e in errors} >= {"LateInvoice", "LateTicket", "LateDraft"}
    assert all("manage.py makemigrations testapp" in e.hint for e in errors)
    with pytest.raises(SystemCheckError, match="docnumbers.E011"):
        call_command("check", stdout=StringIO(), stderr=StringIO())
    # The command that writes the missing migration is not stopped by the error.
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "makemigrations", "testapp", "--check", "--dry-run", skip_checks=False, stdout=out
        )
    assert "Install the late-numbering trigger of lateinvoice.number" in out.getvalue()


def test_a_trigger_whose_field_is_gone_is_removed_by_a_migration(monkeypatch):
    from django.db.migrations.loader import MigrationLoader

    from docnumbers import checks, triggers

    frozen = dict(triggers.frozen_sql())
    gone = ("testapp", "oldmodel", "number")
    frozen[gone] = frozen[("testapp", "lateticket", "number")]
    monkeypatch.setattr(triggers, "frozen_sql", lambda: frozen)
    errors = checks.late_triggers()
    assert [e.id for e in errors] == ["docnumbers.E011"]
    assert "testapp.oldmodel.number" in errors[0].msg
    [(path, [operation])] = triggers.write_migrations(["testapp"], dry_run=True)
    assert isinstance(operation, triggers.RemoveLateNumbering) and operation.removes
    name = triggers.trigger_name(LateTicket._meta.get_field("number"))
    assert operation.sql == f'DROP FUNCTION IF EXISTS "{name}"() CASCADE;\n'
    assert operation.reverse_sql == frozen[gone]
    (leaf,) = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("testapp")
    assert path.endswith(f"{int(leaf[1][:4]) + 1:04d}_late_numbering.py")
    triggers.forget()


def test_makemigrations_writes_a_missing_trigger_without_a_model_change(monkeypatch):
    """A trigger changed by itself (a docnumbers upgrade): makemigrations writes it alone."""
    from io import StringIO

    from django.core.management import call_command

    from docnumbers import triggers

    # As if the testapp migrations installed no trigger at all.
    monkeypatch.setattr(triggers, "frozen_sql", lambda: {})
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("makemigrations", "testapp", "--check", "--dry-run", stdout=out)
    assert exited.value.code == 1
    assert "Install the late-numbering trigger of lateinvoice.number" in out.getvalue()
    written = []

    def write(app_labels, dry_run=False):
        written.append(list(app_labels))
        return [("testapp/migrations/0008_late_numbering.py", [operation])]

    operation = triggers.migration_operation(LateInvoice._meta.get_field("number"))
    monkeypatch.setattr(triggers, "write_migrations", write)
    out = StringIO()
    call_command("makemigrations", "testapp", stdout=out)
    assert written == [["testapp"]]
    assert "No changes detected in app 'testapp'" in out.getvalue()
    assert "- Install the late-numbering trigger of lateinvoice.number" in out.getvalue()
    # Other apps are left alone when apps are named.
    written.clear()
    call_command("makemigrations", "docnumbers", stdout=StringIO())
    assert written == []
    monkeypatch.undo()
    triggers.forget()
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "late-numbering" not in out.getvalue()


def test_the_migration_operation_freezes_the_sql_and_is_reversible(vendor):
    from django.db import connection as conn

    from docnumbers import triggers

    field = LateTicket._meta.get_field("number")
    operation = triggers.migration_operation(field)
    name = triggers.trigger_name(field)
    assert operation.sql == triggers.render(field)[0] and name in operation.sql
    _, args, kwargs = operation.deconstruct()
    assert kwargs["sql"] == operation.sql and "InstallLateNumbering" in repr(type(operation))
    if vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = %s", [name])
        assert cursor.fetchone() == (1,)


def test_a_save_reads_no_format_and_commit_renders_the_format_as_it_is_then():
    """A format edited by another connection while the transaction runs: the text of a
    number issued at COMMIT follows the format as it stands at COMMIT."""
    from docnumbers.models import NumberFormat

    with transaction.atomic():
        LateInvoice.objects.create(issued_on=D)

    def edit():
        try:
            fmt = NumberFormat.objects.get(code="late-invoice")
            fmt.prefix = "M-{YYYY}-"
            fmt.save()
        finally:
            connections.close_all()

    thread = threading.Thread(target=edit)
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            doc = LateInvoice.objects.create(issued_on=D)
        reads = [q for q in queries if "docnumbers_numberformat" in q["sql"]]
        assert reads == [] if at_commit() else len(reads) == 1
        if at_commit():  # (SQLite's writers wait for each other: there, after COMMIT)
            thread.start()
            thread.join(30)
    if not at_commit():
        thread.start()
        thread.join(30)
    assert doc.number_display == ("M-2026-0002" if at_commit() else "L-2026-0002")
    with transaction.atomic():
        after = LateInvoice.objects.create(issued_on=D)
    assert after.number_display == "M-2026-0003"
    texts = sorted(LateInvoice.objects.values_list("number_display", flat=True))
    assert texts == sorted(["L-2026-0001", doc.number_display, "M-2026-0003"])


def test_the_key_commit_computes_is_the_key_python_computes():
    from docnumbers import numbering
    from docnumbers.models import Counter

    with transaction.atomic():
        ticket = LateTicket.objects.create(queue='Zürich "north"')
        unqueued = LateTicket.objects.create(queue="")
        invoice = LateInvoice.objects.create(issued_on=dt.date(2031, 2, 3))
    for doc in (ticket, unqueued, invoice):
        key = numbering._key_of(type(doc)._meta.get_field("number"), doc)
        counter = Counter.objects.get(key=key.text)
        assert (counter.value, counter.scope, counter.period) == (
            doc.number,
            key.scope_text,
            key.period,
        )
    assert Counter.objects.count() == 3


def test_a_row_inserted_without_the_orm_is_numbered_at_commit_on_postgresql():
    """PostgreSQL's trigger works from the row alone; elsewhere nothing numbers such a
    row (the audit reports it)."""
    table = connection.ops.quote_name(LateTicket._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (queue) VALUES ('raw'), ('raw')")
    numbers = sorted(LateTicket.objects.values_list("number", flat=True), key=str)
    assert numbers == ([1, 2] if at_commit() else [None, None])


def test_a_changed_declaration_needs_a_new_migration_that_reverses_to_the_old_trigger(
    monkeypatch,
):
    from docnumbers import triggers

    field = LateTicket._meta.get_field("number")
    frozen = triggers.frozen_sql()[("testapp", "lateticket", "number")]
    monkeypatch.setattr(field, "start_at", 100)
    monkeypatch.setattr(triggers, "_current", {})
    assert not triggers.is_current(field)
    operation = triggers.migration_operation(field)
    assert "VALUES (dn_key, 100," in operation.sql
    assert operation.reverse_sql == frozen
    [(path, operations)] = triggers.write_migrations(["testapp"], dry_run=True)
    # The next number after testapp's latest migration.
    from django.db.migrations.loader import MigrationLoader

    (leaf,) = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("testapp")
    following = int(leaf[1].split("_", 1)[0]) + 1
    assert path.endswith(f"{following:04d}_late_numbering.py")
    assert [op.field_name for op in operations] == [field.name]
    triggers.forget()


# -- every input of the trigger: series field, foreign-key scope, datetime, fiscal year -------


def quote_texts(customer, instants, atomic):
    from tests.testapp.models import LateQuote

    def create():
        return [LateQuote.objects.create(customer=customer, issued_at=at) for at in instants]

    if not atomic:
        return [q.number_display for q in create()]  # autocommit: numbered in Python
    with transaction.atomic():
        quotes = create()
    return [q.number_display for q in quotes]


def test_commit_renders_what_a_save_renders_from_every_input():
    """The same documents numbered by Python (autocommit) and, on PostgreSQL, by the trigger
    (a transaction): the same texts, one sequence per customer and fiscal year."""
    from tests.testapp.models import Customer, LateQuote

    utc = dt.UTC
    instants = [
        dt.datetime(2026, 3, 31, 12, 0, tzinfo=utc),  # Paris 14:00, 31 March: FY2025
        dt.datetime(2026, 3, 31, 22, 30, tzinfo=utc),  # Paris 00:30, 1 April: FY2026
        dt.datetime(2027, 3, 31, 21, 59, tzinfo=utc),  # Paris 23:59, 31 March: FY2026
        dt.datetime(2026, 1, 5, 8, 0, tzinfo=utc),
    ]
    expected = ["LQ2025-001", "LQ2026-001", "LQ2026-002", "LQ2025-002"]
    by_python = quote_texts(Customer.objects.create(name="A"), instants, atomic=False)
    at_commit_texts = quote_texts(Customer.objects.create(name="B"), instants, atomic=True)
    assert by_python == at_commit_texts == expected
    assert quote_texts(None, instants[:1], atomic=True) == ["LQ2025-001"]  # a NULL scope
    quote = LateQuote.objects.filter(customer__name="B").order_by("pk").first()
    assert (quote.series_id, quote.number_counter.number_format.code) == (None, "late-quote")


def test_a_document_without_a_series_keeps_none_and_its_counter_names_the_default():
    from docnumbers.models import NumberFormat
    from tests.testapp.models import LateQuote

    at = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)
    with transaction.atomic():
        quote = LateQuote.objects.create(issued_at=at)
    other = NumberFormat.objects.create(code="late-quote", prefix="EX-", position=5)
    with transaction.atomic():
        export = LateQuote.objects.create(issued_at=at, series=other)
    default = NumberFormat.objects.get(code="late-quote", position=0)
    assert (quote.number_display, export.number_display) == ("LQ2026-001", "EX-0001")
    assert quote.series_id is None and LateQuote.objects.get(pk=quote.pk).series_id is None
    assert quote.number_counter.number_format == default
    assert export.number_counter.number_format == other


def test_a_series_of_another_code_is_refused_by_name():
    from django.db import IntegrityError

    from docnumbers import SeriesMismatch
    from docnumbers.models import NumberFormat
    from tests.testapp.models import LateQuote

    other = NumberFormat.objects.create(code="not-a-quote", prefix="X-")
    at = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)
    with pytest.raises((IntegrityError, SeriesMismatch), match="belongs to the code"):
        with transaction.atomic():
            LateQuote.objects.create(issued_at=at, series=other)
    assert not LateQuote.objects.exists()
