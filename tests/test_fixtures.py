"""dumpdata and loaddata: natural keys for formats and counters."""

import datetime as dt

import pytest

from docnumbers import next_value
from docnumbers.models import Counter, NumberFormat
from tests.testapp.models import Invoice

pytestmark = pytest.mark.django_db(transaction=True)

day = dt.date.fromisoformat


def test_a_seeded_format_is_found_by_seeded_for_after_its_text_changed():
    seeded = NumberFormat.objects.get(seeded_for="invoice")
    key = seeded.natural_key()
    assert key == ("invoice", "INV-{YYYY}-", "", "invoice")
    NumberFormat.objects.filter(pk=seeded.pk).update(prefix="FAC-{YYYY}-")
    assert NumberFormat.objects.get_by_natural_key(*key) == seeded
    manual = NumberFormat.objects.create(code="quote", prefix="Q-")
    assert manual.natural_key() == ("quote", "Q-", "", "")
    assert NumberFormat.objects.get_by_natural_key(*manual.natural_key()) == manual
    with pytest.raises(NumberFormat.DoesNotExist):
        NumberFormat.objects.get_by_natural_key("quote", "Z-", "", "")


def test_a_counter_natural_key_holds_no_database_id():
    Invoice.objects.create(issued_on=day("2026-01-02"))
    counter = Counter.objects.get(sequence="testapp.invoice.invoice_number")
    series = NumberFormat.objects.get(seeded_for="invoice")
    assert counter.key == f"testapp.invoice.invoice_number#{series.pk}@2026"
    assert counter.natural_key() == (
        "testapp.invoice.invoice_number", "", "2026", "invoice", "INV-{YYYY}-", "", "invoice"
    )  # fmt: skip
    assert Counter.objects.get_by_natural_key(*counter.natural_key()) == counter
    next_value("plain")
    plain = Counter.objects.get(key="plain")
    assert plain.natural_key() == ("plain", "", "")
    assert Counter.objects.get_by_natural_key("plain", "", "") == plain
    with pytest.raises(Counter.DoesNotExist):
        Counter.objects.get_by_natural_key("plain", "", "", "nope", "", "", "")
