"""A document's whole life: retries, copies, edits of what its number depends on (#11).

Every test is written from the user's side and runs on SQLite, PostgreSQL and MariaDB.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.forms import modelform_factory

from docnumbers import NumberFrozen
from docnumbers.models import Counter, NumberFormat
from tests.testapp.models import (
    CreditNote,
    Customer,
    CustomerDocument,
    Invoice,
    InvoiceProxy,
    LateInvoice,
    LateInvoiceChild,
    LateInvoiceProxy,
    LateTicket,
    PerNameModel,
    Quote,
    SimpleModel,
)

pytestmark = pytest.mark.django_db(transaction=True)

D = dt.date


class Boom(Exception):
    pass


def rolled_back(save):
    """Run ``save`` in a transaction that rolls back."""
    with pytest.raises(Boom):
        with transaction.atomic():
            save()
            raise Boom


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("clear", [False, True], ids=["as-is", "number-cleared"])
def test_saving_again_after_a_rollback_takes_a_fresh_number_of_its_own_period(clear):
    doc = Invoice(issued_on=D(2026, 12, 30))
    rolled_back(doc.save)
    doc.issued_on = D(2027, 1, 2)  # the user corrects the date
    if clear:
        doc.invoice_number = None
    with transaction.atomic():
        doc.save()
    stored = Invoice.objects.get(pk=doc.pk)
    assert (stored.invoice_number, stored.invoice_number_display) == (1, "INV-2027-0001")
    # The 2026 number was given back: the real first invoice of 2026 gets it.
    first_2026 = Invoice.objects.create(issued_on=D(2026, 12, 31))
    assert first_2026.invoice_number_display == "INV-2026-0001"


def test_saving_again_in_the_same_period_after_a_rollback_gets_the_number_again():
    doc = Invoice(issued_on=D(2026, 5, 1))
    rolled_back(doc.save)
    with transaction.atomic():
        doc.save()
    assert Invoice.objects.get(pk=doc.pk).invoice_number_display == "INV-2026-0001"
    assert Invoice.objects.create(issued_on=D(2026, 5, 2)).invoice_number == 2


def test_a_late_number_is_taken_again_after_a_rollback():
    doc = LateInvoice(issued_on=D(2026, 5, 1))
    rolled_back(doc.save)
    with transaction.atomic():
        doc.save()
    stored = LateInvoice.objects.get(pk=doc.pk)
    assert (stored.number, stored.number_display) == (1, "L-2026-0001")
    ticket = LateTicket(queue="a")
    rolled_back(ticket.save)
    with transaction.atomic():
        ticket.save()
    assert LateTicket.objects.get(pk=ticket.pk).number == 1


def test_a_savepoint_that_rolls_back_gives_its_number_back():
    with transaction.atomic():
        doc = Invoice(issued_on=D(2026, 5, 1))
        with pytest.raises(Boom):
            with transaction.atomic():
                doc.save()
                raise Boom
        doc.issued_on = D(2027, 5, 1)
        doc.save()
        other = Invoice.objects.create(issued_on=D(2026, 5, 2))
    assert Invoice.objects.get(pk=doc.pk).invoice_number_display == "INV-2027-0001"
    assert Invoice.objects.get(pk=other.pk).invoice_number_display == "INV-2026-0001"


def test_a_failed_insert_in_autocommit_is_saved_again_with_a_true_number():
    doc = Invoice(issued_on=D(2026, 5, 1), customer_id=987654)  # no such customer
    with pytest.raises(IntegrityError):
        doc.save()
    doc.customer = Customer.objects.create(name="ACME")
    doc.save()
    stored = Invoice.objects.get(pk=doc.pk)
    assert stored.invoice_number_display == f"INV-2026-{stored.invoice_number:04d}"
    assert Invoice.objects.create(issued_on=D(2026, 5, 2)).invoice_number == (
        stored.invoice_number + 1
    )


def test_a_failed_insert_in_autocommit_whose_date_then_moves_gets_the_new_period():
    doc = Invoice(issued_on=D(2026, 5, 1), customer_id=987654)
    with pytest.raises(IntegrityError):
        doc.save()
    doc.customer = Customer.objects.create(name="ACME")
    doc.issued_on = D(2027, 5, 1)
    doc.save()
    assert Invoice.objects.get(pk=doc.pk).invoice_number_display == "INV-2027-0001"


def test_an_explicit_number_is_kept_when_saved_again_after_a_rollback():
    doc = SimpleModel(number=41)
    rolled_back(doc.save)
    with transaction.atomic():
        doc.save()
    assert SimpleModel.objects.get(pk=doc.pk).number == 41
    assert SimpleModel.objects.create().number == 42


# -- copies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("clear", [False, True], ids=["as-is", "number-cleared"])
def test_a_copy_gets_a_fresh_number_and_its_own_text(clear):
    original = Invoice.objects.create(issued_on=D(2026, 5, 1))
    copy = Invoice.objects.get(pk=original.pk)
    copy.pk = None
    copy._state.adding = True
    if clear:
        copy.invoice_number = None
    copy.save()
    assert (copy.invoice_number, copy.invoice_number_display) == (2, "INV-2026-0002")
    original.refresh_from_db()
    assert original.invoice_number_display == "INV-2026-0001"


def test_a_copy_of_the_same_python_object_gets_a_fresh_number():
    doc = CustomerDocument.objects.create(
        customer=Customer.objects.create(name="ACME"), issued_on=D(2026, 1, 5)
    )
    doc.pk = None
    doc.save()
    assert (doc.number, doc.number_display) == (2, "C-2026-002")
    assert CustomerDocument.objects.count() == 2


@pytest.mark.parametrize("fetched", [False, True], ids=["same-object", "fetched-again"])
def test_copies_in_a_bulk_create_get_fresh_numbers_next_to_new_documents(fetched):
    first = Invoice.objects.create(issued_on=D(2026, 5, 1))
    copy = Invoice.objects.get(pk=first.pk) if fetched else first
    copy.pk = None
    copy._state.adding = fetched  # a fetched copy looks new; the same object does not
    new = Invoice(issued_on=D(2026, 5, 2))
    Invoice.objects.bulk_create([new, copy])
    assert (new.invoice_number_display, copy.invoice_number_display) == (
        "INV-2026-0002",
        "INV-2026-0003",
    )
    texts = Invoice.objects.order_by("pk").values_list("invoice_number_display", flat=True)
    assert list(texts) == ["INV-2026-0001", "INV-2026-0002", "INV-2026-0003"]


# -- what the number depends on is frozen ----------------------------------------------------


@pytest.fixture
def acme_doc():
    acme, globex = Customer.objects.create(name="ACME Ltd"), Customer.objects.create(name="Globex")
    return CustomerDocument.objects.create(customer=acme, issued_on=D(2026, 3, 1)), globex


def test_moving_a_document_to_another_customer_is_refused(acme_doc):
    doc, globex = acme_doc
    doc.customer = globex
    with pytest.raises(NumberFrozen, match="C-2026-001 is numbered in the sequence of ACME Ltd"):
        doc.save()
    with pytest.raises(NumberFrozen):
        doc.save(update_fields=["customer"])
    assert CustomerDocument.objects.get(pk=doc.pk).customer.name == "ACME Ltd"
    # Globex's first document is still its number 1.
    first = CustomerDocument.objects.create(customer=globex, issued_on=D(2026, 3, 2))
    assert first.number_display == "C-2026-001"


def test_full_clean_and_forms_name_the_field_that_can_no_longer_change(acme_doc):
    doc, globex = acme_doc
    doc.customer = globex
    with pytest.raises(ValidationError) as caught:
        doc.full_clean()
    assert "customer" in caught.value.message_dict
    assert "ACME Ltd" in caught.value.message_dict["customer"][0]
    Form = modelform_factory(CustomerDocument, fields=["customer", "issued_on"])
    form = Form(
        data={"customer": globex.pk, "issued_on": "2026-03-01"},
        instance=CustomerDocument.objects.get(pk=doc.pk),
    )
    assert not form.is_valid()
    assert "can no longer change" in form.errors["customer"][0]


def test_update_fields_that_leave_the_dependencies_alone_are_fine(acme_doc):
    doc, globex = acme_doc
    doc.customer = globex
    doc.save(update_fields=["issued_on"])  # the customer change is not written
    assert CustomerDocument.objects.get(pk=doc.pk).customer.name == "ACME Ltd"


def test_a_plain_per_scope_number_keeps_its_scope():
    doc = PerNameModel.objects.create(name="north")
    doc.name = "south"
    with pytest.raises(NumberFrozen):
        doc.save()
    assert PerNameModel.objects.create(name="south").number == 1


def test_the_number_itself_cannot_be_changed_or_cleared_by_hand():
    doc = Invoice.objects.create(issued_on=D(2026, 5, 1))
    doc.invoice_number = 7
    with pytest.raises(NumberFrozen, match="INV-2026-0001 is this document's number"):
        doc.save()
    doc.invoice_number = None
    with pytest.raises(NumberFrozen):
        doc.save()
    plain = SimpleModel.objects.create()
    plain.number = 99
    with pytest.raises(NumberFrozen):
        plain.save()


def test_the_series_cannot_change_once_the_number_is_issued():
    std = NumberFormat.objects.create(code="quote", name="Standard", prefix="Q-")
    exp = NumberFormat.objects.create(code="quote", name="Export", prefix="QX-", position=1)
    quote = Quote.objects.create(series=std)
    quote.series = exp
    with pytest.raises(NumberFrozen, match="was issued by the series"):
        quote.save()
    assert Quote.objects.get(pk=quote.pk).number_display == "Q-0001"


def test_other_fields_still_save_normally(acme_doc):
    doc, _ = acme_doc
    doc.issued_on = D(2026, 9, 9)  # same year: same period, same text
    doc.save()
    assert Counter.objects.count() == 1


# -- proxies, multi-table children, other databases ------------------------------------------


def test_a_proxy_and_a_child_share_the_concrete_models_sequence():
    first = Invoice.objects.create(issued_on=D(2026, 5, 1))
    proxied = InvoiceProxy.objects.create(issued_on=D(2026, 5, 2))
    credit = CreditNote.objects.create(issued_on=D(2026, 5, 3), reason="refund")
    assert [first.invoice_number_display, proxied.invoice_number_display] == [
        "INV-2026-0001",
        "INV-2026-0002",
    ]
    assert credit.invoice_number_display == "INV-2026-0003"
    assert Counter.objects.count() == 1


def test_late_numbers_through_a_proxy_or_a_child_are_written_at_commit():
    with transaction.atomic():
        proxied = LateInvoiceProxy.objects.create(issued_on=D(2026, 5, 1))
        child = LateInvoiceChild.objects.create(issued_on=D(2026, 5, 2), note="x")
    stored = {d.pk: (d.number, d.number_display) for d in LateInvoice.objects.all()}
    assert stored == {proxied.pk: (1, "L-2026-0001"), child.pk: (2, "L-2026-0002")}
    assert (child.number, child.number_display) == (2, "L-2026-0002")


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_a_proxy_or_a_child_saved_with_using_takes_the_counter_of_that_database():
    Invoice.objects.create(issued_on=D(2026, 5, 1))  # default database: 0001
    proxied = InvoiceProxy(issued_on=D(2026, 5, 1))
    proxied.save(using="other")
    child = CreditNote(issued_on=D(2026, 5, 1))
    child.save(using="other")
    late_child = LateInvoiceChild(issued_on=D(2026, 5, 1))
    with transaction.atomic(using="other"):
        late_child.save(using="other")
    assert (proxied.invoice_number, child.invoice_number) == (1, 2)
    assert LateInvoice.objects.using("other").get().number == 1
    assert Counter.objects.using("other").filter(sequence__contains="invoice").count() == 2
    assert Counter.objects.get(sequence="testapp.invoice.invoice_number").value == 1


def test_the_audit_lists_a_sequence_once_whatever_proxies_and_children_saved_it():
    from docnumbers import audit

    Invoice.objects.create(issued_on=D(2026, 5, 1))
    InvoiceProxy.objects.create(issued_on=D(2026, 5, 2))
    CreditNote.objects.create(issued_on=D(2026, 5, 3))
    reports = [r for r in audit.audit() if r.label == "testapp.Invoice.invoice_number"]
    assert [(r.issued, r.first, r.last, r.status) for r in reports] == [(3, 1, 3, "ok")]
    assert len({field for field in audit.resolve_targets()}) == len(audit.resolve_targets())


# -- renumber: the explicit, audited way ------------------------------------------------------


def test_renumber_moves_a_document_and_explains_the_hole(acme_doc, django_user_model):
    from docnumbers import audit, renumber
    from docnumbers.models import GapExplanation

    doc, globex = acme_doc
    CustomerDocument.objects.create(customer=doc.customer, issued_on=D(2026, 3, 2))  # ACME 002
    user = django_user_model.objects.create_user("clerk")
    doc.customer = globex
    text = renumber(doc, reason="Billed to the wrong customer", user=user)
    assert text == "C-2026-001"  # Globex's first
    stored = CustomerDocument.objects.get(pk=doc.pk)
    assert (stored.customer, stored.number_display) == (globex, "C-2026-001")
    record = GapExplanation.objects.get()
    assert (record.first, record.last, record.kind) == (1, 1, "renumbered")
    assert record.reason == (
        "C-2026-001 (customer ACME Ltd) became C-2026-001 (customer Globex): "
        "Billed to the wrong customer"
    )
    assert record.created_by_name == "clerk"
    acme_reports = [r for r in audit.audit() if r.label.endswith("CustomerDocument.number")]
    assert all(not r.gaps for r in acme_reports)
    assert sum(len(r.explained) for r in acme_reports) == 1


def test_renumber_of_a_date_moved_to_another_year():
    from docnumbers import renumber

    doc = Invoice.objects.create(issued_on=D(2026, 12, 31))
    doc.issued_on = D(2027, 1, 1)
    assert renumber(doc, reason="Dated in the wrong year") == "INV-2027-0001"
    assert Invoice.objects.get(pk=doc.pk).invoice_number_display == "INV-2027-0001"


def test_renumber_needs_a_reason_and_a_stored_number():
    from docnumbers import DocnumbersError, renumber

    doc = Invoice.objects.create(issued_on=D(2026, 1, 1))
    with pytest.raises(DocnumbersError, match="reason"):
        renumber(doc, reason=" ")
    with pytest.raises(DocnumbersError, match="save it first"):
        renumber(Invoice(issued_on=D(2026, 1, 1)), reason="x")


# -- a row is never committed without its number ---------------------------------------------


def insert_past_docnumbers():
    """An INSERT that bypasses the ORM, as a hand-written SQL import would."""
    from django.db import connection

    table = connection.ops.quote_name(LateInvoice._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({connection.ops.quote_name('issued_on')}) VALUES (%s)",
            [D(2026, 1, 1)],
        )


def test_a_row_without_its_number_is_numbered_at_commit_or_reported_by_the_audit(vendor):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    if vendor == "postgresql":
        # The COMMIT trigger numbers the row from its own columns, whoever inserted it.
        with transaction.atomic():
            LateInvoice.objects.create(issued_on=D(2026, 1, 1))
            insert_past_docnumbers()
        texts = sorted(LateInvoice.objects.values_list("number_display", flat=True))
        assert texts == ["L-2026-0001", "L-2026-0002"]
    else:
        # No COMMIT hook here (numbers are taken at save time): the audit catches it.
        insert_past_docnumbers()
        with pytest.raises(CommandError, match="1 row without a number"):
            call_command("docnumbers", "audit", "--no-progress", stdout=StringIO())


def test_a_late_number_is_queued_again_after_a_savepoint_rolls_back():
    with transaction.atomic():
        doc = LateInvoice(issued_on=D(2026, 5, 1))
        with pytest.raises(Boom):
            with transaction.atomic():
                doc.save()
                raise Boom
        doc.issued_on = D(2027, 5, 1)
        doc.save()
        LateInvoice.objects.create(issued_on=D(2026, 5, 2))
    texts = sorted(LateInvoice.objects.values_list("number_display", flat=True))
    assert texts == ["L-2026-0001", "L-2027-0001"]
    assert LateInvoice.objects.get(pk=doc.pk).number_display == "L-2027-0001"


def test_a_late_save_in_autocommit_that_fails_is_saved_again_with_a_true_number():
    doc = LateInvoice(issued_on=D(2026, 5, 1))
    doc.issued_on = None  # NOT NULL: the INSERT fails after the number was taken
    with pytest.raises(IntegrityError):
        doc.save()
    doc.issued_on = D(2026, 5, 1)
    doc.save()
    stored = LateInvoice.objects.get(pk=doc.pk)
    assert stored.number_display == f"L-2026-{stored.number:04d}"
    assert LateInvoice.objects.create(issued_on=D(2026, 5, 3)).number == stored.number + 1


def test_the_admin_shows_a_frozen_date_as_an_error_on_its_field(admin_client):
    from django.urls import reverse

    doc = Invoice.objects.create(issued_on=D(2026, 3, 14))
    url = reverse("admin:testapp_invoice_change", args=[doc.pk])
    response = admin_client.post(url, {"customer": "", "issued_on": "2027-01-01"})
    assert response.status_code == 200  # the form again, not a 500
    errors = response.context["adminform"].form.errors
    assert "can only move to a day that keeps that number true" in errors["issued_on"][0]
    assert Invoice.objects.get(pk=doc.pk).issued_on == D(2026, 3, 14)
    response = admin_client.post(url, {"customer": "", "issued_on": "2026-06-01"})
    assert response.status_code == 302
    assert Invoice.objects.get(pk=doc.pk).invoice_number_display == "INV-2026-0001"


def test_the_audit_finds_a_scope_or_date_changed_past_docnumbers(acme_doc):
    """QuerySet.update() bypasses save(): the audit still sees the number that lies."""
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    doc, globex = acme_doc
    out = StringIO()
    call_command("docnumbers", "audit", "--no-progress", stdout=out)  # clean
    CustomerDocument.objects.filter(pk=doc.pk).update(customer=globex)
    with pytest.raises(CommandError, match="1 row outside their counter's scope or period"):
        call_command("docnumbers", "audit", "--no-progress", stdout=StringIO())
    CustomerDocument.objects.filter(pk=doc.pk).update(customer=doc.customer)
    CustomerDocument.objects.filter(pk=doc.pk).update(issued_on=D(2027, 1, 1))
    with pytest.raises(CommandError, match="outside their counter's scope or period"):
        call_command("docnumbers", "audit", "--no-progress", stdout=StringIO())
    CustomerDocument.objects.filter(pk=doc.pk).update(issued_on=D(2026, 12, 31))
    call_command("docnumbers", "audit", "--no-progress", stdout=StringIO())
