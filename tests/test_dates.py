"""Issue #22, item 3: implausible document dates are refused, not numbered in year 1 or 9999,
and a period is started ahead of time only from today's period on."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

import docnumbers
from docnumbers.models import Counter, NumberFormat
from tests.testapp.models import Invoice, Order, SimpleModel

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.mark.parametrize("day", [D(1, 1, 1), D(1899, 12, 31), D(3000, 1, 1), D(9999, 12, 31)])
def test_save_refuses_a_date_outside_the_window_and_takes_no_number(day):
    with pytest.raises(docnumbers.DateOutOfRange) as info, transaction.atomic():
        Invoice.objects.create(issued_on=day)
    assert info.value.field == "issued_on"
    assert day.isoformat() in info.value.message and "1900 to 2999" in info.value.message
    assert not Counter.objects.exists() and not Invoice.objects.exists()


def test_the_edges_of_the_window_are_numbered():
    first = Invoice.objects.create(issued_on=D(1900, 1, 1))
    last = Invoice.objects.create(issued_on=D(2999, 12, 31))
    assert (first.invoice_number_display, last.invoice_number_display) == (
        "INV-1900-0001",
        "INV-2999-0001",
    )


def test_full_clean_puts_the_error_on_the_date_field():
    invoice = Invoice(issued_on=D(1, 1, 1))
    with pytest.raises(ValidationError) as info:
        invoice.full_clean()
    assert list(info.value.message_dict) == ["issued_on"]
    (message,) = info.value.message_dict["issued_on"]
    assert message.startswith("0001-01-01 is outside the years documents are numbered for")
    Invoice(issued_on=D(2026, 3, 1)).full_clean()  # a plausible date is fine


def test_a_datetime_at_the_end_of_time_is_refused_not_an_overflow():
    later = dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC)
    with pytest.raises(docnumbers.DateOutOfRange), transaction.atomic():
        Order.objects.create(placed_at=later)
    with pytest.raises(ValidationError) as info:
        Order(placed_at=later).full_clean()
    assert list(info.value.message_dict) == ["placed_at"]


def test_bulk_create_refuses_the_batch():
    batch = [Invoice(issued_on=D(2026, 1, 1)), Invoice(issued_on=D(9999, 12, 31))]
    with pytest.raises(docnumbers.DateOutOfRange), transaction.atomic():
        Invoice.objects.bulk_create(batch)
    assert not Invoice.objects.exists()


@override_settings(DOCNUMBERS_DATE_RANGE=(1, 9999))
def test_the_window_is_a_setting():
    assert Invoice.objects.create(issued_on=D(1, 1, 1)).invoice_number_display == "INV-0001-0001"


def test_plain_fields_and_issued_documents_are_not_concerned():
    SimpleModel.objects.create()  # no date: nothing to check
    invoice = Invoice.objects.create(issued_on=D(2026, 3, 1))
    invoice.full_clean()


def test_the_message_is_translated():
    with translation.override("fr"), pytest.raises(ValidationError) as info:
        Invoice(issued_on=D(1, 1, 1)).full_clean()
    assert "0001-01-01 est en dehors des années" in info.value.message_dict["issued_on"][0]


# -- starting a period ahead of time ---------------------------------------------------------


def start(admin_client, day):
    series = NumberFormat.objects.get(code="invoice")
    return admin_client.post(
        reverse("admin:docnumbers_numberformat_start_period", args=[series.pk]),
        {"sequence": "testapp.invoice.invoice_number", "day": day, "next_value": "1"},
    )


@pytest.mark.parametrize("day", ["0001-01-01", "1999-06-30", "9999-12-31"])
def test_a_past_or_implausible_period_is_not_started(admin_client, day):
    response = start(admin_client, day)
    assert response.status_code == 200
    (message,) = response.context["form"].errors["day"]
    if day.startswith("1999"):
        year = timezone.localdate().year
        assert message.startswith(f"1999 is over: only the current period ({year})")
    else:
        assert "outside the years documents are numbered for" in message
    assert not Counter.objects.exists()


def test_the_current_and_a_later_period_are_started(admin_client):
    today = timezone.localdate()
    assert start(admin_client, today.replace(month=1, day=1).isoformat()).status_code == 302
    assert start(admin_client, f"{today.year + 1}-01-01").status_code == 302
    assert sorted(Counter.objects.values_list("period", flat=True)) == [
        str(today.year),
        str(today.year + 1),
    ]
