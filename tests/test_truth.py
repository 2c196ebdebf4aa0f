"""Issue #18, items 10 and 11: one text names one document across the project, and the
admin shows only what is true (last issued as stored, explanations that stay true)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from docnumbers import NumberCollision, allocation
from docnumbers.audit import audit, explain_gap
from docnumbers.exceptions import AuditInputError, CounterMoveRefused
from docnumbers.models import Counter, CounterChange, GapExplanation, NumberFormat
from tests.testapp.models import Customer, CustomerDocument, Invoice, Quote

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


def invoices(count):
    return [Invoice.objects.create(issued_on=timezone.localdate()) for _ in range(count)]


def refusal(fmt, field):
    """The messages ``fmt.full_clean()`` attaches to ``field`` (it must refuse)."""
    with pytest.raises(ValidationError) as info:
        fmt.full_clean()
    assert field in info.value.message_dict, info.value.message_dict
    return " ".join(info.value.message_dict[field])


def run_audit(*args):
    out = io.StringIO()
    try:
        call_command("docnumbers", "audit", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), ""


# -- Item 10: texts of two document types ----------------------------------------------------


def test_a_prefix_that_reissues_another_codes_text_is_refused_naming_the_document():
    invoices(3)  # INV-YYYY-0001..0003
    quotes = NumberFormat.objects.create(code="quote", prefix="Q-")
    Quote.objects.create(), Quote.objects.create()  # Q-0001, Q-0002
    quotes.prefix = f"INV-{YEAR}-"  # the next quote, 3, would read like invoice 3
    message = refusal(quotes, "prefix")
    assert message == (
        f"Invoice INV-{YEAR}-0003 is already issued; with these settings the next quote "
        "issued today would read the same."
    )
    assert "#" not in message
    assert NumberFormat.objects.get(pk=quotes.pk).prefix == "Q-"


def test_a_new_code_whose_first_numbers_are_stored_elsewhere_is_refused():
    invoices(1)
    added = NumberFormat(code="quote", prefix="INV-{YYYY}-")  # no quote counter yet
    assert f"Invoice INV-{YEAR}-0001 is already issued" in refusal(added, "prefix")
    # Other texts pass, and the invoices' own format is checked against the quotes too.
    added.prefix = "Q-{YYYY}-"
    added.full_clean()
    added.save()
    Quote.objects.create()  # Q-YYYY-0001
    invoice_format = NumberFormat.objects.get(code="invoice")
    invoice_format.prefix = "Q-{YYYY}-"  # the next invoice, 2: nothing stored: allowed
    invoice_format.full_clean()
    invoice_format.padding, invoice_format.reset = 4, "never"
    invoice_format.prefix = "Q-{YYYY}-000"  # 2 would read Q-YYYY-0002: not stored
    invoice_format.full_clean()


def test_a_scoped_document_type_is_checked_in_every_scope():
    acme = Customer.objects.create(name="ACME")
    CustomerDocument.objects.create(customer=acme, issued_on=timezone.localdate())
    quotes = NumberFormat(code="quote", prefix="C-{YYYY}-", padding=3)
    assert f"Customer document C-{YEAR}-001 (ACME) is already issued" in refusal(quotes, "prefix")


def test_the_admin_refuses_the_change_naming_the_document(admin_client):
    invoices(3)
    quotes = NumberFormat.objects.create(code="quote", prefix="Q-")
    Quote.objects.create(), Quote.objects.create()
    url = reverse("admin:docnumbers_numberformat_change", args=[quotes.pk])
    data = {
        "code": "quote",
        "name": "",
        "prefix": f"INV-{YEAR}-",
        "suffix": "",
        "padding": 4,
        "reset": "never",
        "fiscal_year_start_month": 1,
        "active": "on",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert f"Invoice INV-{YEAR}-0003 is already issued" in response.content.decode()
    preview = admin_client.get(
        reverse("admin:docnumbers_numberformat_preview"), {**data, "object_id": quotes.pk}
    ).json()
    assert preview["issued"] == {f"INV-{YEAR}-0003": f"invoice INV-{YEAR}-0003"}
    assert not preview["valid"]


def test_issuing_another_codes_text_after_an_unchecked_change_raises():
    invoices(1)
    NumberFormat.objects.create(code="quote", prefix="Q-")
    NumberFormat.objects.filter(code="quote").update(prefix="INV-{YYYY}-")  # no validation
    with pytest.raises(NumberCollision) as info, transaction.atomic():
        Quote.objects.create()
    assert info.value.document == f"invoice INV-{YEAR}-0001"
    assert f"already the number of invoice INV-{YEAR}-0001" in str(info.value)
    assert not Quote.objects.exists()


def test_the_audit_fails_when_two_document_types_hold_one_text():
    (first,) = invoices(1)
    NumberFormat.objects.create(code="quote", prefix="Q-")
    quote = Quote.objects.create()
    status, out, error = run_audit()
    assert status == 0, out
    Quote.objects.filter(pk=quote.pk).update(number_display=first.invoice_number_display)
    status, out, error = run_audit()
    assert status == 1
    assert "2 texts stored by two document types" not in error
    assert "1 text stored by two document types" in error
    assert f"shared text: INV-{YEAR}-0001 is also quote INV-{YEAR}-0001" in out
    assert f"shared text: INV-{YEAR}-0001 is also invoice INV-{YEAR}-0001" in out
    statuses = {r.label: r.status for r in audit()}
    assert statuses["testapp.Invoice.invoice_number"] == "shared text"
    assert statuses["testapp.Quote.number"] == "shared text"
    # Only the invoices audited: still found, from the invoices' side.
    status, out, error = run_audit("testapp.Invoice")
    assert status == 1 and "is also quote" in out


def test_texts_repeated_across_the_scopes_of_one_field_are_not_shared():
    acme, globex = Customer.objects.create(name="ACME"), Customer.objects.create(name="Globex")
    for customer in (acme, globex):
        CustomerDocument.objects.create(customer=customer, issued_on=timezone.localdate())
    assert run_audit()[0] == 0


# -- Item 11: the admin shows what is stored ---------------------------------------------------


def test_last_issued_is_the_stored_text_not_the_counter_rendered_again(admin_client):
    invoices(3)
    fmt = NumberFormat.objects.get(code="invoice")
    fmt.prefix = "CN-{YYYY}-"  # a harmless change: the next invoice is CN-YYYY-0004
    fmt.full_clean()
    fmt.save()
    counters = admin_client.get(reverse("admin:docnumbers_counter_changelist")).content.decode()
    assert f"INV-{YEAR}-0003" in counters  # last issued, as stored
    assert f"CN-{YEAR}-0003" not in counters  # never issued
    assert f"CN-{YEAR}-0004" in counters  # the next number, with today's settings
    page = admin_client.get(reverse("admin:docnumbers_numberformat_change", args=[fmt.pk]))
    (row,) = page.context["sequences"]
    assert (row["last"], row["next"], row["highest"]) == (f"INV-{YEAR}-0003", f"CN-{YEAR}-0004", 3)
    counter = Counter.objects.get()
    set_next = admin_client.get(
        reverse("admin:docnumbers_counter_set_next_value", args=[counter.pk])
    )
    assert set_next.context["last_issued"] == f"INV-{YEAR}-0003"


def test_a_counter_with_nothing_stored_shows_none_yet(admin_client):
    (doc,) = invoices(1)
    counter = doc.invoice_number_counter
    doc.delete()
    page = admin_client.get(reverse("admin:docnumbers_counter_change", args=[counter.pk]))
    text = page.content.decode()
    assert "none yet" in text and "(counter at 1, nothing stored)" in text
    assert f"INV-{YEAR}-0001" not in text.replace(f"INV-{YEAR}-0002", "")


# -- Item 11: gap explanations stay true ----------------------------------------------------


def set_next(client, counter, next_value, seen, reason="", **extra):
    url = reverse("admin:docnumbers_counter_set_next_value", args=[counter.pk])
    data = {"next_value": next_value, "seen_value": seen, "reason": reason, **extra}
    return client.post(url, data)


@pytest.fixture
def skipped(admin_client):
    """Five invoices, then a move to 10 that records 6-9 as skipped on purpose."""
    invoices(5)
    counter = Counter.objects.get()
    assert set_next(admin_client, counter, 10, 5, "Paper invoices 6-9").status_code == 302
    return Counter.objects.get()


def test_moving_back_over_skipped_numbers_is_refused_naming_the_explanation(admin_client, skipped):
    response = set_next(admin_client, skipped, 6, 9, "The skip was a mistake")
    assert response.status_code == 200
    (message,) = response.context["form"].errors["withdraw_gaps"]
    assert "6–9: Skipped on purpose (Paper invoices 6-9)" in message
    assert Counter.objects.get().value == 9
    assert CounterChange.objects.count() == 1
    (gap,) = GapExplanation.objects.all()
    assert not gap.withdrawn
    # Not from code either.
    with pytest.raises(CounterMoveRefused):
        allocation.move_counter(skipped, 5, reason="x", source="code")
    assert Counter.objects.get().value == 9


def test_the_same_move_withdraws_the_explanation_and_keeps_it(admin_client, skipped):
    response = set_next(admin_client, skipped, 6, 9, "The skip was a mistake", withdraw_gaps="on")
    assert response.status_code == 302
    assert Counter.objects.get().value == 5
    (gap,) = GapExplanation.objects.all()  # kept, not deleted
    change = CounterChange.objects.latest("pk")
    assert gap.withdrawn and gap.withdrawn_by_change == change
    assert (change.old_value, change.new_value) == (9, 5)
    assert Invoice.objects.create(issued_on=timezone.localdate()).invoice_number == 6
    (report,) = audit()
    assert report.status == "ok" and report.explained == [] and report.gaps == []
    listing = admin_client.get(reverse("admin:docnumbers_gapexplanation_changelist"))
    assert "withdrawn on" in listing.content.decode()
    assert "The skip was a mistake" in listing.content.decode()
    in_force = admin_client.get(
        reverse("admin:docnumbers_gapexplanation_changelist"), {"in_force": "yes"}
    )
    assert "Paper invoices 6-9" not in in_force.content.decode()


def test_a_partial_move_back_says_which_numbers_are_missing_again(admin_client, skipped):
    response = set_next(admin_client, skipped, 8, 9, "8 and 9 are needed", withdraw_gaps="on")
    assert response.status_code == 302
    page = admin_client.get(response["Location"]).content.decode()
    assert "Numbers 6 to 7 are missing again" in page
    (report,) = audit()
    assert [(g.first, g.last) for g in report.gaps] == [(6, 7)]
    # They can be explained again: the withdrawn record no longer covers them.
    explain_gap(Counter.objects.get(), 6, 7, kind="skipped", reason="Paper invoices 6-7")
    (report,) = audit()
    assert report.gaps == [] and [(g.first, g.last) for g in report.explained] == [(6, 7)]


def test_overlapping_explanations_are_refused(admin_client, skipped):
    with pytest.raises(AuditInputError) as info:
        explain_gap(skipped, 8, 9, kind="voided", reason="again")
    assert "6–9" in str(info.value) and "already explained" in str(info.value)
    # The sequence is named as the admin names it, not by its internal key (#22).
    assert "Invoice: invoice number · INV-{YYYY}-####" in str(info.value)
    assert "invoice_number#" not in str(info.value)
    response = admin_client.post(
        reverse("admin:docnumbers_gapexplanation_add"),
        {"counter": skipped.pk, "first": 9, "last": 9, "kind": "voided", "reason": "again"},
    )
    assert response.status_code == 200
    assert "already explained" in response.content.decode()
    assert GapExplanation.objects.count() == 1
