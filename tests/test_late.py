"""Late allocation: on PostgreSQL the number is taken inside COMMIT; elsewhere at save time."""

import datetime as dt
import random
import threading

import pytest
from django.db import connection, connections, transaction

from docnumbers import NumberFrozen
from docnumbers.models import PendingNumber
from tests.testapp.models import LateInvoice, LateTicket

pytestmark = pytest.mark.django_db(transaction=True)

D = dt.date(2026, 5, 4)


def at_commit():
    """Whether this backend takes late numbers inside COMMIT."""
    return connection.vendor == "postgresql"


def test_number_is_taken_at_commit_and_readable_afterwards():
    with transaction.atomic():
        doc = LateInvoice.objects.create(issued_on=D)
        if at_commit():
            assert doc.number is None and doc.number_display is None
            assert PendingNumber.objects.count() == 1
        else:
            assert doc.number == 1
    assert doc.number == 1
    assert doc.number_display == "L-2026-0001"
    assert doc.number_counter.period == "2026"
    assert PendingNumber.objects.count() == 0
    stored = LateInvoice.objects.get(pk=doc.pk)
    assert (stored.number, stored.number_display) == (1, "L-2026-0001")


def test_rollback_leaves_no_gap_and_no_pending_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        LateInvoice.objects.create(issued_on=D)
        raise RuntimeError
    with transaction.atomic():
        doc = LateInvoice.objects.create(issued_on=D)
    assert doc.number_display == "L-2026-0001"
    assert PendingNumber.objects.count() == 0


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
    assert PendingNumber.objects.count() == 0
