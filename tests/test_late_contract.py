"""Late numbers and the number inside the INSERT keep the contract on every path (#18).

On PostgreSQL a late field's number is taken at COMMIT from what the row holds
then; elsewhere it is taken at save time, and the same steps are checked for
what that backend does (an issued number's key is frozen, so the edit is refused).
"""

import copy
import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from docnumbers import NumberFrozen
from docnumbers.models import Counter
from tests.testapp.models import Doc, DocChild, LateInvoice, LateTicket

pytestmark = pytest.mark.django_db(transaction=True)

D = dt.date(2026, 5, 4)
NEXT_YEAR = dt.date(2027, 1, 5)


def at_commit():
    """Whether this backend takes late numbers inside COMMIT."""
    return connection.vendor == "postgresql"


def stored_texts(model=LateInvoice):
    return list(model.objects.order_by("pk").values_list("number_display", flat=True))


def counters(sequence):
    rows = Counter.objects.filter(sequence=sequence).order_by("key")
    return list(rows.values_list("scope", "period", "value"))


# -- 6. an edit before COMMIT numbers the row with its key at COMMIT --------------------------


def test_a_late_document_redated_before_commit_is_numbered_in_its_new_period():
    with transaction.atomic():
        doc = LateInvoice.objects.create(issued_on=D)
        doc.issued_on = NEXT_YEAR
        if at_commit():
            doc.save()
        else:  # numbered at save time: the number is issued, its period frozen
            with pytest.raises(NumberFrozen):
                doc.save()
    if at_commit():
        assert doc.number_display == "L-2027-0001"
        assert stored_texts() == ["L-2027-0001"]
        # The 2026 sequence took nothing: its first document is still 0001.
        assert counters("testapp.lateinvoice.number") == [("", "2027", 1)]
    else:
        assert stored_texts() == ["L-2026-0001"]
    with transaction.atomic():
        other = LateInvoice.objects.create(issued_on=D)
    assert other.number_display == ("L-2026-0001" if at_commit() else "L-2026-0002")


def test_a_late_document_moved_to_another_scope_before_commit_takes_that_scopes_number():
    with transaction.atomic():
        LateTicket.objects.create(queue="b")
        ticket = LateTicket.objects.create(queue="a")
        ticket.queue = "b"
        if at_commit():
            ticket.save()
        else:
            with pytest.raises(NumberFrozen):
                ticket.save()
    with transaction.atomic():
        first_of_a = LateTicket.objects.create(queue="a")
    rows = list(LateTicket.objects.order_by("pk").values_list("queue", "number"))
    if at_commit():
        assert ticket.number == 2
        assert rows == [("b", 1), ("b", 2), ("a", 1)]
        assert first_of_a.number == 1  # no gap left in queue a
    else:
        assert rows == [("b", 1), ("a", 1), ("a", 2)]


def test_an_edit_that_keeps_the_key_keeps_the_number_and_several_edits_count_the_last():
    with transaction.atomic():
        doc = LateInvoice.objects.create(issued_on=D)
        doc.issued_on = dt.date(2026, 6, 1)
        doc.save()
        if at_commit():
            for day in (NEXT_YEAR, dt.date(2028, 2, 1), dt.date(2026, 7, 1)):
                doc.issued_on = day
                doc.save()
    assert stored_texts() == ["L-2026-0001"]
    assert LateInvoice.objects.get().issued_on == (
        dt.date(2026, 7, 1) if at_commit() else dt.date(2026, 6, 1)
    )
    assert [c[1] for c in counters("testapp.lateinvoice.number")] == ["2026"]


def test_an_edit_in_a_rolled_back_savepoint_leaves_the_row_numbered_by_what_it_holds():
    with transaction.atomic():
        doc = LateInvoice.objects.create(issued_on=D)
        if at_commit():
            with pytest.raises(RuntimeError), transaction.atomic():
                doc.issued_on = NEXT_YEAR
                doc.save()
                raise RuntimeError
    stored = LateInvoice.objects.get()
    assert (stored.issued_on, stored.number_display) == (D, "L-2026-0001")
    assert LateInvoice.objects.get(pk=doc.pk).number == 1


# -- 7. a copy of a late document inside atomic() gets a number of its own ---------------------


def test_a_late_document_copied_inside_atomic_is_numbered_at_commit():
    with transaction.atomic():
        doc = LateInvoice.objects.create(issued_on=D)
        first = doc.pk
        doc.pk = None
        doc.save()
        dup = copy.deepcopy(doc)
        dup.pk = None
        dup.save()
    assert doc.pk != first and len({first, doc.pk, dup.pk}) == 3
    assert stored_texts() == ["L-2026-0001", "L-2026-0002", "L-2026-0003"]
    assert (doc.number_display, dup.number_display) == ("L-2026-0002", "L-2026-0003")
    assert LateInvoice.objects.get(pk=first).number_display == "L-2026-0001"


def test_a_plain_late_document_copied_inside_atomic_is_numbered_in_its_own_scope():
    with transaction.atomic():
        ticket = LateTicket.objects.create(queue="a")
        ticket.pk = None
        ticket.queue = "b"
        ticket.save()
    rows = list(LateTicket.objects.order_by("pk").values_list("queue", "number"))
    assert rows == [("a", 1), ("b", 1)]
    assert ticket.number == 1


def test_a_late_document_copied_after_commit_in_a_new_transaction_is_numbered():
    with transaction.atomic():
        doc = LateInvoice.objects.create(issued_on=D)
    with transaction.atomic():
        doc.pk = None
        doc.save()
    assert stored_texts() == ["L-2026-0001", "L-2026-0002"]
    assert doc.number_display == "L-2026-0002"


# -- 9. a plain number of its own on a multi-table child ---------------------------------------


def test_a_multi_table_child_with_a_plain_number_of_its_own_is_numbered_twice():
    Doc.objects.create(issued_on=D)
    with CaptureQueriesContext(connection) as queries:
        child = DocChild.objects.create(issued_on=D)
    assert (child.number_display, child.child_number) == ("DOC-2026-002", 1)
    if at_commit():  # the child's INSERT takes its own plain number
        inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
        assert "docnumbers_next_value" in inserts[-1]
    with transaction.atomic():
        second = DocChild.objects.create(issued_on=D)
        third = DocChild.objects.create(issued_on=NEXT_YEAR)
    assert (second.number_display, second.child_number) == ("DOC-2026-003", 2)
    assert (third.number_display, third.child_number) == ("DOC-2027-001", 3)
    stored = DocChild.objects.order_by("pk").values_list("number_display", "child_number")
    assert list(stored) == [("DOC-2026-002", 1), ("DOC-2026-003", 2), ("DOC-2027-001", 3)]
    # Saved again, nothing moves.
    second.save()
    assert DocChild.objects.get(pk=second.pk).child_number == 2
    assert Counter.objects.get(sequence="testapp.docchild.child_number").value == 3
