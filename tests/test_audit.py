"""manage.py docnumbers audit|sync|explain: gaps, duplicates, counters behind, exit status."""

import contextlib
import csv
import datetime as dt
import io
import json
import pathlib
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from docnumbers import audit
from docnumbers.management.commands.docnumbers import CSV_COLUMNS
from docnumbers.models import Counter, CounterChange, GapExplanation
from tests.testapp.models import (
    Invoice,
    PerNameModel,
    SimpleModel,
    StartAtModel,
)

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def day(text):
    return dt.date.fromisoformat(text)


def run(*args):
    """Run the command; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("docnumbers", *args, stdout=out, stderr=err)
        status = 0
    except CommandError as exc:
        status = exc.returncode
        err.write(str(exc))
    return status, out.getvalue(), err.getvalue()


def audit_json(*targets, since=None):
    args = ["audit", *targets, "--format", "json", "--no-progress"]
    if since:
        args += ["--since", since]
    status, out, _ = run(*args)
    return status, json.loads(out)["sequences"]


def gaps(sequence):
    return [(g["first"], g["last"]) for g in sequence["gaps"]]


def set_counter(key, value):
    table = connection.ops.quote_name(Counter._meta.db_table)
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {qn('value')} = %s WHERE {qn('key')} = %s", [value, key]
        )


def test_clean_sequence_passes():
    for _ in range(5):
        SimpleModel.objects.create()
    status, (seq,) = audit_json("testapp.SimpleModel")
    assert status == 0
    assert (seq["issued"], seq["first"], seq["last"], seq["counter_value"]) == (5, 1, 5, 5)
    assert seq["gaps"] == [] and seq["duplicates"] == [] and seq["status"] == "ok"


def test_rolled_back_transactions_leave_no_gap():
    SimpleModel.objects.create()
    for _ in range(3):
        with pytest.raises(RuntimeError), transaction.atomic():
            SimpleModel.objects.create()
            raise RuntimeError("rollback")
    SimpleModel.objects.create()
    status, (seq,) = audit_json("testapp.SimpleModel")
    assert status == 0
    assert (seq["first"], seq["last"], gaps(seq)) == (1, 2, [])


def test_deletes_are_found_with_their_exact_ranges():
    rows = [SimpleModel.objects.create() for _ in range(12)]
    for number in (1, 4, 5, 6, 9, 12):
        rows[number - 1].delete()
    status, (seq,) = audit_json("testapp.SimpleModel.number")
    assert status == 0  # gaps alone do not fail the audit
    # 1 before the first row, 12 issued by the counter after the last row.
    assert gaps(seq) == [(1, 1), (4, 6), (9, 9), (12, 12)]
    assert seq["issued"] == 6 and seq["status"] == "gaps"
    assert run("audit", "testapp.SimpleModel", "--fail-on-gaps", "--no-progress")[0] == 1


def test_gap_before_the_first_number_starts_at_start_at():
    rows = [StartAtModel.objects.create() for _ in range(5)]
    for row in rows[:3]:
        row.delete()
    _, (seq,) = audit_json("testapp.StartAtModel")
    assert gaps(seq) == [(100, 102)]


def test_every_scope_gets_its_own_ranges():
    for name in "aabbba":
        PerNameModel.objects.create(name=name)
    PerNameModel.objects.get(name="a", number=2).delete()
    PerNameModel.objects.get(name="b", number=1).delete()
    _, reports = audit_json("testapp.PerNameModel")
    by_name = {r["scope"]["name"]: r for r in reports}
    assert gaps(by_name["a"]) == [(2, 2)]
    assert gaps(by_name["b"]) == [(1, 1)]


def test_formatted_fields_are_audited_per_period():
    for text in ("2025-12-30", "2025-12-31", "2026-01-02", "2026-01-03", "2026-01-04"):
        Invoice.objects.create(issued_on=dt.date.fromisoformat(text))
    Invoice.objects.get(invoice_number_display="INV-2026-0002").delete()
    _, reports = audit_json("testapp.Invoice")
    by_period = {r["period"]: r for r in reports}
    assert gaps(by_period["2025"]) == [] and by_period["2025"]["last"] == 2
    assert gaps(by_period["2026"]) == [(2, 2)]


def test_since_keeps_rows_from_that_day():
    for text in (
        "2026-01-05",
        "2026-01-06",
        "2026-01-07",
        "2026-02-05",
        "2026-03-05",
        "2026-04-05",
    ):
        Invoice.objects.create(issued_on=day(text))
    Invoice.objects.filter(invoice_number__in=[2, 5]).delete()
    _, (seq,) = audit_json("testapp.Invoice", since="2026-02-01")
    assert (seq["issued"], seq["first"], seq["last"]) == (2, 4, 6)
    assert gaps(seq) == [(5, 5)]  # 2 lies between two January numbers
    Invoice.objects.filter(invoice_number=3).delete()
    _, (seq,) = audit_json("testapp.Invoice", since="2026-02-01")
    assert gaps(seq) == [(2, 3), (5, 5)]  # a gap that ends at a February number is in


def test_counter_moved_behind_by_raw_sql_is_reported_and_repaired():
    for _ in range(4):
        SimpleModel.objects.create()
    key = Counter.objects.get().key
    set_counter(key, 2)
    status, (seq,) = audit_json("testapp.SimpleModel")
    assert status == 1
    assert seq["counter_behind"] is True and seq["highest"] == 4
    status, out, _ = run("sync", "--no-progress")
    assert status == 0 and "would move 2 -> 4" in out
    assert Counter.objects.get().value == 2  # without --apply nothing changes
    status, out, _ = run("sync", "--apply", "--no-progress")
    assert "moved 2 -> 4" in out
    assert Counter.objects.get().value == 4
    change = CounterChange.objects.get()
    assert (change.old_value, change.new_value, change.source) == (2, 4, "sync")
    assert SimpleModel.objects.create().number == 5
    assert audit_json()[0] == 0


def test_sync_never_moves_a_counter_backwards():
    for _ in range(3):
        SimpleModel.objects.create()
    SimpleModel.objects.filter(number=3).delete()
    status, out, _ = run("sync", "--apply", "--no-progress")
    assert status == 0 and "All counters" in out
    assert Counter.objects.get().value == 3


def test_loaddata_then_sync_makes_the_next_number_right():
    SimpleModel.objects.create()
    call_command("loaddata", FIXTURES / "audit_simple.json", verbosity=0)
    status, (seq,) = audit_json("testapp.SimpleModel")
    assert status == 1 and seq["highest"] == 20 and seq["counter_value"] == 1
    assert gaps(seq) == [(2, 9), (11, 19)]
    run("sync", "--apply", "--no-progress")
    assert SimpleModel.objects.create().number == 21


def test_loaddata_into_a_new_scope_creates_its_counter():
    call_command("loaddata", FIXTURES / "audit_pername.json", verbosity=0)
    status, _ = audit_json("testapp.PerNameModel")
    assert status == 1
    run("sync", "--apply", "--no-progress")
    assert PerNameModel.objects.create(name="imported").number == 8
    assert PerNameModel.objects.create(name="other").number == 1


def test_loaddata_of_formatted_rows_without_counter_is_attributed_and_synced():
    Invoice.objects.create(issued_on=day("2026-01-02"))
    call_command("loaddata", FIXTURES / "audit_invoices.json", verbosity=0)
    status, reports = audit_json("testapp.Invoice")
    assert status == 1
    loose = [r for r in reports if r["unattributed"]]
    assert [(r["period"], r["issued"], r["highest"]) for r in loose] == [
        ("2025", 2, 41),
        ("2026", 1, 7),
    ]
    run("sync", "--apply", "--no-progress")
    # sync also links the rows to their counters: they are audited like any other now.
    assert not Invoice.objects.filter(invoice_number_counter__isnull=True).exists()
    status, reports = audit_json("testapp.Invoice")
    assert status == 0 and not [r for r in reports if r["unattributed"]]
    assert Invoice.objects.create(issued_on=day("2026-05-01")).invoice_number == 8
    assert Invoice.objects.create(issued_on=day("2025-05-01")).invoice_number == 42


def test_sync_leaves_a_loaded_row_unlinked_when_its_number_is_taken(tmp_path):
    first = Invoice.objects.create(issued_on=day("2026-01-02"))
    fixture = tmp_path / "copy.json"
    rows = [(1001, 1, "INV-2026-0001 (copy)"), (1002, 2, "INV-2026-0002")]
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "testapp.invoice",
                    "pk": pk,
                    "fields": {
                        "issued_on": "2026-06-01",
                        "invoice_number": number,
                        "invoice_number_display": text,
                    },
                }
                for pk, number, text in rows
            ]
        )
    )
    call_command("loaddata", fixture, verbosity=0)
    status, out, err = run("sync", "--apply", "--no-progress")
    assert status == 0 and "moved 1 -> 2" in out and "linked 1 row(s)" in out
    assert "1 row(s) left without a counter: their number is already stored" in err
    assert Invoice.objects.get(pk=1001).invoice_number_counter_id is None
    assert Invoice.objects.get(pk=1002).invoice_number_counter_id == first.invoice_number_counter_id


@contextlib.contextmanager
def without_unique(model, *fields):
    """Drop the unique constraint on ``fields`` (as a broken import or old schema would)."""
    (constraint,) = [c for c in model._meta.constraints if tuple(c.fields) == fields]
    assert not model.objects.exists()
    if connection.vendor == "sqlite":
        # SQLite rebuilds tables from the model, which adds the constraint back: by hand.
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE tbl_name = %s", [table])
            schema = [row[0] for row in cursor.fetchall() if row[0]]
            loose = re.sub(rf', CONSTRAINT "{constraint.name}" UNIQUE \([^)]*\)', "", schema[0])
            assert loose != schema[0]
            cursor.execute(f'DROP TABLE "{table}"')
            for sql in [loose, *schema[1:]]:
                cursor.execute(sql)
        try:
            yield
        finally:
            model.objects.all().delete()
            with connection.cursor() as cursor:
                cursor.execute(f'DROP TABLE "{table}"')
                for sql in schema:
                    cursor.execute(sql)
        return
    qn = connection.ops.quote_name
    table, first = qn(model._meta.db_table), qn(model._meta.get_field(fields[0]).column)
    # MariaDB lets a foreign key use the unique index: give it its own for the while.
    spare = connection.vendor == "mysql"
    with connection.cursor() as cursor:
        if spare:
            cursor.execute(f"CREATE INDEX docnumbers_test_spare ON {table} ({first})")
    with connection.schema_editor() as editor:
        editor.remove_constraint(model, constraint)
    try:
        yield
    finally:
        model.objects.all().delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(model, constraint)
        if spare:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX docnumbers_test_spare ON {table}")


def test_plain_duplicates_are_reported_with_status_1():
    with without_unique(PerNameModel, "name", "number"):
        for name in "aab":
            PerNameModel.objects.create(name=name)
        PerNameModel.objects.filter(name="a", number=1).update(name="b")
        status, reports = audit_json("testapp.PerNameModel")
        assert status == 1
        by_name = {r["scope"]["name"]: r for r in reports}
        assert by_name["b"]["duplicates"] == [{"number": 1, "count": 2}]
        assert gaps(by_name["a"]) == [(1, 1)]
        status, out, err = run("audit", "testapp.PerNameModel", "--no-progress")
        assert status == 1 and "duplicates: 1 (x2)" in out and "1 duplicate number" in err


def test_formatted_duplicates_are_reported():
    with without_unique(Invoice, "invoice_number_counter", "invoice_number"):
        for _ in range(3):
            Invoice.objects.create(issued_on=day("2026-03-01"))
        Invoice.objects.filter(invoice_number=3).update(
            invoice_number=2, invoice_number_display="INV-2026-0002b"
        )
        status, (seq,) = audit_json("testapp.Invoice")
        assert status == 1
        assert seq["duplicates"] == [{"number": 2, "count": 2}]
        assert gaps(seq) == [(3, 3)]  # the counter issued 3; no row holds it now


def test_explained_gaps_are_listed_apart():
    rows = [SimpleModel.objects.create() for _ in range(10)]
    for number in (3, 4, 5, 8):
        rows[number - 1].delete()
    status, out, _ = run(
        "explain", "testapp.SimpleModel.number", "--number", "3", "--to", "4",
        "--kind", "cancelled", "--reason", "credit note CN-7",
    )  # fmt: skip
    assert status == 0 and "Recorded" in out
    _, (seq,) = audit_json("testapp.SimpleModel")
    assert gaps(seq) == [(5, 5), (8, 8)]
    assert [(g["first"], g["last"], g["kind"]) for g in seq["explained_gaps"]] == [
        (3, 4, "cancelled")
    ]
    audit.explain_gap(Counter.objects.get(), 8, reason="voided on paper")
    _, (seq,) = audit_json("testapp.SimpleModel")
    assert gaps(seq) == [(5, 5)]


def test_explain_refuses_stored_and_future_numbers():
    for _ in range(3):
        SimpleModel.objects.create()
    base = ["explain", "testapp.SimpleModel.number", "--reason", "x"]
    assert run(*base, "--number", "2")[0] == 2
    assert run(*base, "--number", "9")[0] == 2
    assert run(*base, "--number", "two")[0] == 2
    assert not GapExplanation.objects.exists()


def test_explain_refuses_numbers_below_the_first_value():
    rows = [StartAtModel.objects.create() for _ in range(3)]  # 100, 101, 102
    rows[0].delete()
    base = ["explain", "testapp.StartAtModel.number", "--reason", "x"]
    for args in (["--number", "99"], ["--number", "0"], ["--number", "98", "--to", "100"]):
        status, _, err = run(*base, *args)
        assert status == 2
        assert "starts at 100" in err and "never issued" in err
        assert "from 100 to 102" in err
    assert not GapExplanation.objects.exists()
    assert run(*base, "--number", "100")[0] == 0


def test_explain_accepts_a_gap_below_start_at_above_an_imported_number():
    # An imported number below start_at is kept; the audit reports the numbers
    # between it and start_at as missing, so they can be explained, not below it.
    StartAtModel.objects.create(number=95)
    StartAtModel.objects.create()
    _, (seq,) = audit_json("testapp.StartAtModel")
    assert gaps(seq) == [(96, 99)]
    base = ["explain", "testapp.StartAtModel.number", "--reason", "x"]
    status, _, err = run(*base, "--number", "94")
    assert status == 2 and "starts at 95" in err
    assert run(*base, "--number", "96", "--to", "99")[0] == 0


def test_function_counters_have_no_known_first_value():
    # Their start (start_at, initial_value) is given per call and not stored, so
    # only the numbers above the counter are refused.
    from docnumbers import next_value

    next_value("refs", start_at=10)
    counter = Counter.objects.get(key="refs")
    assert audit.explain_gap(counter, 3, reason="x").first == 3
    with pytest.raises(audit.AuditInputError, match="never issued"):
        audit.explain_gap(counter, 11, reason="x")


def test_explain_asks_for_a_key_when_the_field_has_several_counters():
    Invoice.objects.create(issued_on=day("2025-01-01"))
    Invoice.objects.create(issued_on=day("2026-01-01"))
    Invoice.objects.create(issued_on=day("2026-01-02"))
    Invoice.objects.get(invoice_number_display="INV-2026-0001").delete()
    base = ["explain", "testapp.Invoice.invoice_number", "--number", "1", "--reason", "void"]
    status, _, err = run(*base)
    assert status == 2 and "--key" in err
    assert run(*base, "--period", "2026")[0] == 0
    _, reports = audit_json("testapp.Invoice")
    explained = [r for r in reports if r["explained_gaps"]]
    assert [r["period"] for r in explained] == ["2026"]


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "testapp.Nope"],
        ["audit", "nope.SimpleModel"],
        ["audit", "testapp.SimpleModel.nope"],
        ["audit", "testapp.SimpleModel.name"],
        ["audit", "testapp.Customer"],
        ["audit", "SimpleModel"],
        ["audit", "--since", "2026-13-01"],
        ["audit", "--since", "yesterday"],
        ["audit", "--format", "xml"],
        ["sync", "testapp.SimpleModel.name"],
    ],
)
def test_bad_input_is_one_line_and_status_2(args):
    status, _, err = run(*args, "--no-progress")
    assert status == 2
    assert err.strip() and "\n" not in err.strip()


def test_csv_output_parses():
    rows = [SimpleModel.objects.create() for _ in range(6)]
    rows[2].delete()
    status, out, _ = run("audit", "testapp.SimpleModel", "--format", "csv", "--no-progress")
    assert status == 0
    lines = list(csv.DictReader(io.StringIO(out)))
    assert list(lines[0]) == CSV_COLUMNS
    assert [(r["finding"], r["first"], r["last"]) for r in lines] == [
        ("summary", "1", "6"),
        ("gap", "3", "3"),
    ]


def test_json_output_parses_for_every_field():
    SimpleModel.objects.create()
    Invoice.objects.create(issued_on=dt.date(2026, 1, 1))
    status, out, _ = run("audit", "--format", "json", "--no-progress")
    assert status == 0
    data = json.loads(out)
    assert data["problems"] is None
    labels = {s["sequence"] for s in data["sequences"]}
    assert {"testapp.SimpleModel.number", "testapp.Invoice.invoice_number"} <= labels


def test_table_output_and_progress_lines():
    rows = [SimpleModel.objects.create() for _ in range(4)]
    rows[1].delete()
    status, out, err = run("audit", "testapp.SimpleModel")
    assert status == 0
    assert out.splitlines()[0].split()[:3] == ["SEQUENCE", "PART", "ISSUED"]
    assert "unexplained gaps: 2" in out
    # Not a terminal: plain "n/N" lines on stderr.
    assert "audit 1/2 testapp.SimpleModel.number (summary)" in err
    assert "audit 2/2" in err


def test_interrupted_sync_changes_nothing(monkeypatch):
    for name in ("a", "b"):
        PerNameModel.objects.create(name=name)
        PerNameModel.objects.create(name=name)
    for key in Counter.objects.values_list("key", flat=True):
        set_counter(key, 0)
    calls = []

    def interrupt(done, total, label):
        calls.append(label)
        if label.startswith("testapp.pername") and len(calls) > 1:
            raise KeyboardInterrupt

    real = audit.apply_moves
    monkeypatch.setattr(
        audit, "apply_moves", lambda moves, **kw: real(moves, **{**kw, "progress": interrupt})
    )
    status, _, err = run("sync", "testapp.PerNameModel", "--apply", "--no-progress")
    assert status == 130 and "nothing was changed" in err
    assert set(Counter.objects.values_list("value", flat=True)) == {0}
    assert not CounterChange.objects.exists()
