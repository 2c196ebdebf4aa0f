"""AutoSequenceField: the declarations users write, and the guarantees they rely on."""

import pytest
from django.db import IntegrityError, connection, transaction

from docnumbers import last_value
from docnumbers.models import Counter
from tests.testapp.models import (
    ComboModel,
    NegativeStartModel,
    PerNameModel,
    SimpleModel,
    StartAtModel,
)

pytestmark = pytest.mark.django_db(transaction=True)


def numbers(model, **filters):
    return list(model.objects.filter(**filters).order_by("pk").values_list("number", flat=True))


def test_numbers_start_at_one_and_count_up():
    assert [SimpleModel.objects.create().number for _ in range(3)] == [1, 2, 3]


def test_start_at_100_gives_100_then_101():
    assert [StartAtModel.objects.create().number for _ in range(2)] == [100, 101]


def test_negative_start_at_counts_up_through_zero():
    assert [NegativeStartModel.objects.create().number for _ in range(4)] == [-2, -1, 0, 1]


def test_unique_with_gives_each_value_its_own_sequence():
    for name in ["a", "b", "a", "c", "a", "b"]:
        PerNameModel.objects.create(name=name)
    assert numbers(PerNameModel, name="a") == [1, 2, 3]
    assert numbers(PerNameModel, name="b") == [1, 2]
    assert numbers(PerNameModel, name="c") == [1]


def test_unique_with_foreign_key_combination():
    one, two = SimpleModel.objects.create(), SimpleModel.objects.create()
    for parent, name in [(one, "x"), (one, "x"), (two, "x"), (one, "y"), (two, "x")]:
        ComboModel.objects.create(simple_model=parent, name=name)
    assert numbers(ComboModel, simple_model=one, name="x") == [1, 2]
    assert numbers(ComboModel, simple_model=two, name="x") == [1, 2]
    assert numbers(ComboModel, simple_model=one, name="y") == [1]


def test_resaving_keeps_the_number_and_takes_none():
    obj = SimpleModel.objects.create(name="first")
    obj.name = "changed"
    obj.save()
    obj.refresh_from_db()
    assert obj.number == 1
    assert SimpleModel.objects.create().number == 2


def test_rolled_back_transaction_gives_its_number_back():
    SimpleModel.objects.create()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert SimpleModel.objects.create().number == 2
        raise RuntimeError("roll back")
    assert SimpleModel.objects.create().number == 2
    assert numbers(SimpleModel) == [1, 2]


def test_rolled_back_savepoint_gives_its_number_back():
    with transaction.atomic():
        SimpleModel.objects.create()
        try:
            with transaction.atomic():
                SimpleModel.objects.create()
                raise RuntimeError
        except RuntimeError:
            pass
        assert SimpleModel.objects.create().number == 2


def test_deleted_number_is_never_issued_again():
    SimpleModel.objects.create()
    last = SimpleModel.objects.create()
    last.delete()
    assert SimpleModel.objects.create().number == 3


def test_explicit_value_is_kept_and_moves_the_counter_forward():
    SimpleModel.objects.create()
    assert SimpleModel.objects.create(number=50).number == 50
    assert SimpleModel.objects.create().number == 51


def test_explicit_value_below_the_counter_does_not_move_it_back():
    for _ in range(5):
        SimpleModel.objects.create()
    SimpleModel.objects.filter(number=3).delete()
    assert SimpleModel.objects.create(number=3).number == 3
    assert SimpleModel.objects.create().number == 6


def test_database_refuses_a_duplicate_number():
    SimpleModel.objects.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        SimpleModel.objects.create(number=1)


def test_database_refuses_a_duplicate_within_unique_with_scope():
    PerNameModel.objects.create(name="a")
    PerNameModel.objects.create(name="b", number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PerNameModel.objects.create(name="a", number=1)


def test_the_field_is_not_offered_in_forms():
    from django.forms import modelform_factory

    form = modelform_factory(SimpleModel, fields="__all__")
    assert "number" not in form.base_fields


def test_bulk_create_numbers_every_object_contiguously_in_list_order():
    SimpleModel.objects.create()
    objs = SimpleModel.objects.bulk_create([SimpleModel(name=str(i)) for i in range(5)])
    assert [o.number for o in objs] == [2, 3, 4, 5, 6]
    assert numbers(SimpleModel) == [1, 2, 3, 4, 5, 6]


def test_bulk_create_takes_one_counter_statement_per_key():
    from django.test.utils import CaptureQueriesContext

    objs = [PerNameModel(name=name) for name in "abababcab"]
    counters = Counter.objects.count()
    with CaptureQueriesContext(connection) as captured:
        PerNameModel.objects.bulk_create(objs)
    sql = [q["sql"] for q in captured.captured_queries]
    # A fixed number of counter statements per key (a, b, c) and one INSERT of the rows:
    # one upsert; on MariaDB an UPDATE, then the creation (new key) or the read back.
    per_key = 2 if connection.vendor == "mysql" else 1
    assert len([s for s in sql if Counter._meta.db_table in s]) == 3 * per_key
    assert len([s for s in sql if PerNameModel._meta.db_table in s]) == 1
    with CaptureQueriesContext(connection) as again:
        PerNameModel.objects.bulk_create([PerNameModel(name=name) for name in "cabbac"])
    assert len([q for q in again.captured_queries if Counter._meta.db_table in q["sql"]]) == (
        3 * per_key
    )
    assert Counter.objects.count() == counters + 3
    assert [o.number for o in objs if o.name == "a"] == [1, 2, 3, 4]
    assert [o.number for o in objs if o.name == "b"] == [1, 2, 3, 4]
    assert [o.number for o in objs if o.name == "c"] == [1]


def test_bulk_create_keeps_explicit_values_and_numbers_after_them():
    objs = SimpleModel.objects.bulk_create([SimpleModel(number=10), SimpleModel(), SimpleModel()])
    assert [o.number for o in objs] == [10, 11, 12]
    assert SimpleModel.objects.create().number == 13


def test_bulk_create_rolled_back_leaves_no_gap():
    with pytest.raises(RuntimeError), transaction.atomic():
        SimpleModel.objects.bulk_create([SimpleModel() for _ in range(3)])
        raise RuntimeError
    assert SimpleModel.objects.create().number == 1


def test_bulk_create_refuses_ignore_conflicts():
    with pytest.raises(ValueError, match="ignore_conflicts"):
        SimpleModel.objects.bulk_create([SimpleModel()], ignore_conflicts=True)


def test_outside_atomic_each_save_commits_its_number():
    assert connection.get_autocommit()
    SimpleModel.objects.create()
    SimpleModel.objects.create()
    assert last_value("testapp.simplemodel.number") == 2


def test_migrations_are_up_to_date():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_counters_live_in_the_database_of_the_row():
    SimpleModel.objects.create()
    SimpleModel.objects.create()
    elsewhere = SimpleModel(name="other")
    elsewhere.save(using="other")
    assert elsewhere.number == 1
    assert SimpleModel.objects.using("other").create().number == 2
    assert [o.number for o in SimpleModel.objects.using("other").bulk_create([SimpleModel()])] == [
        3
    ]
    assert Counter.objects.using("other").get().value == 3
    assert Counter.objects.using("default").get(key="testapp.simplemodel.number").value == 2
    assert last_value("testapp.simplemodel.number", using="other") == 3
