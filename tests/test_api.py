"""The function API and the django-sequences compatible names."""

import threading

import pytest
from django.db import connection, connections, transaction

import docnumbers
from docnumbers import (
    CounterLocked,
    Sequence,
    delete,
    get_last_value,
    get_next_value,
    get_next_values,
    last_value,
    next_value,
    next_values,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_next_value_counts_per_key():
    assert [next_value("orders") for _ in range(3)] == [1, 2, 3]
    assert next_value("batches") == 1
    assert last_value("orders") == 3
    assert last_value("never-used") is None


def test_next_value_start_at_applies_the_first_time_only():
    assert next_value("refs", start_at=1000) == 1000
    assert next_value("refs", start_at=5) == 1001


def test_next_values_returns_a_contiguous_range():
    assert next_value("lots") == 1
    assert next_values("lots", 4) == range(2, 6)
    assert next_values("fresh", 3, start_at=10) == range(10, 13)


def test_next_values_rejects_a_count_below_one():
    with pytest.raises(ValueError, match="count"):
        next_values("lots", 0)


def test_bad_key_and_start_at_are_refused():
    with pytest.raises(TypeError, match="non-empty string"):
        next_value("")
    with pytest.raises(TypeError, match="start_at must be an int"):
        next_value("x", start_at="1")


def test_rollback_returns_the_value():
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_value("rb") == 1
        raise RuntimeError
    assert next_value("rb") == 1


def test_sequences_api_matches_django_sequences():
    assert get_last_value() is None
    assert get_next_value() == 1
    assert get_next_value("invoices", initial_value=1000) == 1000
    assert get_next_value("invoices", initial_value=1000) == 1001
    assert get_last_value("invoices") == 1001
    assert get_next_values(3, "invoices") == range(1002, 1005)
    assert delete("invoices") is True
    assert delete("invoices") is False
    assert get_last_value("invoices") is None


def test_reset_value_is_exclusive():
    values = [get_next_value("cycle", initial_value=1, reset_value=4) for _ in range(7)]
    assert values == [1, 2, 3, 1, 2, 3, 1]


def test_reset_value_must_exceed_initial_value():
    with pytest.raises(ValueError, match="reset_value"):
        get_next_value("cycle", initial_value=5, reset_value=5)


def test_sequence_object_iterates_and_batches():
    seq = Sequence("tickets", initial_value=7)
    assert seq.get_last_value() is None
    assert next(seq) == 7
    assert seq.get_next_value() == 8
    assert seq.get_next_values(2) == range(9, 11)
    assert [v for v, _ in zip(seq, range(2), strict=False)] == [11, 12]
    assert seq.delete() is True


def test_nowait_path_works_when_nobody_holds_the_row():
    assert get_next_value("nw", nowait=True) == 1
    assert get_next_value("nw", nowait=True) == 2
    assert next_values("nw", 2, nowait=True) == range(3, 5)


def test_nowait_raises_counter_locked_at_once_when_the_row_is_locked():
    next_value("busy")  # the row exists and is committed
    locked = threading.Event()
    release = threading.Event()

    def holder():
        try:
            with transaction.atomic():
                next_value("busy")
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert locked.wait(10)
        # Called in autocommit: on SQLite with transaction_mode IMMEDIATE an outer
        # atomic() would already wait for the lock at BEGIN (see the README).
        with pytest.raises(CounterLocked) as info:
            get_next_value("busy", nowait=True)
        assert "busy" in str(info.value)
    finally:
        release.set()
        thread.join(10)
    assert next_value("busy") == 3


def test_counter_locked_is_an_operational_error():
    from django.db.utils import OperationalError

    assert issubclass(CounterLocked, OperationalError)


def test_using_routes_to_the_named_database():
    assert next_value("routed", using="default") == 1
    assert last_value("routed", using="default") == 1
    assert connection.alias == "default"


def test_public_api_names():
    for name in ["AutoSequenceField", "next_value", "next_values", "last_value", "Format"]:
        assert hasattr(docnumbers, name)
