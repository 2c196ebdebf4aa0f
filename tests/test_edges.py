"""The edges of issue #18: USE_TZ = False, the end of the calendar, CSV cells an auditor
opens in a spreadsheet, and commands run on another database."""

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from docnumbers import NumberFrozen, formatting
from docnumbers.exceptions import TemplateError
from docnumbers.management.commands.docnumbers import CSV_COLUMNS
from docnumbers.models import Counter, CounterChange, GapExplanation, NumberFormat
from tests.testapp.models import (
    Customer,
    CustomerDocument,
    Invoice,
    NegativeStartModel,
    Order,
    PerNameModel,
    Quote,
    SimpleModel,
    Ticket,
)


def run(*args):
    """Run the command; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("docnumbers", *args, "--no-progress", stdout=out, stderr=err)
        status = 0
    except CommandError as exc:
        status = exc.returncode
        err.write(str(exc))
    return status, out.getvalue(), err.getvalue()


# -- #18.13: USE_TZ = False ----------------------------------------------------------------


@pytest.fixture
def naive(settings):
    """USE_TZ = False for the whole test, the admin client's login included."""
    settings.USE_TZ = False


@pytest.mark.django_db
def test_without_time_zones_a_document_without_date_field_is_numbered_today(naive):
    ticket = Ticket.objects.create()
    today = dt.datetime.now().date()  # local time already, in settings.TIME_ZONE
    assert ticket.number_display == f"T{today:%Y%m%d}-0001"
    ticket.refresh_from_db()
    ticket.title = "edited"
    ticket.full_clean()
    ticket.save()
    assert Ticket.objects.get().number_display == f"T{today:%Y%m%d}-0001"


@pytest.mark.django_db
def test_without_time_zones_a_naive_datetime_is_the_local_day(naive):
    # 23:30 on 31 January stays January: a naive datetime is local time already.
    order = Order.objects.create(placed_at=dt.datetime(2026, 1, 31, 23, 30))
    assert order.number_display == "ORD-2601-001"
    order = Order.objects.get()
    assert order.placed_at == dt.datetime(2026, 1, 31, 23, 30)
    order.placed_at = dt.datetime(2026, 1, 2, 8, 0)  # inside the period: allowed
    order.full_clean()
    order.save()
    order.placed_at = dt.datetime(2026, 2, 1, 0, 0)  # another month: frozen
    with pytest.raises(ValidationError):
        order.full_clean()


@pytest.mark.django_db
def test_without_time_zones_a_never_reset_format_is_checked_before_saving(naive):
    series = NumberFormat.objects.create(code="quote", prefix="Q-", padding=4)
    Quote.objects.create()
    series.prefix = "Q-000"  # Q-0001 would read Q-0000002...
    series.padding = 1
    series.full_clean()  # ... not a stored text: accepted, with today as the day
    series.prefix, series.padding = "Q-", 3  # fine too
    series.full_clean()


@pytest.mark.django_db
def test_without_time_zones_the_admin_pages_answer(naive, admin_client, admin_user):
    from docnumbers import allocation

    Ticket.objects.create()
    for _ in range(3):
        SimpleModel.objects.create()
    SimpleModel.objects.filter(number=2).delete()
    counter = Counter.objects.get(key="testapp.simplemodel.number")
    allocation.move_counter(counter.pk, 9, reason="test", source="admin", user=admin_user)
    GapExplanation.objects.create(
        counter=counter, first=2, last=2, kind="voided", reason="x", created_by=admin_user
    )
    assert CounterChange.objects.exists()
    fmt = NumberFormat.objects.get(code="ticket")
    pages = [
        reverse("admin:docnumbers_numberformat_changelist"),
        reverse("admin:docnumbers_numberformat_change", args=[fmt.pk]),
        reverse("admin:docnumbers_numberformat_add"),
        reverse("admin:docnumbers_counter_changelist"),
        reverse("admin:docnumbers_counterchange_changelist"),
        reverse("admin:docnumbers_gapexplanation_changelist"),
        reverse("admin:testapp_ticket_changelist"),
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page
    today = dt.datetime.now().date()
    response = admin_client.get(
        reverse("admin:docnumbers_numberformat_preview"),
        {
            "object_id": fmt.pk,
            "code": "ticket",
            "prefix": "T{YYYY}{MM}{DD}-",
            "padding": "4",
            "reset": "daily",
            "fiscal_year_start_month": "1",
            "day": "2026-02-03",
        },
    )
    assert response.status_code == 200
    data = response.json()
    assert data["preview"]["today"]["numbers"][0] == f"T{today:%Y%m%d}-0002"


# -- #18.14: the end of the calendar -------------------------------------------------------


def fiscal_invoices(prefix="INV-{FY}-"):
    fmt = NumberFormat.objects.get_or_create(
        code="invoice", defaults={"prefix": "INV-{YYYY}-", "reset": "yearly"}
    )[0]
    fmt.prefix, fmt.reset, fmt.fiscal_year_start_month = prefix, "fiscal", 4
    fmt.full_clean()
    fmt.save()
    return fmt


#: The calendar's edges, past the default plausibility window (DOCNUMBERS_DATE_RANGE).
CALENDAR_EDGES = override_settings(DOCNUMBERS_DATE_RANGE=(1, 9999))


def test_fye_of_the_fiscal_year_starting_in_9999_is_refused_by_name():
    day = dt.date(9999, 6, 1)
    with pytest.raises(TemplateError) as info:
        formatting.render("F{FYE}-", "", 4, day, 1, first_month=4)
    assert "9999-06-01" in str(info.value) and "9999" in str(info.value).replace("9999-06-01", "")
    # The fiscal year that ends in 9999 renders; so does {FY} of the last one.
    assert formatting.render("F{FYE}-", "", 4, dt.date(9999, 3, 31), 1, first_month=4) == (
        "F9999-0001"
    )
    assert formatting.render("F{FY}-", "", 4, day, 1, first_month=4) == "F9999-0001"
    # A fiscal year starting in January ends in the same year: 9999 is fine.
    assert formatting.render("F{FYE}-", "", 4, dt.date(9999, 12, 31), 1) == "F9999-0001"


def test_periods_at_the_end_of_the_calendar_stop_at_its_last_day():
    assert formatting.period_days("FY9999-04")[-1] == dt.date(9999, 12, 1)
    assert len(formatting.period_days("FY9999-04")) == 9
    assert formatting.period_days("9999") == [dt.date(9999, m, 1) for m in range(1, 13)]
    assert formatting.period_contains("FY9999-04", dt.date(9999, 12, 31))


def test_a_fiscal_year_starting_before_year_1_is_refused_by_name():
    with pytest.raises(TemplateError) as info:
        formatting.period_key(dt.date(1, 2, 1), formatting.Reset.FISCAL, 4)
    assert "0001-02-01" in str(info.value)
    with pytest.raises(TemplateError):
        formatting.render("F{FY}-", "", 4, dt.date(1, 2, 1), 1, first_month=4)


@CALENDAR_EDGES
@pytest.mark.django_db(transaction=True)
def test_a_document_whose_fiscal_year_ends_after_9999_is_refused_when_numbered():
    fiscal_invoices("INV-{FYE}-")
    with pytest.raises(TemplateError) as info:
        with transaction.atomic():
            Invoice.objects.create(issued_on=dt.date(9999, 6, 1))
    assert "9999-06-01" in str(info.value)
    assert not Invoice.objects.exists()
    assert Invoice.objects.create(issued_on=dt.date(9999, 3, 1)).invoice_number_display == (
        "INV-9999-0001"
    )


@CALENDAR_EDGES
@pytest.mark.django_db
@pytest.mark.parametrize(
    "prefix, reset, old, new",
    [
        ("INV-{FY}-", "fiscal", dt.date(2026, 6, 1), dt.date(1, 2, 1)),  # fiscal year 0
        ("INV-{YYYY}-{FYE}-", "yearly", dt.date(9999, 2, 1), dt.date(9999, 6, 1)),  # FYE 10000
    ],
)
def test_moving_a_document_out_of_the_calendar_is_a_validation_error(prefix, reset, old, new):
    fmt = fiscal_invoices(prefix)
    fmt.reset = reset
    fmt.save()
    doc = Invoice.objects.create(issued_on=old)
    doc.issued_on = new
    with pytest.raises(ValidationError) as info:
        doc.full_clean()
    # Refused as a date the calendar cannot number, or as one outside the number's period.
    assert new.isoformat() in str(info.value) or "numbered in the period" in str(info.value)
    with pytest.raises((TemplateError, NumberFrozen)):
        doc.save()
    assert Invoice.objects.get().issued_on == old


@CALENDAR_EDGES
@pytest.mark.django_db
def test_a_format_with_documents_in_fiscal_year_9999_can_still_be_edited(admin_client):
    fmt = fiscal_invoices()
    doc = Invoice.objects.create(issued_on=dt.date(9999, 6, 1))
    assert doc.invoice_number_display == "INV-9999-0001"
    fmt.prefix = "FAC-{FY}-"
    fmt.full_clean()  # reads differently: accepted
    fmt.prefix, fmt.fiscal_year_start_month = "INV-{FY}-", 7
    with pytest.raises(ValidationError) as info:
        fmt.full_clean()  # FY9999-07 would start again at INV-9999-0001
    assert "INV-9999-0001" in str(info.value)
    fmt.refresh_from_db()
    fmt.prefix = "INV-{FYE}-"  # the last fiscal year cannot issue with it: nothing collides
    fmt.full_clean()

    change = reverse("admin:docnumbers_numberformat_change", args=[fmt.pk])
    assert admin_client.get(change).status_code == 200
    data = {
        "code": "invoice",
        "name": "",
        "prefix": "FAC-{FY}-",
        "suffix": "",
        "padding": "4",
        "reset": "fiscal",
        "fiscal_year_start_month": "4",
        "active": "on",
    }
    response = admin_client.get(
        reverse("admin:docnumbers_numberformat_preview"),
        {**data, "prefix": "INV-{FYE}-", "object_id": fmt.pk, "day": "9999-06-01"},
    )
    assert response.status_code == 200
    preview = response.json()
    assert not preview["valid"]
    assert "9999-06-01" in " ".join(preview["errors"]["day"])
    assert admin_client.post(change, data).status_code == 302
    assert NumberFormat.objects.get(pk=fmt.pk).prefix == "FAC-{FY}-"


# -- #18.15: CSV cells that a spreadsheet would run --------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.django_db(transaction=True)
def test_csv_cells_that_would_run_as_formulas_are_neutralised():
    evil = "-2+3+cmd|' /C calc'!A0"
    CustomerDocument.objects.create(
        customer=Customer.objects.create(name=evil), issued_on=dt.date(2026, 1, 1)
    )
    PerNameModel.objects.create(name=evil)  # its scope names the counter: the part
    NumberFormat.objects.create(code="quote", name="@SUM(1+1)", prefix="Q-")
    for _ in range(3):
        Quote.objects.create()
    Quote.objects.filter(number=2).delete()
    counter = Counter.objects.get(sequence="testapp.quote.number")
    GapExplanation.objects.create(counter=counter, first=2, last=2, kind="voided", reason="=1+1")
    for _ in range(3):
        NegativeStartModel.objects.create()  # -2, -1, 0
    NegativeStartModel.objects.filter(number=-1).delete()

    status, out, _ = run("audit", "--format", "csv")
    assert status == 0, out
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == CSV_COLUMNS
    numeric = {CSV_COLUMNS.index(name) for name in ("first", "last", "count", "counter_value")}
    cells = [(i, cell) for row in rows[1:] for i, cell in enumerate(row)]
    texts = [cell for i, cell in cells if i not in numeric]
    assert not [cell for cell in texts if cell.startswith(FORMULA_STARTS)]
    joined = "\n".join(texts)
    assert f"'{evil}" in texts  # kept, readable, inert
    assert "'@SUM(1+1)" in joined
    assert "voided: =1+1" in joined  # inside a cell, not at its start: harmless
    # Numbers stay numbers: -2 is a number a spreadsheet sums, not a formula.
    negative = [r for r in rows[1:] if r[0] == "testapp.NegativeStartModel.number"]
    assert [(r[3], r[4], r[5]) for r in negative] == [("summary", "-2", "0"), ("gap", "-1", "-1")]


def test_csv_neutralises_every_formula_start_and_keeps_numbers():
    from docnumbers.management.commands.docnumbers import spreadsheet_safe

    for start in FORMULA_STARTS:
        assert spreadsheet_safe(f"{start}1") == f"'{start}1"
    assert spreadsheet_safe("ok") == "ok"
    assert spreadsheet_safe("") == ""
    assert spreadsheet_safe(-5) == -5


# -- #18.16: commands run on another database ----------------------------------------------


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_audit_of_another_database_prints_no_admin_link_of_the_default_one():
    rows = [SimpleModel.objects.using("other").create() for _ in range(3)]
    rows[1].delete()
    status, out, _ = run("audit", "testapp.SimpleModel", "--database", "other")
    assert status == 0
    assert "unexplained gaps: 2" in out
    assert reverse("admin:docnumbers_gapexplanation_add") not in out
    # What to run instead names the database.
    assert "docnumbers explain testapp.SimpleModel.number --number 2" in out
    assert "--database other" in out
    # The default database keeps its admin links.
    rows = [SimpleModel.objects.create() for _ in range(3)]
    rows[1].delete()
    status, out, _ = run("audit", "testapp.SimpleModel")
    assert reverse("admin:docnumbers_gapexplanation_add") in out


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "args",
    [
        ["audit"],
        ["sync"],
        ["explain", "testapp.SimpleModel.number", "--number", "1", "--reason", "x"],
    ],
)
def test_an_unknown_database_is_one_line_and_status_2(args):
    status, out, err = run(*args, "--database", "nope")
    assert status == 2
    assert "nope" in err and "\n" not in err.strip()
    assert "default" in err  # the databases there are
