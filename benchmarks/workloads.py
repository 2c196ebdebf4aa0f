"""The transactions the worker processes run: one invoice, its lines, then other work.

Each variant numbers the invoice its own way; everything else is the same.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from django.db import DatabaseError, connections, transaction

from .benchapp.compat import LATE_AVAILABLE
from .benchapp.models import (
    CounterRow,
    DefaultInvoice,
    DefaultLine,
    HandPlainTriggerInvoice,
    HandPlainTriggerLine,
    HandTriggerInvoice,
    HandTriggerLine,
    InInsertInvoice,
    InInsertLine,
    InsertTimeInvoice,
    InsertTimeLine,
    LateFormattedInvoice,
    LateFormattedLine,
    LateInvoice,
    LateLine,
    NextvalInvoice,
    NextvalLine,
    ScopedInvoice,
    ScopedLine,
)

LINES = 5
COUNTER_NAME = "invoice"
TODAY = dt.date(2026, 1, 15)


def _fields(worker):
    return {
        "customer": f"Customer {worker}",
        "issued_on": TODAY,
        "total": Decimal("100.00") * LINES,
    }


#: How the lines are written: "each" (one INSERT per line, as a formset saves them) or
#: "bulk" (one bulk_create of the 5 lines: the workload of issue 14). Set by run_timed.
LINE_MODE = {"mode": "each"}


def _lines(model, invoice, using):
    if LINE_MODE["mode"] == "bulk":
        model.objects.using(using).bulk_create(
            [
                model(
                    invoice=invoice,
                    position=position,
                    description=f"Item {position}",
                    quantity=position,
                    amount=Decimal("100.00"),
                )
                for position in range(1, LINES + 1)
            ]
        )
        return
    # One INSERT per line, as a formset saves them.
    for position in range(1, LINES + 1):
        model(
            invoice=invoice,
            position=position,
            description=f"Item {position}",
            quantity=position,
            amount=Decimal("100.00"),
        ).save(using=using, force_insert=True)


def nextval(using, worker, scope):
    invoice = NextvalInvoice(**_fields(worker))
    invoice.save(using=using, force_insert=True)
    _lines(NextvalLine, invoice, using)


def insert_time(using, worker, scope):
    """The usual approach (django-sequences): lock and advance a counter row, then insert."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(CounterRow._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET value = value + 1 WHERE name = %s RETURNING value",
                [COUNTER_NAME],
            )
            (number,) = cursor.fetchone()
    else:
        counters = CounterRow.objects.using(using).filter(name=COUNTER_NAME)
        number = counters.select_for_update().values_list("value", flat=True).get() + 1
        counters.update(value=number)
    invoice = InsertTimeInvoice(number=number, **_fields(worker))
    invoice.save(using=using, force_insert=True)
    _lines(InsertTimeLine, invoice, using)


def in_insert(using, worker, scope):
    """The reference of a save-time number in one statement: the INSERT moves the counter."""
    invoice = InInsertInvoice(**_fields(worker))
    invoice.save(using=using, force_insert=True)
    _lines(InInsertLine, invoice, using)


def docnumbers_default(using, worker, scope):
    invoice = DefaultInvoice(**_fields(worker))
    invoice.save(using=using, force_insert=True)
    _lines(DefaultLine, invoice, using)


def docnumbers_late(using, worker, scope):
    invoice = LateInvoice(**_fields(worker))
    invoice.save(using=using, force_insert=True)
    _lines(LateLine, invoice, using)


def docnumbers_late_formatted(using, worker, scope):
    invoice = LateFormattedInvoice(**_fields(worker))
    invoice.save(using=using, force_insert=True)
    _lines(LateFormattedLine, invoice, using)


def hand_trigger(using, worker, scope):
    invoice = HandTriggerInvoice(**_fields(worker))
    invoice.save(using=using, force_insert=True)
    _lines(HandTriggerLine, invoice, using)


def hand_plain_trigger(using, worker, scope):
    invoice = HandPlainTriggerInvoice(**_fields(worker))
    invoice.save(using=using, force_insert=True)
    _lines(HandPlainTriggerLine, invoice, using)


def scoped(using, worker, scope):
    invoice = ScopedInvoice(branch=scope, **_fields(worker))
    invoice.save(using=using, force_insert=True)
    _lines(ScopedLine, invoice, using)


#: name -> (transaction body, invoice model, line model)
VARIANTS = {
    "nextval": (nextval, NextvalInvoice, NextvalLine),
    "insert-time counter": (insert_time, InsertTimeInvoice, InsertTimeLine),
    "counter in the INSERT": (in_insert, InInsertInvoice, InInsertLine),
    "docnumbers default": (docnumbers_default, DefaultInvoice, DefaultLine),
    "docnumbers late": (docnumbers_late, LateInvoice, LateLine),
    "docnumbers late formatted": (
        docnumbers_late_formatted,
        LateFormattedInvoice,
        LateFormattedLine,
    ),
    "hand-written trigger": (hand_trigger, HandTriggerInvoice, HandTriggerLine),
    "hand-written plain trigger": (
        hand_plain_trigger,
        HandPlainTriggerInvoice,
        HandPlainTriggerLine,
    ),
    "scoped": (scoped, ScopedInvoice, ScopedLine),
}


def available(variant: str, vendor: str) -> str | None:
    """None if ``variant`` can run on ``vendor``, else why not."""
    if variant == "docnumbers late" and not LATE_AVAILABLE:
        return "not available (this docnumbers has no AutoSequenceField(late=True))"
    hand = ("hand-written trigger", "hand-written plain trigger", "counter in the INSERT")
    if variant in hand and vendor != "postgresql":
        return "not available (PostgreSQL only)"
    if variant == "nextval" and vendor not in ("postgresql", "mysql"):
        return f"not available ({vendor} has no sequences)"
    return None


def run_timed(alias, *, worker, variant, work_ms, seconds, start, scope=None, lines="each"):
    """Run transactions of ``variant`` from ``start`` for ``seconds``; count the commits.

    Also the CPU time this process spent per committed transaction (the client's
    share: Django, the driver, docnumbers; the server's is not in it).
    """
    LINE_MODE["mode"] = lines
    body = VARIANTS[variant][0]
    connection = connections[alias]
    connection.ensure_connection()
    pause = work_ms / 1000
    end = start + seconds
    while (now := time.monotonic()) < start:
        time.sleep(min(0.01, start - now))
    committed = errors = 0
    error = None
    cpu = time.process_time()
    while time.monotonic() < end:
        try:
            with transaction.atomic(using=alias):
                body(alias, worker, scope)
                if pause:
                    time.sleep(pause)  # the rest of the request: templates, PDF, a web call
        except DatabaseError as exc:
            errors += 1
            error = error or repr(exc)
            continue
        if time.monotonic() <= end:
            committed += 1
    cpu = time.process_time() - cpu
    return {"committed": committed, "errors": errors, "error": error, "cpu": cpu}
