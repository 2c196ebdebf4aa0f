"""The django-sequences names behave as django-sequences documents them (issue #12).

Every behaviour below is that of django-sequences 3.0 (its README and its own
tests), except where a test says "unlike django-sequences"; the README lists
those differences under "Numbers without a field".
"""

import contextlib
import inspect
import itertools
import threading

import pytest
from django.db import DatabaseError, connections, transaction
from django.db.models import ProtectedError

from docnumbers import (
    CounterLocked,
    Sequence,
    delete,
    get_last_value,
    get_next_value,
    get_next_values,
    next_value,
)
from docnumbers.models import Counter, CounterChange, GapExplanation
from tests.testapp.models import SimpleModel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["autocommit", "atomic"])
def mode(request):
    """django-sequences runs its tests in autocommit and inside a transaction: so do these."""
    context = transaction.atomic() if request.param == "atomic" else contextlib.nullcontext()
    with context:
        yield request.param


# -- signatures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "function, signature",
    [
        (
            get_next_value,
            "(sequence_name='default', initial_value=1, reset_value=None, *, nowait=False, "
            "using=None)",
        ),
        (
            get_next_values,
            "(batch_size, sequence_name='default', initial_value=1, *, nowait=False, using=None)",
        ),
        (get_last_value, "(sequence_name='default', *, using=None)"),
        (delete, "(sequence_name='default', *, using=None)"),
        (
            Sequence,
            "(sequence_name='default', initial_value=1, reset_value=None, *, using=None)",
        ),
        (Sequence.get_next_value, "(self, *, nowait=False)"),
        (Sequence.get_next_values, "(self, batch_size, *, nowait=False)"),
        (Sequence.get_last_value, "(self)"),
        (Sequence.delete, "(self)"),
    ],
)
def test_signatures_are_those_of_django_sequences(function, signature):
    assert str(inspect.signature(function)) == signature


# -- get_next_value ----------------------------------------------------------------------


def test_get_next_value_defaults_and_independent_sequences(mode):
    assert get_last_value() is None
    assert [get_next_value(), get_next_value()] == [1, 2]
    assert get_last_value() == 2
    assert [get_next_value("cases"), get_next_value("invoices"), get_next_value("cases")] == [
        1,
        1,
        2,
    ]


def test_initial_value_matters_only_for_a_new_sequence(mode):
    assert get_next_value("customers", initial_value=1000) == 1000
    assert get_next_value("customers", initial_value=1000) == 1001
    assert get_next_value("customers") == 1002
    assert get_next_value("zero", initial_value=0) == 0


def test_reset_value_is_exclusive_and_wraps_to_initial_value(mode):
    assert [get_next_value("reference", reset_value=3) for _ in range(4)] == [1, 2, 1, 2]
    assert [get_next_value("reference", 1, 3) for _ in range(4)] == [1, 2, 1, 2]
    seconds = [get_next_value("seconds", initial_value=0, reset_value=4) for _ in range(6)]
    assert seconds == [0, 1, 2, 3, 0, 1]


def test_reset_value_wraps_a_sequence_already_past_it(mode):
    for _ in range(5):
        get_next_value("late-reset")
    assert get_next_value("late-reset", reset_value=3) == 1


@pytest.mark.parametrize("initial_value, reset_value", [(1, 1), (5, 3)])
def test_reset_value_must_exceed_initial_value(initial_value, reset_value):
    with pytest.raises(ValueError, match="reset_value"):
        get_next_value("error", initial_value, reset_value)
    with pytest.raises(ValueError, match="reset_value"):
        Sequence("error", initial_value, reset_value)
    assert get_last_value("error") is None


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"initial_value": "1"}, "initial_value"),
        ({"initial_value": 1.0}, "initial_value"),
        ({"reset_value": "9"}, "reset_value"),
        ({"reset_value": True}, "reset_value"),
    ],
)
def test_arguments_that_are_not_ints_are_named(kwargs, name):
    with pytest.raises(TypeError, match=f"{name} must be an int"):
        get_next_value("typed", **kwargs)
    with pytest.raises(TypeError, match=f"{name} must be an int"):
        Sequence("typed", **kwargs)
    assert get_last_value("typed") is None


# -- get_next_values ---------------------------------------------------------------------


def test_batches_continue_the_sequence(mode):
    assert get_next_values(3, "reference") == range(1, 4)
    assert get_next_values(3, "reference") == range(4, 7)
    assert list(get_next_values(1, "reference")) == [7]
    assert list(get_next_values(0, "reference")) == []
    assert list(get_next_values(batch_size=2, sequence_name="reference")) == [8, 9]
    assert get_next_value("reference") == 10


def test_a_first_batch_starts_at_initial_value(mode):
    assert get_next_values(10) == range(1, 11)
    assert get_next_values(10) == range(11, 21)
    assert get_next_values(3, "lots", initial_value=100) == range(100, 103)
    assert get_next_values(3, "lots", initial_value=100) == range(103, 106)


def test_a_batch_of_zero_is_an_empty_range_where_the_next_value_would_be(mode):
    get_next_values(3, "existing")
    empty = get_next_values(0, "existing")
    assert (empty.start, empty.stop) == (4, 4)
    assert get_last_value("existing") == 3
    assert get_next_value("existing") == 4
    empty = get_next_values(0, "new", initial_value=50)
    assert (empty.start, empty.stop) == (50, 50)


def test_a_batch_of_zero_does_not_start_a_sequence(mode):
    # Unlike django-sequences, which creates the row at initial_value - 1 and then
    # reports it as the last value: no value was generated, so get_last_value is None,
    # as django-sequences documents.
    assert list(get_next_values(0, "untouched", initial_value=7)) == []
    assert get_last_value("untouched") is None
    assert delete("untouched") is False
    assert get_next_value("untouched", initial_value=7) == 7


def test_a_negative_batch_is_refused():
    # Unlike django-sequences, which would move the sequence back and hand out
    # values a second time.
    get_next_values(3, "neg")
    with pytest.raises(ValueError, match="batch_size must be 0 or more, not -2"):
        get_next_values(-2, "neg")
    with pytest.raises(ValueError, match="batch_size"):
        Sequence("neg").get_next_values(-1)
    assert get_last_value("neg") == 3


@pytest.mark.parametrize("batch_size", [2.0, "2", True, None])
def test_a_batch_size_that_is_not_an_int_is_refused(batch_size):
    with pytest.raises(TypeError, match="batch_size must be an int"):
        get_next_values(batch_size, "typed")
    assert get_last_value("typed") is None


def test_batches_take_no_reset_value(mode):
    # get_next_values has no reset_value, and Sequence.get_next_values does not
    # apply the sequence's: a batch may go past it; the next single value wraps.
    seq = Sequence("cycle", reset_value=3)
    assert [seq.get_next_value(), seq.get_next_value()] == [1, 2]
    assert seq.get_next_values(2) == range(3, 5)
    assert seq.get_next_value() == 1


def test_a_batch_is_given_back_by_a_rollback():
    get_next_values(2, "rb")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert get_next_values(5, "rb") == range(3, 8)
        raise RuntimeError
    assert get_next_values(1, "rb") == range(3, 4)


# -- get_last_value and delete -----------------------------------------------------------


def test_get_last_value_follows_the_sequence(mode):
    assert get_last_value("cases") is None
    get_next_value("cases")
    assert get_last_value("cases") == 1
    get_next_values(4, "cases")
    assert get_last_value("cases") == 5


def test_delete_says_whether_the_sequence_existed_and_restarts_it(mode):
    assert get_next_value("disposable", initial_value=5) == 5
    assert delete("disposable") is True
    assert get_last_value("disposable") is None
    assert delete("disposable") is False
    assert get_next_value("disposable", initial_value=5) == 5
    assert delete() is False


def test_delete_keeps_a_sequence_with_an_audit_history():
    # Unlike django-sequences: its counter changes and gap explanations are the
    # audit trail, which is never deleted.
    next_value("audited")
    next_value("audited")
    counter = Counter.objects.get(key="audited")
    CounterChange.objects.create(counter=counter, old_value=1, new_value=2, reason="x")
    GapExplanation.objects.create(counter=counter, first=1, last=1, reason="void")
    with pytest.raises(ProtectedError) as info:
        delete("audited")
    message = str(info.value.args[0])
    assert "'audited'" in message and "history" in message and "another name" in message
    assert get_last_value("audited") == 2


def test_delete_refuses_the_counter_of_a_field():
    # The names of fields' counters (app_label.model.field) are not sequences of
    # this API: deleting one would restart the field's numbers on duplicates.
    SimpleModel.objects.create()
    with pytest.raises(ValueError) as info:
        delete("testapp.simplemodel.number")
    assert "testapp.SimpleModel.number" in str(info.value)
    assert get_last_value("testapp.simplemodel.number") == 1
    assert SimpleModel.objects.create().number == 2


# -- Sequence ----------------------------------------------------------------------------


def test_sequence_defaults_and_methods(mode):
    seq = Sequence()
    assert seq.get_last_value() is None
    assert [seq.get_next_value(), seq.get_next_value()] == [1, 2]
    assert seq.get_last_value() == 2
    assert list(seq.get_next_values(3)) == [3, 4, 5]
    assert list(seq.get_next_values(0)) == []
    assert list(seq.get_next_values(batch_size=2)) == [6, 7]
    assert seq.delete() is True
    assert seq.get_last_value() is None
    assert seq.delete() is False


def test_sequence_is_an_infinite_iterator(mode):
    seq = Sequence("claims", initial_value=0)
    assert iter(seq) is seq
    assert list(itertools.islice(seq, 5)) == [0, 1, 2, 3, 4]
    assert next(seq) == 5


def test_sequence_keeps_initial_and_reset_value(mode):
    seq = Sequence("cycle", initial_value=10, reset_value=12)
    assert [next(seq) for _ in range(5)] == [10, 11, 10, 11, 10]


# -- nowait and using --------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: get_next_value("busy", nowait=True),
        lambda: get_next_values(2, "busy", nowait=True),
        lambda: Sequence("busy").get_next_value(nowait=True),
        lambda: Sequence("busy").get_next_values(3, nowait=True),
    ],
    ids=["get_next_value", "get_next_values", "Sequence.get_next_value", "Sequence.batch"],
)
def test_nowait_raises_a_database_error_when_the_sequence_is_locked(call):
    get_next_value("busy")
    locked, release = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                get_next_value("busy")
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert locked.wait(10)
        with pytest.raises(DatabaseError) as info:
            call()
        assert isinstance(info.value, CounterLocked)
    finally:
        release.set()
        thread.join(10)
    assert get_next_value("busy") == 3


def test_nowait_takes_values_when_nobody_holds_the_sequence(mode):
    assert get_next_value("free", nowait=True) == 1
    assert get_next_values(2, "free", nowait=True) == range(2, 4)
    assert Sequence("free").get_next_value(nowait=True) == 4


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_using_keeps_each_database_its_own_sequences():
    assert get_next_value("routed", using="other") == 1
    assert get_next_values(2, "routed", using="other") == range(2, 4)
    assert get_last_value("routed") is None
    assert get_last_value("routed", using="other") == 3
    seq = Sequence("routed", using="other")
    assert seq.get_next_value() == 4
    assert list(seq.get_next_values(0)) == []
    assert get_next_value("routed") == 1
    assert delete("routed", using="other") is True
    assert get_last_value("routed", using="other") is None
    assert get_last_value("routed") == 1


def test_the_function_api_cannot_issue_a_fields_numbers():
    """A field's counters are the field's: next_value on their name would reissue numbers."""
    from docnumbers import next_value

    SimpleModel.objects.create()
    for name in ("testapp.simplemodel.number", "testapp.invoice.invoice_number#1@2026"):
        with pytest.raises(ValueError, match="names the counters of testapp"):
            next_value(name)
        with pytest.raises(ValueError):
            get_next_value(name)
    assert SimpleModel.objects.create().number == 2
