"""Creating a counter row while other rows are locked never waits on a cycle nobody sees (#12).

MariaDB used to let one transaction at a time create a missing counter row through a
named lock (GET_LOCK), which InnoDB's deadlock detector cannot see: with a gap lock on
the other side, both transactions waited 50 seconds and failed.
"""

import threading
import time

import pytest
from django.db import OperationalError, connections, transaction

from docnumbers import next_value
from docnumbers.models import Counter

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

LIMIT = 5  # seconds: success, or an immediate deadlock error, well within it


def run(*steps):
    """Run each step in a thread of its own (its own connection); return outcomes, seconds."""
    outcomes = [None] * len(steps)

    def target(index, step):
        try:
            step()
            outcomes[index] = "ok"
        except OperationalError as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i, s)) for i, s in enumerate(steps)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "a transaction is still waiting"
    return outcomes, time.monotonic() - started


def is_deadlock(outcome) -> bool:
    return isinstance(outcome, OperationalError) and "deadlock" in str(outcome).lower()


def test_numbering_an_existing_then_a_new_scope_while_another_creates_it():
    next_value("race-b")  # the existing scope; "race-a" sorts before it
    t2_holds_b, t1_creating_a = threading.Event(), threading.Event()

    def t2():
        with transaction.atomic():
            next_value("race-b")
            t2_holds_b.set()
            t1_creating_a.wait(LIMIT)
            time.sleep(0.5)  # let T1 reach its wait, if it waits
            next_value("race-a")

    def t1():
        t2_holds_b.wait(LIMIT)
        t1_creating_a.set()
        with transaction.atomic():
            next_value("race-a")

    (o2, o1), seconds = run(t2, t1)
    assert seconds < LIMIT, f"took {seconds:.1f} s: {o1!r}, {o2!r}"
    assert all(o == "ok" or is_deadlock(o) for o in (o1, o2)), (o1, o2)
    assert "ok" in (o1, o2)
    values = dict(Counter.objects.filter(key__startswith="race-").values_list("key", "value"))
    made_a = [o1, o2].count("ok") if o2 == "ok" else 1
    assert values["race-a"] == made_a
    assert values["race-b"] == (2 if o2 == "ok" else 1)
