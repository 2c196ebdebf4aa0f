"""The numbering contract, written once and run on every path that issues a number (#18).

Each rule of the README ("Guarantees", "A document's life") is one test below, run for
every model shape (plain, scoped, formatted, series, proxy, multi-table parent and child,
abstract-derived, late) in every transaction mode (``atomic()``, a savepoint inside it,
autocommit), on the database of the run. Which path issues the number follows from the
shape, the mode and the backend (``path``): a save-time counter statement, the number
taken inside the INSERT (PostgreSQL, plain fields), or the COMMIT trigger (PostgreSQL,
``late=True`` inside a transaction). Every assertion message names the path, so a failure
says where the rule broke.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import io
import itertools
import json
import threading
import time
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import close_old_connections, connection, connections, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from docnumbers import NumberFrozen, StaleDocument, next_value, renumber
from docnumbers.clock import today
from docnumbers.fields import sequence_fields
from docnumbers.models import Counter, CounterChange, GapExplanation, NumberFormat
from tests.testapp.models import (
    CreditNote,
    Customer,
    CustomerDocument,
    Doc,
    DocChild,
    DraftInvoice,
    DraftTicket,
    Invoice,
    InvoiceProxy,
    LateDraft,
    LateInvoice,
    LateInvoiceChild,
    LateInvoiceProxy,
    LateTicket,
    Ledger,
    PerNameModel,
    Quote,
    Receipt,
    SimpleChild,
    SimpleModel,
    SimpleProxy,
    Ticket,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "other"])

D = dt.date
MODES = ["atomic", "savepoint", "autocommit"]
IN_TRANSACTION = ["atomic", "savepoint"]


class Boom(Exception):
    pass


def customer(name):
    return Customer.objects.get_or_create(name=name)[0]


def quote_series(name="Standard"):
    prefix = {"Standard": "Q-", "Export": "QX-"}[name]
    return NumberFormat.objects.get_or_create(
        code="quote", name=name, defaults={"prefix": prefix, "padding": 4}
    )[0]


@dataclasses.dataclass
class Shape:
    """A model shape: how to make its i-th document, and what its n-th number reads."""

    name: str
    model: type
    values: Callable[[], dict]
    text: Callable[[int], str]
    #: A change of what the number depends on (scope, series, period), or None.
    move: Callable[[object], None] | None = None
    #: A field that may change freely, or None.
    free: str | None = None
    #: The numbered field under test, when the model has several.
    field_name: str | None = None

    @property
    def field(self):
        fields = sequence_fields(self.model)
        return (
            next(f for f in fields if f.name == self.field_name) if self.field_name else fields[0]
        )

    @property
    def formatted(self) -> bool:
        return self.field.format_code is not None

    def new(self, **extra):
        return self.model(**{**self.values(), **extra})


def _set(name, value):
    return lambda doc: setattr(doc, name, value() if callable(value) else value)


def _ticket_text(n):
    return f"T{today():%Y%m%d}-{n:04d}"


SHAPES = [
    Shape("plain", SimpleModel, dict, str, free="name"),
    Shape("plain-proxy", SimpleProxy, dict, str, free="name"),
    Shape("plain-mti-child", SimpleChild, dict, str, free="note"),
    Shape(
        "plain-mti-child-own-field",
        DocChild,
        lambda: {"issued_on": D(2026, 3, 14)},
        str,
        field_name="child_number",
    ),
    Shape(
        "plain-scoped-by-a-name-ending-in-id",
        Ledger,
        lambda: {"external_id": "A-1"},
        str,
        _set("external_id", "B-2"),
    ),
    Shape("plain-scoped", PerNameModel, lambda: {"name": "north"}, str, _set("name", "south")),
    Shape(
        "formatted",
        Invoice,
        lambda: {"issued_on": D(2026, 3, 14)},
        lambda n: f"INV-2026-{n:04d}",
        _set("issued_on", D(2027, 1, 2)),
    ),
    Shape(
        "formatted-proxy",
        InvoiceProxy,
        lambda: {"issued_on": D(2026, 3, 14)},
        lambda n: f"INV-2026-{n:04d}",
        _set("issued_on", D(2027, 1, 2)),
    ),
    Shape(
        "formatted-mti-child",
        CreditNote,
        lambda: {"issued_on": D(2026, 3, 14)},
        lambda n: f"INV-2026-{n:04d}",
        _set("issued_on", D(2027, 1, 2)),
        free="reason",
    ),
    Shape(
        "formatted-scoped",
        CustomerDocument,
        lambda: {"customer": customer("ACME Ltd"), "issued_on": D(2026, 3, 14)},
        lambda n: f"C-2026-{n:03d}",
        _set("customer", lambda: customer("Globex")),
    ),
    Shape(
        "series",
        Quote,
        lambda: {"series": quote_series()},
        lambda n: f"Q-{n:04d}",
        _set("series", lambda: quote_series("Export")),
    ),
    Shape("formatted-undated", Ticket, dict, _ticket_text, free="title"),
    Shape(
        "abstract-derived",
        Receipt,
        lambda: {"issued_on": D(2026, 3, 14)},
        lambda n: f"R-2026-{n:03d}",
        _set("issued_on", D(2027, 1, 2)),
        free="payer",
    ),
    Shape(
        "late-formatted",
        LateInvoice,
        lambda: {"issued_on": D(2026, 3, 14)},
        lambda n: f"L-2026-{n:04d}",
        _set("issued_on", D(2027, 1, 2)),
    ),
    Shape(
        "late-formatted-proxy",
        LateInvoiceProxy,
        lambda: {"issued_on": D(2026, 3, 14)},
        lambda n: f"L-2026-{n:04d}",
        _set("issued_on", D(2027, 1, 2)),
    ),
    Shape(
        "late-formatted-mti-child",
        LateInvoiceChild,
        lambda: {"issued_on": D(2026, 3, 14)},
        lambda n: f"L-2026-{n:04d}",
        _set("issued_on", D(2027, 1, 2)),
        free="note",
    ),
    Shape("late-plain-scoped", LateTicket, lambda: {"queue": "a"}, str, _set("queue", "b")),
    # Drafts (#21): created posted, so the rules of an issued document apply to them too.
    Shape(
        "draft",
        DraftInvoice,
        lambda: {"issued_on": D(2026, 3, 14), "status": "posted"},
        lambda n: f"D-2026-{n:04d}",
        _set("issued_on", D(2027, 1, 2)),
        free="note",
    ),
    Shape(
        "late-draft",
        LateDraft,
        lambda: {"issued_on": D(2026, 3, 14), "status": "posted"},
        lambda n: f"LD-2026-{n:04d}",
        _set("issued_on", D(2027, 1, 2)),
    ),
    Shape(
        "draft-plain-scoped",
        DraftTicket,
        lambda: {"queue": "a", "posted": True},
        str,
        _set("queue", "b"),
    ),
]
BY_NAME = {shape.name: shape for shape in SHAPES}
shapes = pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])


#: Every model with rows in these tests, children before their parents.
MODELS = [
    LateDraft,
    DraftInvoice,
    DraftTicket,
    Ledger,
    DocChild,
    Doc,
    Receipt,
    Ticket,
    Quote,
    CustomerDocument,
    CreditNote,
    Invoice,
    LateInvoiceChild,
    LateInvoice,
    LateTicket,
    PerNameModel,
    SimpleChild,
    SimpleModel,
]


def each(modes):
    """Yield each mode (or case) with no document and no counter stored: one test runs them
    all, so the database is flushed once per test, not once per mode."""
    for index, mode in enumerate(modes):
        if index:
            for model in [*MODELS, GapExplanation, CounterChange, Counter]:
                model._base_manager.all().delete()
        yield mode


def path(shape, mode) -> str:
    """Which way the number of ``shape`` is issued in ``mode`` on this backend."""
    field = shape.field
    if connection.vendor == "postgresql":
        if field.late and mode != "autocommit":
            return f"COMMIT trigger ({mode})"
        if field.format_code is None:
            return f"number in the INSERT ({mode})"
    return f"save-time counter statement ({mode})"


@contextlib.contextmanager
def in_mode(mode):
    """Run the block in ``mode``: a transaction, a savepoint inside one, or autocommit."""
    if mode == "autocommit":
        assert connection.get_autocommit()
        yield
        return
    with transaction.atomic():
        if mode == "savepoint":
            with transaction.atomic():
                yield
        else:
            yield


def stored(shape, pk):
    """(number, text) of the row ``pk`` as the database holds it."""
    field = shape.field
    row = shape.model._base_manager.get(pk=pk)
    number = row.__dict__[field.attname]
    return number, (row.__dict__[field.display_name] if shape.formatted else str(number))


def text_of(shape, doc):
    number = getattr(doc, shape.field.attname)
    return getattr(doc, shape.field.display_name) if shape.formatted else str(number)


def all_stored(shape):
    pks = shape.model._base_manager.order_by("pk").values_list("pk", flat=True)
    return [stored(shape, pk) for pk in pks]


def expected(shape, *numbers):
    return [(n, shape.text(n)) for n in numbers]


def clear_pk(doc):
    """What a user does to copy a document: clear its primary key (and its parents')."""
    for model in [type(doc), *type(doc)._meta.get_parent_list()]:
        setattr(doc, model._meta.pk.attname, None)


def audit_status():
    out = io.StringIO()
    try:
        call_command(
            "docnumbers",
            "audit",
            "--format",
            "json",
            "--no-progress",
            stdout=out,
            stderr=io.StringIO(),
        )
        return 0, json.loads(out.getvalue())
    except CommandError as exc:
        return exc.returncode, json.loads(out.getvalue() or "{}")


# -- unique, in order, each text its own ------------------------------------------------------


@shapes
def test_numbers_follow_each_other_and_each_text_renders_its_own_key(shape):
    for mode in each(MODES):
        docs = []
        with in_mode(mode):
            for _ in range(3):
                docs.append(shape.model.objects.create(**shape.values()))
        where = path(shape, mode)
        assert all_stored(shape) == expected(shape, 1, 2, 3), where
        assert [(getattr(d, shape.field.attname), text_of(shape, d)) for d in docs] == expected(
            shape, 1, 2, 3
        ), where
        assert audit_status()[0] == 0, where


@pytest.mark.parametrize("shape", [BY_NAME[n] for n in ("plain", "formatted", "formatted-undated")])
def test_without_time_zones_numbers_and_texts_are_the_same(shape):
    for mode in each(MODES):
        with override_settings(USE_TZ=False):
            with in_mode(mode):
                shape.model.objects.create(**shape.values())
                shape.model.objects.create(**shape.values())
            assert all_stored(shape) == expected(shape, 1, 2), path(shape, mode)


@shapes
def test_bulk_create_numbers_a_batch_in_order(shape):
    if shape.model._meta.concrete_model._meta.get_parent_list():
        # Django cannot bulk_create a multi-table child: refused before any number is taken.
        with pytest.raises(ValueError, match="multi-table"):
            shape.model.objects.bulk_create([shape.new()])
        assert not Counter.objects.exists()
        return
    for mode in each(MODES):
        with in_mode(mode):
            shape.model.objects.create(**shape.values())
            batch = shape.model.objects.bulk_create([shape.new() for _ in range(4)])
        assert all_stored(shape) == expected(shape, 1, 2, 3, 4, 5), path(shape, mode)
        assert [text_of(shape, d) for d in batch] == [shape.text(n) for n in (2, 3, 4, 5)]


def test_a_related_managers_create_and_bulk_create_number_as_the_models_do():
    """``customer.customerdocument_set``: Django builds that manager from the model's own."""
    shape = next(s for s in SHAPES if s.name == "formatted-scoped")
    for mode in each(MODES):
        acme = customer("ACME Ltd")
        with in_mode(mode):
            acme.customerdocument_set.create(issued_on=D(2026, 3, 14))
            batch = acme.customerdocument_set.bulk_create(
                [shape.new(customer=acme) for _ in range(2)]
            )
        assert all_stored(shape) == expected(shape, 1, 2, 3), path(shape, mode)
        assert [text_of(shape, d) for d in batch] == [shape.text(n) for n in (2, 3)]


# -- a rollback gives the number back; saving again takes a true one ---------------------------


@shapes
def test_a_rolled_back_number_is_given_back_and_saving_again_takes_it(shape):
    for mode in each(IN_TRANSACTION):
        doc = shape.new()
        with transaction.atomic():
            with pytest.raises(Boom):
                with transaction.atomic(savepoint=mode == "savepoint"):
                    doc.save()
                    raise Boom
            if mode == "savepoint":
                doc.save()  # the same transaction, after its savepoint rolled back
        if mode == "atomic":
            with in_mode(mode):
                doc.save()
        with in_mode(mode):
            shape.model.objects.create(**shape.values())
        assert all_stored(shape) == expected(shape, 1, 2), path(shape, mode)


# -- the object that was saved saves again, after its COMMIT, without being loaded again ------


@shapes
def test_the_saved_object_saves_again_after_commit_and_keeps_its_number(shape):
    for mode in each(MODES):
        with in_mode(mode):
            doc = shape.model.objects.create(**shape.values())
        if shape.free:
            setattr(doc, shape.free, "edited")
        if "issued_on" in shape.values():
            doc.issued_on = D(2026, 3, 20)  # a day of the same period: allowed
        with in_mode(mode):
            doc.save()
        assert all_stored(shape) == expected(shape, 1), path(shape, mode)
        if shape.move is not None:
            shape.move(doc)
            with pytest.raises(NumberFrozen) as refused:
                with in_mode(mode):
                    doc.save()
            assert not isinstance(refused.value, StaleDocument), path(shape, mode)
            assert all_stored(shape) == expected(shape, 1), path(shape, mode)


# -- a copy is a new document; the original keeps working ----------------------------------------


COPIES = {
    "fetched-pk-none": lambda shape, doc: shape.model.objects.get(pk=doc.pk),
    "same-object": lambda shape, doc: doc,
    "copy.copy": lambda shape, doc: copy.copy(doc),
    "deepcopy": lambda shape, doc: copy.deepcopy(doc),
}


@shapes
def test_a_copy_is_a_new_document_and_the_original_still_saves(shape):
    for how, mode in each(itertools.product(COPIES, MODES)):
        with in_mode(mode):
            original = shape.model.objects.create(**shape.values())
        original = shape.model.objects.get(pk=original.pk)
        dup = COPIES[how](shape, original)
        clear_pk(dup)
        with in_mode(mode):
            dup.save()
        where = f"{path(shape, mode)}, {how}"
        assert (getattr(dup, shape.field.attname), text_of(shape, dup)) == expected(shape, 2)[0], (
            where
        )
        if how != "same-object":
            with in_mode(mode):
                original.save()
            assert stored(shape, original.pk) == expected(shape, 1)[0], where
        assert all_stored(shape) == expected(shape, 1, 2), where


# -- what a number depends on is frozen ---------------------------------------------------------


def _frozen_cases():
    cases = []
    for shape in SHAPES:
        cases.append((shape, "number"))
        if shape.formatted:
            cases.append((shape, "text"))
        if shape.move is not None:
            cases.append((shape, "dependency"))
    return cases


def _change(shape, doc, what) -> tuple[str, str]:
    """Make the change ``what`` on ``doc``; return the field the error must name and the
    field that changed."""
    field = shape.field
    if what == "number":
        setattr(doc, field.attname, getattr(doc, field.attname) + 10)
        return field.name, field.name
    if what == "text":
        setattr(doc, field.display_name, "X-9999-9999")
        return field.name, field.display_name
    before = {f.attname: doc.__dict__.get(f.attname) for f in shape.model._meta.concrete_fields}
    shape.move(doc)
    changed = [
        f
        for f in shape.model._meta.concrete_fields
        if doc.__dict__.get(f.attname) != before[f.attname]
    ]
    return changed[0].name, changed[0].name


@pytest.mark.parametrize(
    "shape,what", _frozen_cases(), ids=[f"{s.name}-{w}" for s, w in _frozen_cases()]
)
def test_what_an_issued_number_depends_on_cannot_change(shape, what):
    for mode in each(MODES):
        with in_mode(mode):
            doc = shape.model.objects.create(**shape.values())
        doc = shape.model.objects.get(pk=doc.pk)
        name, changed = _change(shape, doc, what)
        where = f"{path(shape, mode)}, {what}"
        with pytest.raises(ValidationError) as error:
            doc.full_clean()
        assert name in error.value.message_dict, where
        with pytest.raises(NumberFrozen):
            with in_mode(mode):
                doc.save()
        with pytest.raises(NumberFrozen):
            with in_mode(mode):
                doc.save(update_fields=[changed])
        assert stored(shape, doc.pk) == expected(shape, 1)[0], where
        with in_mode(mode):
            shape.model.objects.create(**shape.values())
        assert all_stored(shape) == expected(shape, 1, 2), where


# -- deferred loads: "not loaded" is never "no number" -----------------------------------------


def _loads(shape):
    field = shape.field
    loads = {
        "defer-number": lambda qs: qs.defer(field.attname),
        "only-pk": lambda qs: qs.only("pk"),
    }
    if shape.formatted:
        loads["defer-text"] = lambda qs: qs.defer(field.display_name)
    return loads


def _load_cases():
    return [(shape, load) for shape in SHAPES for load in _loads(shape)]


@pytest.mark.parametrize(
    "shape,load", _load_cases(), ids=[f"{s.name}-{n}" for s, n in _load_cases()]
)
def test_a_deferred_load_saved_again_keeps_its_number_and_text(shape, load):
    for mode in each(MODES):
        with in_mode(mode):
            first = shape.model.objects.create(**shape.values())
        doc = _loads(shape)[load](shape.model.objects.all()).get(pk=first.pk)
        if shape.free:
            setattr(doc, shape.free, "edited")
        with in_mode(mode):
            doc.save()
        where = f"{path(shape, mode)}, {load}"
        assert stored(shape, first.pk) == expected(shape, 1)[0], where
        with in_mode(mode):
            shape.model.objects.create(**shape.values())
        assert all_stored(shape) == expected(shape, 1, 2), where  # no number burnt


# -- an update save sends only its UPDATE ---------------------------------------------------------


@shapes
def test_an_update_save_reads_nothing_first(shape):
    doc = shape.model.objects.create(**shape.values())
    doc = shape.model.objects.get(pk=doc.pk)
    if shape.free:
        setattr(doc, shape.free, "edited")
    with CaptureQueriesContext(connection) as queries:
        doc.save()
    sent = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    tables = 1 + len(shape.model._meta.concrete_model._meta.get_parent_list())
    assert sent.count("SELECT") == 0, (path(shape, "autocommit"), queries.captured_queries)
    assert sent.count("UPDATE") == tables


# -- a stale instance never undoes what happened in the database ----------------------------------


@shapes
def test_a_stale_save_after_a_renumber_is_refused(shape):
    doc = shape.model.objects.create(**shape.values())
    stale = shape.model.objects.get(pk=doc.pk)
    fresh = shape.model.objects.get(pk=doc.pk)
    with transaction.atomic():
        renumber(fresh, shape.field.name, reason="wrong customer")
    if shape.free:
        setattr(stale, shape.free, "edited")
    with pytest.raises(StaleDocument):
        stale.save()
    assert stored(shape, doc.pk) == expected(shape, 2)[0], path(shape, "autocommit")
    stale.refresh_from_db()
    stale.save()  # loaded again: it saves
    assert stored(shape, doc.pk) == expected(shape, 2)[0]


@pytest.mark.concurrency
@pytest.mark.parametrize(
    "shape", [BY_NAME[n] for n in ("plain", "formatted", "formatted-scoped", "late-formatted")]
)
@pytest.mark.parametrize("mode", ["atomic", "autocommit"])
def test_a_stale_save_racing_a_renumber_never_puts_the_old_number_back(shape, mode):
    doc = shape.model.objects.create(**shape.values())
    stale = shape.model.objects.get(pk=doc.pk)
    renumbered, errors = threading.Event(), []

    def renumber_and_hold():
        try:
            with transaction.atomic():
                renumber(shape.model.objects.get(pk=doc.pk), shape.field.name, reason="moved")
                renumbered.set()
                time.sleep(0.5)  # the stale save waits for this row lock
        except BaseException as exc:
            errors.append(exc)
            renumbered.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=renumber_and_hold)
    thread.start()
    assert renumbered.wait(30)
    try:
        with pytest.raises(StaleDocument):
            with in_mode(mode):
                stale.save()
    finally:
        thread.join(30)
        close_old_connections()
    assert not errors, errors
    assert stored(shape, doc.pk) == expected(shape, 2)[0], path(shape, mode)


# -- edits before COMMIT: the committed text renders the committed key ---------------------------


@pytest.mark.parametrize(
    "shape", [s for s in SHAPES if s.move], ids=[s.name for s in SHAPES if s.move]
)
@pytest.mark.parametrize("some_fields", [False, True], ids=["save", "update_fields"])
def test_an_edit_before_commit_is_refused_or_numbers_the_final_key(shape, some_fields):
    for mode in each(IN_TRANSACTION):
        with in_mode(mode):
            doc = shape.model.objects.create(**shape.values())
            before = {f.attname: doc.__dict__.get(f.attname) for f in shape.model._meta.fields}
            shape.move(doc)
            changed = [
                f.name
                for f in shape.model._meta.fields
                if doc.__dict__.get(f.attname) != before[f.attname]
            ]
            try:
                with transaction.atomic():
                    doc.save(update_fields=changed if some_fields else None)
                moved = True
            except NumberFrozen:
                moved = False  # issued at save time: frozen from then on
        where = path(shape, mode)
        assert moved == where.startswith("COMMIT trigger"), where
        # The key it was first saved with keeps no number; the row has its final key's first.
        assert all_stored(shape) == [(1, text_of(shape, shape.model.objects.get(pk=doc.pk)))], where
        with in_mode(mode):
            other = shape.model.objects.create(**shape.values())
        assert stored(shape, other.pk) == expected(shape, 2 if not moved else 1)[0], where
        assert audit_status()[0] == 0, where


# -- changes past save(): QuerySet.update() is reported by the audit ----------------------------


@pytest.mark.parametrize(
    "shape", [BY_NAME[n] for n in ("formatted", "formatted-scoped", "late-formatted")]
)
@pytest.mark.parametrize("how", ["update", "bulk_update"])
def test_an_update_past_save_of_what_a_number_depends_on_fails_the_audit(shape, how):
    """QuerySet.update() and bulk_update() bypass save(): documented, and the audit says it."""
    doc = shape.model.objects.create(**shape.values())
    assert audit_status()[0] == 0
    if how == "update":
        shape.model.objects.filter(pk=doc.pk).update(issued_on=D(2027, 1, 2))
    else:
        doc.issued_on = D(2027, 1, 2)
        shape.model.objects.bulk_update([doc], ["issued_on"])
    status, report = audit_status()
    assert status != 0, report
    assert any(s["status"] == "misfiled" for s in report["sequences"]), report


# -- concurrent writers: in transactions and in autocommit ---------------------------------------


WRITERS, EACH = 6, 12


def _race(work):
    errors, start = [], threading.Barrier(WRITERS)

    def writer(index):
        try:
            start.wait(30)
            work(index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    close_old_connections()
    assert not errors, errors[:3]


@pytest.mark.concurrency
@pytest.mark.parametrize(
    "shape", [BY_NAME[n] for n in ("plain", "plain-scoped", "formatted", "late-formatted")]
)
@pytest.mark.parametrize("mode", ["atomic", "autocommit"])
def test_concurrent_writers_never_share_or_skip_a_number(shape, mode):
    def work(index):
        for _ in range(EACH):
            with in_mode(mode):
                shape.model.objects.create(**shape.values())

    _race(work)
    numbers = sorted(all_stored(shape))
    assert numbers == expected(shape, *range(1, WRITERS * EACH + 1)), path(shape, mode)


@pytest.mark.concurrency
@pytest.mark.parametrize("mode", ["atomic", "autocommit"])
def test_concurrent_callers_of_the_function_api_never_share_a_value(mode):
    seen, lock = [], threading.Lock()

    def work(index):
        for _ in range(EACH * 2):
            with in_mode(mode):
                value = next_value("contract")
            with lock:
                seen.append(value)

    _race(work)
    assert sorted(seen) == list(range(1, WRITERS * EACH * 2 + 1))
