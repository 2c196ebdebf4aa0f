"""Issue #13: one page per series, human labels, explained moves, plain errors, delete
warnings, series order history (Django test client)."""

import datetime as dt
import json

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.urls import reverse

from docnumbers.audit import audit
from docnumbers.models import Counter, CounterChange, GapExplanation, NumberFormat
from tests.testapp.models import Customer, CustomerDocument, Invoice, Quote

pytestmark = pytest.mark.django_db

D = dt.date


def format_url(series):
    return reverse("admin:docnumbers_numberformat_change", args=[series.pk])


def start_url(series):
    return reverse("admin:docnumbers_numberformat_start_period", args=[series.pk])


# -- one page per series ---------------------------------------------------------------


def test_the_format_page_lists_its_sequences_with_human_labels(admin_client):
    acme = Customer.objects.create(name="ACME Ltd")
    for _ in range(2):
        CustomerDocument.objects.create(customer=acme, issued_on=D(2025, 3, 1))
    series = NumberFormat.objects.get(code="customer-doc")
    text = admin_client.get(format_url(series)).content.decode()
    assert 'id="docnumbers-sequences"' in text
    assert "ACME Ltd" in text and "customer=" not in text
    assert "C-2025-002" in text and "C-2025-003" in text  # last issued, next number
    counter = Counter.objects.get()
    set_next = reverse("admin:docnumbers_counter_set_next_value", args=[counter.pk])
    assert f"{set_next}?from=format" in text
    assert start_url(series) in text


def test_a_year_is_started_ahead_of_time_at_1000(admin_client, admin_user):
    series = NumberFormat.objects.get(code="invoice")
    response = admin_client.post(
        start_url(series),
        {
            "sequence": "testapp.invoice.invoice_number",
            "day": "2031-01-01",
            "next_value": "1000",
            "reason": "New ledger",
        },
    )
    assert response.status_code == 302, response.content.decode()
    counter = Counter.objects.get(period="2031")
    assert counter.value == 999 and counter.number_format == series
    change = CounterChange.objects.get(counter=counter)
    assert (change.old_value, change.new_value, change.source) == (0, 999, "admin")
    gap = GapExplanation.objects.get(counter=counter)
    assert (gap.first, gap.last, gap.kind) == (1, 999, "skipped")
    assert LogEntry.objects.filter(object_id=str(series.pk)).exists()
    doc = Invoice.objects.create(issued_on=D(2031, 5, 1))
    assert doc.invoice_number_display == "INV-2031-1000"
    page = admin_client.get(format_url(series)).content.decode()
    assert "INV-2031-1001" in page


def test_a_new_customers_sequence_is_started_at_its_first_number(admin_client):
    globex = Customer.objects.create(name="Globex")
    series = NumberFormat.objects.get(code="customer-doc")
    data = {"day": f"{dt.date.today().year}-01-01", "next_value": "1", "reason": ""}
    response = admin_client.post(start_url(series), {**data, "scope_customer": globex.pk})
    assert response.status_code == 302
    counter = Counter.objects.get()
    assert counter.value == 0 and not CounterChange.objects.exists()
    assert "Globex" in str(counter)
    # Started already: refused, with a message on the field.
    again = admin_client.post(start_url(series), {**data, "scope_customer": globex.pk})
    assert "has started already" in again.context["form"].errors["day"][0]
    # The customer is required for a per-customer sequence.
    missing = admin_client.post(start_url(series), data)
    assert missing.context["form"].errors["scope_customer"] == ["Choose one."]


def test_starting_above_the_first_number_needs_a_reason(admin_client):
    series = NumberFormat.objects.get(code="invoice")
    response = admin_client.post(
        start_url(series),
        {"sequence": "testapp.invoice.invoice_number", "day": "2031-01-01", "next_value": "50"},
    )
    assert "say why" in response.context["form"].errors["reason"][0]
    assert not Counter.objects.exists()


def test_starting_needs_the_set_next_value_permission(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__endswith="numberformat"))
    client.force_login(user)
    series = NumberFormat.objects.get(code="invoice")
    assert client.get(start_url(series)).status_code == 403


# -- truthful labels -------------------------------------------------------------------


def test_a_format_is_named_by_code_and_series_name_not_a_sample():
    standard = NumberFormat.objects.create(code="quote", name="Standard", prefix="Q-")
    assert str(standard) == "quote: Standard"
    assert str(NumberFormat.objects.get(code="invoice")) == "invoice"


def test_the_series_dropdown_names_the_default_without_a_sample(admin_client):
    NumberFormat.objects.create(code="quote", name="Standard", prefix="Q-", position=1)
    text = admin_client.get(reverse("admin:testapp_quote_add")).content.decode()
    assert "Default series (Standard)" in text
    assert "0001" not in text


def test_a_failed_save_keeps_the_saved_name_in_the_title(admin_client):
    for _ in range(5):
        Invoice.objects.create(issued_on=D(2026, 1, 1))
    series = NumberFormat.objects.get(code="invoice")
    data = {
        "code": "invoice",
        "name": "Other",
        "prefix": "INV-{yyyy}-",
        "suffix": "",
        "padding": "4",
        "reset": "yearly",
        "fiscal_year_start_month": "1",
        "active": "on",
    }
    response = admin_client.post(format_url(series), data)
    assert response.status_code == 200
    assert response.context["subtitle"] == "invoice"
    assert "(?)" not in response.content.decode()


def test_the_format_list_shows_each_rows_next_number(admin_client):
    today = dt.date.today()
    for _ in range(5):
        Invoice.objects.create(issued_on=today)
    text = admin_client.get(reverse("admin:docnumbers_numberformat_changelist")).content.decode()
    assert f"INV-{today.year}-0006" in text


def test_the_audit_names_parts_for_people():
    acme = Customer.objects.create(name="ACME Ltd")
    CustomerDocument.objects.create(customer=acme, issued_on=D(2025, 3, 1))
    (report,) = [r for r in audit() if r.key and "customerdocument" in r.key]
    assert report.part == "C-{YYYY}-### · ACME Ltd · 2025"


# -- explained moves -------------------------------------------------------------------


def test_a_skip_with_a_reason_is_an_explained_gap(admin_client):
    for _ in range(5):
        Invoice.objects.create(issued_on=D(2026, 1, 1))
    counter = Counter.objects.get()
    url = reverse("admin:docnumbers_counter_set_next_value", args=[counter.pk])
    response = admin_client.post(
        url, {"next_value": "10", "reason": "Paper invoices 6-9", "seen_value": "5"}
    )
    assert response.status_code == 302
    gap = GapExplanation.objects.get()
    assert (gap.first, gap.last, gap.kind) == (6, 9, "skipped")
    (report,) = [r for r in audit() if r.key == counter.key]
    assert report.gaps == [] and [(g.first, g.last) for g in report.explained] == [(6, 9)]
    page = admin_client.get(reverse("admin:docnumbers_counter_change", args=[counter.pk]))
    add = reverse("admin:docnumbers_gapexplanation_add")
    assert f"{add}?counter={counter.pk}" in page.content.decode()  # "Explain a gap"
    # Last issued: the stored text of number 5, and the counter's value beside it.
    assert "INV-2026-0005" in page.content.decode()
    assert "INV-2026-0009" not in page.content.decode()
    assert "(counter at 9, nothing stored above 5)" in page.content.decode()


def test_set_next_value_says_what_the_next_document_gets(admin_client):
    Invoice.objects.create(issued_on=D(2026, 1, 1))
    counter = Counter.objects.get()
    url = reverse("admin:docnumbers_counter_set_next_value", args=[counter.pk])
    text = admin_client.get(url).content.decode()
    assert "The next document of this sequence gets this number." in text
    assert "INV-2026-0002" in text
    response = admin_client.post(url, {"next_value": "abc", "reason": "", "seen_value": "1"})
    assert response.context["form"].errors["next_value"] == ["Enter a whole number."]
    assert 'inputmode="numeric"' in response.content.decode()


def test_set_next_value_from_the_format_page_returns_there(admin_client):
    Invoice.objects.create(issued_on=D(2026, 1, 1))
    counter = Counter.objects.get()
    url = reverse("admin:docnumbers_counter_set_next_value", args=[counter.pk])
    response = admin_client.post(
        f"{url}?from=format", {"next_value": "2", "reason": "", "seen_value": "0"}
    )
    assert response.status_code == 200  # 2 is already next: the form says so
    response = admin_client.post(
        f"{url}?from=format", {"next_value": "3", "reason": "typo", "seen_value": "1"}
    )
    assert response["Location"].startswith(format_url(counter.number_format))


def test_the_audit_links_each_unexplained_gap_to_the_admin(capsys):
    docs = [Invoice.objects.create(issued_on=D(2026, 1, 1)) for _ in range(3)]
    docs[1].delete()
    counter = Counter.objects.get()
    call_command("docnumbers", "audit")
    out = capsys.readouterr().out
    add = reverse("admin:docnumbers_gapexplanation_add")
    assert f"explain 2: {add}?counter={counter.pk}&first=2&last=2" in out


def test_the_gap_form_preselects_the_counter_and_names_it(admin_client):
    Invoice.objects.create(issued_on=D(2026, 1, 1))
    counter = Counter.objects.get()
    add = reverse("admin:docnumbers_gapexplanation_add")
    response = admin_client.get(add, {"counter": counter.pk, "first": 2, "last": 2})
    text = response.content.decode()
    label = "Invoice: invoice number · INV-{YYYY}-#### · 2026"
    assert f'<option value="{counter.pk}" selected>{label}' in text


# -- errors once, in plain words ---------------------------------------------------------


def test_a_fiscal_month_of_13_is_one_message(admin_client):
    series = NumberFormat.objects.get(code="invoice")
    data = {
        "code": "invoice",
        "name": "",
        "prefix": "INV-{FY}-",
        "suffix": "",
        "padding": "4",
        "reset": "fiscal",
        "fiscal_year_start_month": "13",
        "active": "on",
    }
    response = admin_client.post(format_url(series), data)
    assert len(response.context["adminform"].form.errors["fiscal_year_start_month"]) == 1


def test_a_gap_without_a_reason_is_one_message(admin_client):
    Invoice.objects.create(issued_on=D(2026, 1, 1))
    counter = Counter.objects.get()
    add = reverse("admin:docnumbers_gapexplanation_add")
    response = admin_client.post(
        add, {"counter": counter.pk, "first": 1, "last": 1, "kind": "voided", "reason": ""}
    )
    form = response.context["adminform"].form
    assert form.errors == {"reason": ["This field is required."]}


# -- document lists and deletes ----------------------------------------------------------


def test_numbers_sort_by_period_and_number_across_series(admin_client):
    NumberFormat.objects.create(code="quote", name="Standard", prefix="INV-", position=1)
    fac = NumberFormat.objects.create(code="quote", name="France", prefix="FAC-", position=2)
    for n in range(11):
        Quote.objects.create(series=fac if n >= 5 else None)
    url = reverse("admin:testapp_quote_changelist")
    response = admin_client.get(url, {"o": "1"})
    numbers = [row.number for row in response.context["cl"].result_list]
    assert numbers == sorted(numbers)


def test_deleting_a_numbered_document_warns_of_the_gap(admin_client):
    doc = Invoice.objects.create(issued_on=D(2026, 1, 1))
    url = reverse("admin:testapp_invoice_delete", args=[doc.pk])
    text = admin_client.get(url).content.decode()
    assert "INV-2026-0001 is never issued again" in text and "credit note" in text
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Invoice.objects.exists()


def test_the_delete_action_warns_of_the_gaps(admin_client):
    docs = [Invoice.objects.create(issued_on=D(2026, 1, 1)) for _ in range(2)]
    url = reverse("admin:testapp_invoice_changelist")
    data = {"action": "delete_selected", "_selected_action": [d.pk for d in docs]}
    text = admin_client.post(url, data).content.decode()
    assert "The numbers INV-2026-0001, INV-2026-0002 are never issued again" in text


# -- series order ------------------------------------------------------------------------


def test_the_series_help_renders_and_a_reorder_is_in_the_history(admin_client):
    standard = NumberFormat.objects.create(code="quote", name="Standard", prefix="Q-", position=1)
    export = NumberFormat.objects.create(code="quote", name="Export", prefix="QX-", position=2)
    text = admin_client.get(reverse("admin:docnumbers_numberformat_changelist")).content.decode()
    assert "docnumbers-series-help" in text and "series_order.js" in text
    update = reverse("admin:docnumbers_numberformat_sortable_update")
    response = admin_client.post(
        update,
        json.dumps({"updatedItems": [[export.pk, 1], [standard.pk, 2]]}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert NumberFormat.objects.series_of("quote").first() == export
    entry = LogEntry.objects.get(object_id=str(export.pk))
    assert "the default series is now quote: Export (was quote: Standard)" in (
        entry.get_change_message()
    )


def test_number_ordering_sorts_negative_numbers_before_zero_and_up():
    """A sequence may start below zero (start_at=-2): -2, -1, 0, 1, ... in that order."""
    from docnumbers.admin import number_ordering
    from tests.testapp.models import NegativeStartModel

    NegativeStartModel.objects.bulk_create([NegativeStartModel() for _ in range(13)])
    ordered = NegativeStartModel.objects.order_by(number_ordering("number", NegativeStartModel))
    assert [o.number for o in ordered] == list(range(-2, 11))
    stored = Invoice.objects.bulk_create(
        [Invoice(issued_on=dt.date(2026, 1, 1), invoice_number=n) for n in (-5, -1, 3, 12)]
    )
    assert len(stored) == 4
    texts = Invoice.objects.order_by(number_ordering("invoice_number", Invoice))
    assert [i.invoice_number for i in texts] == [-5, -1, 3, 12]


# -- issue #22: series by name, the month's one message, a history with values -----------


def test_series_are_listed_and_filtered_by_name_not_code(admin_client, django_user_model):
    from docnumbers.admin import series_text

    NumberFormat.objects.create(code="quote", name="Export", prefix="EXP-", position=1)
    unnamed = NumberFormat.objects.create(code="quote", prefix="Q-", padding=3, position=0)
    assert series_text(unnamed) == "Q-###"
    Quote.objects.create()
    page = admin_client.get(reverse("admin:testapp_quote_add")).content.decode()
    assert "Default series (Q-###)" in page and ">Export</option>" in page
    from django.contrib import admin
    from django.contrib.admin.filters import SimpleListFilter
    from django.test import RequestFactory

    from docnumbers.admin import DocumentNumberAdminMixin

    class QuoteAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
        list_filter = ["series"]

    model_admin = QuoteAdmin(Quote, admin.site)
    request = RequestFactory().get("/")
    (filter_class,) = model_admin.get_list_filter(request)
    assert issubclass(filter_class, SimpleListFilter)
    import django

    # Django 5.0 hands a filter the list of a parameter's values, 4.2 the last one.
    params = {"series": ["none"] if django.VERSION >= (5, 0) else "none"}
    spec = filter_class(request, params, Quote, model_admin)
    assert [label for _, label in spec.lookup_choices] == ["Default series", "Q-###", "Export"]
    assert spec.queryset(request, Quote.objects.all()).count() == 1


def test_a_fiscal_month_below_one_has_one_message(admin_client):
    series = NumberFormat.objects.get(code="invoice")
    data = {
        "code": "invoice",
        "name": "",
        "prefix": series.prefix,
        "suffix": "",
        "padding": 4,
        "reset": "yearly",
        "active": "on",
    }
    for month in ("-3", "0", "13"):
        response = admin_client.post(format_url(series), {**data, "fiscal_year_start_month": month})
        assert response.context["adminform"].form.errors["fiscal_year_start_month"] == [
            "Enter a month from 1 (January) to 12 (December)."
        ]


def test_the_format_history_says_old_and_new_values(admin_client):
    series = NumberFormat.objects.get(code="invoice")
    data = {
        "code": "invoice",
        "name": "",
        "prefix": "FAC-{YYYY}-",
        "suffix": "",
        "padding": 5,
        "reset": "yearly",
        "fiscal_year_start_month": 1,
        "active": "on",
    }
    assert admin_client.post(format_url(series), data).status_code == 302
    entry = LogEntry.objects.get(object_id=str(series.pk))
    assert entry.get_change_message() == (
        "Changed prefix from “INV-{YYYY}-” to “FAC-{YYYY}-”; padding from “4” to “5”."
    )
