"""Bad input and backend quirks: a clear docnumbers error, and nothing stored changes."""

import datetime as dt
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from docnumbers import CounterOverflow, next_value, next_values
from docnumbers.allocation import MAX_VALUE, MIN_VALUE
from docnumbers.models import Counter
from tests.testapp.models import Order, SimpleModel, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def put_counter_at(key, value):
    next_value(key)
    Counter.objects.filter(key=key).update(value=value)


@pytest.mark.parametrize("atomic", [False, True])
def test_a_counter_at_the_end_of_the_64_bit_range_refuses_and_stays(atomic):
    """SQLite used to store a float past 2**63 - 1; every backend must refuse the same way."""
    put_counter_at("edge", MAX_VALUE - 1)
    assert next_value("edge") == MAX_VALUE
    with pytest.raises(CounterOverflow, match="64-bit"):
        if atomic:
            with transaction.atomic():
                next_value("edge")
        else:
            next_value("edge")
    value = Counter.objects.get(key="edge").value
    assert value == MAX_VALUE and type(value) is int


def test_a_batch_that_would_overflow_is_refused_whole():
    put_counter_at("batch-edge", MAX_VALUE - 3)
    with pytest.raises(CounterOverflow):
        next_values("batch-edge", 5)
    assert Counter.objects.get(key="batch-edge").value == MAX_VALUE - 3
    assert list(next_values("batch-edge", 3)) == [MAX_VALUE - 2, MAX_VALUE - 1, MAX_VALUE]


def test_explicit_numbers_outside_64_bits_are_refused_before_the_insert():
    for number in (MAX_VALUE + 1, MIN_VALUE - 1):
        with pytest.raises(CounterOverflow, match="outside the 64-bit range"):
            SimpleModel.objects.create(number=number)
    assert not SimpleModel.objects.exists()
    assert not Counter.objects.exists()


def test_a_start_at_outside_64_bits_is_refused():
    with pytest.raises(CounterOverflow):
        next_value("far", start_at=MAX_VALUE + 1)


NEW_YEAR_UTC = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)


def test_the_period_of_a_datetime_follows_settings_time_zone_not_the_active_one():
    """23:30 UTC on 31 December is 1 January in Paris (settings.TIME_ZONE)."""
    with timezone.override("Pacific/Pago_Pago"):
        order = Order.objects.create(placed_at=NEW_YEAR_UTC)
    assert order.number_display == "ORD-2701-001"


def test_the_period_of_today_follows_settings_time_zone_not_the_active_one():
    with mock.patch("django.utils.timezone.now", return_value=NEW_YEAR_UTC):
        with timezone.override("Pacific/Pago_Pago"):
            ticket = Ticket.objects.create()
    assert ticket.number_display == "T20270101-0001"


def test_keys_that_differ_only_in_case_space_or_accent_are_four_sequences():
    """MariaDB's usual collation merged them into one counter; every backend keeps four."""
    names = ["Order", "order", "order ", "ordér"]
    assert [next_value(name) for name in names] == [1, 1, 1, 1]
    assert [next_value(name) for name in names] == [2, 2, 2, 2]
    assert Counter.objects.filter(key__in=names).count() == 4


def test_texts_that_differ_only_in_case_are_two_documents():
    """Two series whose prefixes differ in case: their numbers are two texts everywhere."""
    from docnumbers.models import NumberFormat
    from tests.testapp.models import Quote

    upper = NumberFormat.objects.create(code="quote", name="Upper", prefix="Q-")
    lower = NumberFormat.objects.create(code="quote", name="Lower", prefix="q-", position=1)
    a, b = Quote.objects.create(series=upper), Quote.objects.create(series=lower)
    assert (a.number_display, b.number_display) == ("Q-0001", "q-0001")
    assert Quote.objects.get(number_display="q-0001") == b


def test_a_function_key_longer_than_the_key_column_works():
    long_name = "imports/" + "x" * 300
    assert (next_value(long_name), next_value(long_name)) == (1, 2)
    from docnumbers import last_value

    assert last_value(long_name) == 2
    row = Counter.objects.get()
    assert len(row.key) <= 255 and len(row.sequence) <= 255
    assert next_value(long_name + "y") == 1  # another name, another sequence
