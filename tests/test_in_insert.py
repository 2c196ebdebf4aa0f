"""A plain field's number taken by its own INSERT on PostgreSQL: one statement per save (#14).

Elsewhere (SQLite, MariaDB, formatted fields, batches) the counter statement comes
first, as before. Every test runs on the three databases and says what each does.
"""

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from docnumbers import CounterOverflow, allocation, backends
from docnumbers.models import Counter
from tests.testapp.models import (
    Invoice,
    LateTicket,
    PerNameModel,
    SimpleChild,
    SimpleModel,
    SimpleProxy,
)

pytestmark = pytest.mark.django_db(transaction=True)

MAX_VALUE = 2**63 - 1


def in_insert():
    """Whether this backend takes a plain field's number inside the INSERT."""
    return connection.vendor == "postgresql"


def statements(queries):
    return [q["sql"].split(" ", 1)[0] for q in queries if not q["sql"].startswith("SAVEPOINT")]


def test_a_plain_save_sends_one_statement_and_learns_its_number():
    SimpleModel.objects.create()  # the counter exists: the next save is the usual one
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        doc = SimpleModel.objects.create(name="b")
    counter_first = ["INSERT", "INSERT"] if connection.vendor != "mysql" else None
    if in_insert():
        assert statements(queries) == ["INSERT"]
        assert "docnumbers_next_value" in queries[0]["sql"]
    elif counter_first is not None:
        assert statements(queries) == counter_first  # the counter upsert, then the row
    else:  # MariaDB: UPDATE the counter, read it back, then the row
        assert statements(queries) == ["UPDATE", "SELECT", "INSERT"]
    assert doc.number == 2
    assert SimpleModel.objects.get(pk=doc.pk).number == 2
    # Saved again it is an update that keeps its number.
    doc.name = "c"
    doc.save()
    assert SimpleModel.objects.get(pk=doc.pk).number == 2
    assert Counter.objects.get().value == 2


def test_the_first_save_of_a_key_creates_its_counter_at_start_at():
    docs = [PerNameModel.objects.create(name=n) for n in ("a", "b", "a", "b", "a")]
    assert [d.number for d in docs] == [1, 1, 2, 2, 3]
    values = dict(Counter.objects.values_list("scope", "value"))
    assert sorted(values.values()) == [2, 3]


def test_a_rolled_back_insert_gives_its_number_back_and_a_retry_takes_it_again():
    SimpleModel.objects.create()
    doc = SimpleModel(name="retry")
    with pytest.raises(RuntimeError), transaction.atomic():
        doc.save()
        assert doc.number == 2
        raise RuntimeError
    with transaction.atomic():
        doc.save()
    assert doc.number == 2
    assert list(SimpleModel.objects.order_by("number").values_list("number", flat=True)) == [1, 2]
    # And a copy of it is a new document with the next number.
    doc.pk = None
    doc.save()
    assert doc.number == 3


def test_an_insert_that_fails_takes_no_number_and_the_next_save_continues():
    first = SimpleModel.objects.create()
    clash = SimpleModel(pk=first.pk, name="same primary key")
    with pytest.raises(IntegrityError), transaction.atomic():
        clash.save(force_insert=True)
    # The INSERT failed: on PostgreSQL it never returned a number.
    assert clash.number is None or not in_insert()
    assert SimpleModel.objects.create().number == 2
    assert Counter.objects.get().value == 2


def test_proxies_and_multi_table_children_share_the_sequence():
    numbers = [
        SimpleModel.objects.create().number,
        SimpleProxy.objects.create().number,
        SimpleChild.objects.create(note="child").number,
        SimpleModel.objects.create().number,
    ]
    assert numbers == [1, 2, 3, 4]
    child = SimpleChild.objects.get()
    assert (child.number, child.note) == (3, "child")


def test_a_late_plain_field_saved_in_autocommit_is_numbered_by_its_insert():
    ticket = LateTicket.objects.create(queue="q")
    assert ticket.number == 1
    assert LateTicket.objects.values_list("number", flat=True).get() == 1


def test_bulk_create_and_formatted_fields_keep_their_one_statement_per_key():
    with CaptureQueriesContext(connection) as queries:
        docs = SimpleModel.objects.bulk_create([SimpleModel() for _ in range(3)])
    assert [d.number for d in docs] == [1, 2, 3]
    assert not any("docnumbers_next_value" in q["sql"] for q in queries)
    import datetime as dt

    invoice = Invoice.objects.create(issued_on=dt.date(2026, 5, 1))
    assert invoice.invoice_number_display == "INV-2026-0001"


def test_without_the_function_a_save_takes_its_number_first(monkeypatch):
    """A database migrated without docnumbers' 0009 (or a test database built without
    migrations) still numbers, with the counter statement first."""
    monkeypatch.setattr(allocation, "_in_insert", {})
    ops = type(backends.ops(connection))
    monkeypatch.setattr(ops, "has_next_value_sql", lambda self: "SELECT false", raising=False)
    with CaptureQueriesContext(connection) as queries:
        doc = SimpleModel.objects.create()
    assert doc.number == 1
    assert not any("docnumbers_next_value" in q["sql"] for q in queries)
    monkeypatch.undo()
    allocation.forget_functions()


def test_the_end_of_the_64_bit_range_is_refused_and_nothing_moves():
    SimpleModel.objects.create()
    Counter.objects.update(value=MAX_VALUE)
    expected = DataError if in_insert() else CounterOverflow
    with pytest.raises(expected, match="64-bit range"):
        with transaction.atomic():
            SimpleModel.objects.create()
    assert Counter.objects.get().value == MAX_VALUE
    assert SimpleModel.objects.count() == 1


def test_the_key_recorded_for_a_number_is_the_one_the_engine_computes():
    """The INSERT path builds a plain field's key itself; it must be the engine's key."""
    from docnumbers import numbering, state

    doc = PerNameModel.objects.create(name="acme")
    field = PerNameModel._meta.get_field("number")
    record = state.of(doc).issued["number"]
    (key,) = numbering.group_by_key(field, [doc], "default")
    assert (record.number, record.key, record.pk) == (1, key, doc.pk)
