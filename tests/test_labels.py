"""Issue #22: what an accountant reads names a series by its name or by what its numbers
look like, never by its code; a filter never offers an empty or "-" choice."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from docnumbers import labels
from docnumbers.models import Counter, NumberFormat
from tests.testapp.models import Invoice, PerNameModel, SimpleModel

pytestmark = pytest.mark.django_db


def test_a_series_is_named_by_its_name_else_by_its_pattern():
    unnamed = NumberFormat(code="invoice", prefix="INV-{YYYY}-", padding=4)
    assert labels.series_label(unnamed) == "INV-{YYYY}-####"
    assert labels.series_label(NumberFormat(code="q", prefix="Q-", suffix="/B", padding=0)) == (
        "Q-#/B"
    )
    assert labels.series_label(NumberFormat(code="invoice", name="Export")) == "Export"
    assert labels.series_label(None) == ""


def test_the_counter_list_and_the_audit_show_no_code(admin_client):
    Invoice.objects.create(issued_on=dt.date(2026, 3, 1))
    counter = Counter.objects.get(sequence="testapp.invoice.invoice_number")
    assert labels.counter_label(counter) == "INV-{YYYY}-#### · 2026"
    page = admin_client.get(reverse("admin:docnumbers_counter_changelist")).content.decode()
    assert "INV-{YYYY}-#### · 2026" in page and "invoice · 2026" not in page
    out = io.StringIO()
    call_command("docnumbers", "audit", "--no-progress", stdout=out)
    assert "INV-{YYYY}-#### · 2026" in out.getvalue()
    assert "invoice · 2026" not in out.getvalue()


def test_a_document_is_named_with_the_languages_colon():
    with translation.override("fr"):
        assert labels.sequence_label("testapp.simplemodel.number").endswith(" : number")
    with translation.override("en"):
        assert labels.sequence_label("testapp.simplemodel.number") == "Simple model: number"


def test_counter_filters_name_every_choice_in_words(admin_client):
    """Series by name or pattern, "no format" rather than "-", "no reset" rather than an
    empty link."""
    Invoice.objects.create(issued_on=dt.date(2026, 3, 1))
    SimpleModel.objects.create()
    PerNameModel.objects.create(name="a")
    url = reverse("admin:docnumbers_counter_changelist")
    page = admin_client.get(url).content.decode()
    filters = page[page.index('id="changelist-filter"') :]
    assert ">INV-{YYYY}-####</a>" in filters and ">invoice</a>" not in filters
    assert ">No format (plain numbers)</a>" in filters and ">-</a>" not in filters
    assert ">No reset</a>" in filters and '"></a>' not in filters
    # Each choice filters what it says.
    invoice_format = NumberFormat.objects.get(code="invoice")
    shown = admin_client.get(url, {"number_format": invoice_format.pk}).context["cl"].result_list
    assert [c.sequence for c in shown] == ["testapp.invoice.invoice_number"]
    plain = admin_client.get(url, {"number_format": "none"}).context["cl"].result_list
    assert {c.sequence for c in plain} == {
        "testapp.simplemodel.number",
        "testapp.pernamemodel.number",
    }
    never = admin_client.get(url, {"period": "none"}).context["cl"].result_list
    assert all(c.period == "" for c in never) and len(never) == 2
    yearly = admin_client.get(url, {"period": "2026"}).context["cl"].result_list
    assert [c.period for c in yearly] == ["2026"]
