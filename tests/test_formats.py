"""NumberFormat and formatted fields: INV-2026-0001, resets, immutability, search, cost."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template import Context, Template
from django.utils import timezone

from docnumbers import FormatMissing, NumberFrozen
from docnumbers.models import Counter, NumberFormat
from tests.testapp.models import Customer, CustomerDocument, Invoice, Order, Quote, Ticket

pytestmark = pytest.mark.django_db

D = dt.date


def invoice(day, **kwargs):
    return Invoice.objects.create(issued_on=day, **kwargs)


def test_invoice_number_display_reads_INV_2026_0001():
    inv = invoice(D(2026, 3, 14))
    assert inv.invoice_number == 1
    assert inv.invoice_number_display == "INV-2026-0001"
    assert Invoice.objects.get(pk=inv.pk).invoice_number_display == "INV-2026-0001"


def test_display_is_none_before_a_number_is_issued():
    assert Invoice(issued_on=D(2026, 1, 1)).invoice_number_display is None


def test_display_works_on_the_class_in_templates_and_values():
    inv = invoice(D(2026, 3, 14))
    assert Invoice._meta.get_field("invoice_number_display").name == "invoice_number_display"
    assert hasattr(Invoice, "invoice_number_display")
    html = Template("{{ inv.invoice_number_display }}").render(Context({"inv": inv}))
    assert html == "INV-2026-0001"
    assert list(Invoice.objects.values_list("invoice_number_display", flat=True)) == [
        "INV-2026-0001"
    ]


def test_yearly_reset_follows_the_document_date():
    for _ in range(3):
        invoice(D(2025, 12, 30))
    assert invoice(D(2026, 1, 2)).invoice_number_display == "INV-2026-0001"
    # A back-dated document gets the number of its own year.
    assert invoice(D(2025, 12, 31)).invoice_number_display == "INV-2025-0004"
    assert invoice(D(2026, 1, 3)).invoice_number_display == "INV-2026-0002"


def test_monthly_reset_with_a_datetime_in_another_time_zone():
    utc = dt.UTC
    # 23:30 UTC on 31 January is 00:30 on 1 February in Paris (settings.TIME_ZONE).
    late = Order.objects.create(placed_at=dt.datetime(2026, 1, 31, 23, 30, tzinfo=utc))
    early = Order.objects.create(placed_at=dt.datetime(2026, 1, 31, 22, 30, tzinfo=utc))
    assert late.number_display == "ORD-2602-001"
    assert early.number_display == "ORD-2601-001"
    assert Order.objects.create(placed_at=dt.datetime(2026, 2, 1, 8, tzinfo=utc)).number == 2


def test_leap_day_and_daily_reset_without_date_field_use_today():
    today = timezone.localdate()
    first, second = Ticket.objects.create(), Ticket.objects.create()
    assert first.number_display == f"T{today:%Y%m%d}-0001"
    assert second.number_display == f"T{today:%Y%m%d}-0002"


def test_unique_with_gives_each_customer_its_own_sequence_within_a_period():
    acme, globex = Customer.objects.create(name="Acme"), Customer.objects.create(name="Globex")
    day = D(2026, 6, 1)
    docs = [
        CustomerDocument.objects.create(customer=c, issued_on=day) for c in (acme, acme, globex)
    ]
    assert [d.number_display for d in docs] == ["C-2026-001", "C-2026-002", "C-2026-001"]
    nxt = CustomerDocument.objects.create(customer=acme, issued_on=D(2027, 1, 1))
    assert nxt.number_display == "C-2027-001"


def test_issued_numbers_never_change_when_the_format_changes():
    fmt = NumberFormat.objects.create(code="quote", prefix="INV-", padding=4)
    first = Quote.objects.create()
    assert first.number_display == "INV-0001"
    fmt.prefix = "FAC-"
    fmt.save()
    assert Quote.objects.create().number_display == "FAC-0002"
    first.refresh_from_db()
    assert first.number_display == "INV-0001"
    fmt.padding, fmt.suffix = 6, "/X"
    fmt.save()
    assert Quote.objects.create().number_display == "FAC-000003/X"
    assert list(Quote.objects.order_by("number").values_list("number_display", flat=True)) == [
        "INV-0001",
        "FAC-0002",
        "FAC-000003/X",
    ]


def test_a_date_that_moves_the_number_to_another_period_is_refused():
    """INV-2026-0001 must not end up on a 2027 invoice (#11): the save is refused."""
    inv = invoice(D(2026, 3, 14))
    inv.issued_on = D(2027, 1, 1)
    with pytest.raises(NumberFrozen, match="INV-2026-0001 is numbered in the period 2026"):
        inv.save()
    inv.refresh_from_db()
    assert (inv.issued_on, inv.invoice_number_display) == (D(2026, 3, 14), "INV-2026-0001")


def test_a_date_inside_the_same_period_may_change():
    inv = invoice(D(2026, 3, 14))
    inv.issued_on = D(2026, 11, 2)
    inv.save()
    inv.refresh_from_db()
    assert (inv.issued_on, inv.invoice_number, inv.invoice_number_display) == (
        D(2026, 11, 2),
        1,
        "INV-2026-0001",
    )


def test_find_a_document_by_its_formatted_number():
    for _ in range(42):
        invoice(D(2026, 2, 1))
    found = Invoice.objects.get(invoice_number_display="INV-2026-0042")
    assert found.invoice_number == 42
    assert Invoice.objects.filter(invoice_number_display__icontains="2026-004").count() == 3


def test_reading_10000_display_values_takes_one_query(django_assert_max_num_queries):
    Invoice.objects.bulk_create([Invoice(issued_on=D(2026, 1, 1)) for _ in range(10_000)])
    with django_assert_max_num_queries(1):
        texts = [inv.invoice_number_display for inv in Invoice.objects.all()]
    assert len(set(texts)) == 10_000
    assert "INV-2026-10000" in texts and "INV-2026-0001" in texts


def test_bulk_create_renders_formats_per_period_in_one_statement_per_key():
    objs = Invoice.objects.bulk_create(
        [Invoice(issued_on=D(2025 + i % 2, 12 - 11 * (i % 2), 31 - 30 * (i % 2))) for i in range(4)]
    )
    assert [o.invoice_number_display for o in objs] == [
        "INV-2025-0001",
        "INV-2026-0001",
        "INV-2025-0002",
        "INV-2026-0002",
    ]


def test_explicit_number_on_a_formatted_field_is_rendered_and_moves_the_counter():
    inv = invoice(D(2026, 1, 1), invoice_number=500)
    assert inv.invoice_number_display == "INV-2026-0500"
    assert invoice(D(2026, 1, 2)).invoice_number_display == "INV-2026-0501"


def test_database_refuses_two_equal_formatted_numbers_in_a_scope_across_periods():
    acme, globex = Customer.objects.create(name="Acme"), Customer.objects.create(name="Globex")
    CustomerDocument.objects.create(customer=acme, issued_on=D(2026, 1, 1))
    # Another customer may read the same; the same customer never.
    CustomerDocument.objects.create(customer=globex, issued_on=D(2026, 1, 1))
    later = CustomerDocument.objects.create(customer=acme, issued_on=D(2027, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        # Past docnumbers (an UPDATE by hand): the database itself refuses the text.
        CustomerDocument.objects.filter(pk=later.pk).update(number_display="C-2026-001")


def test_declared_defaults_create_the_format_without_any_admin_step():
    seeded = NumberFormat.objects.get(code="invoice")
    assert (seeded.prefix, seeded.padding, seeded.reset) == ("INV-{YYYY}-", 4, "yearly")


def test_edits_made_in_the_admin_win_over_declared_defaults():
    invoice(D(2026, 1, 1))
    NumberFormat.objects.filter(code="invoice").update(prefix="FAC/{YYYY}/", padding=5)
    assert invoice(D(2026, 1, 2)).invoice_number_display == "FAC/2026/00002"


def test_a_deleted_declared_format_is_created_again_on_first_use():
    NumberFormat.objects.filter(code="invoice").delete()
    assert invoice(D(2026, 1, 1)).invoice_number_display == "INV-2026-0001"
    assert NumberFormat.objects.filter(code="invoice").count() == 1


def test_a_format_without_row_or_defaults_fails_with_a_clear_error():
    with pytest.raises(FormatMissing, match="no number format with the code 'quote'"):
        Quote.objects.create()


def test_inactive_series_are_not_used():
    NumberFormat.objects.filter(code="invoice").update(active=False)
    with pytest.raises(FormatMissing, match="inactive"):
        invoice(D(2026, 1, 1))


def test_series_first_active_is_the_default_and_a_document_may_pick_another():
    standard = NumberFormat.objects.create(code="quote", name="Standard", prefix="Q-", position=1)
    export = NumberFormat.objects.create(code="quote", name="Export", prefix="EXP-", position=2)
    assert Quote.objects.create().number_display == "Q-0001"
    picked = Quote.objects.create(series=export)
    assert picked.number_display == "EXP-0001"
    default = Quote.objects.create()
    # Empty means the default series: the document keeps none, its counter names it.
    assert (default.number_display, default.series) == ("Q-0002", None)
    assert default.number_counter.number_format == standard
    standard.active = False
    standard.save()
    assert Quote.objects.create().number_display == "EXP-0002"


def test_a_series_of_another_code_is_refused():
    other = NumberFormat.objects.get(code="invoice")
    with pytest.raises(ValueError, match="belongs to the code 'invoice'"):
        Quote.objects.create(series=other)


def test_counter_rows_record_series_scope_and_period():
    acme = Customer.objects.create(name="Acme")
    CustomerDocument.objects.create(customer=acme, issued_on=D(2026, 4, 1))
    counter = Counter.objects.get(sequence="testapp.customerdocument.number")
    assert counter.period == "2026"
    assert counter.scope == f'{{"customer":"{acme.pk}"}}'
    assert counter.number_format.code == "customer-doc"
    assert counter.value == 1


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"prefix": "INV-{YEAR}"}, "prefix", "Unknown token"),
        ({"prefix": "INV-{YYYY"}, "prefix", "Unbalanced"),
        ({"suffix": "{x.__class__}"}, "suffix", "attribute or index access"),
        ({"padding": 19}, "padding", "18"),
        ({"prefix": "INV-", "reset": "yearly"}, "prefix", "twice"),
        ({"code": "nobody-uses-this"}, "code", "No document type uses the code"),
    ],
)
def test_number_format_validation_names_the_problem(changes, field, words):
    fmt = NumberFormat(code="invoice", prefix="INV-{YYYY}-", padding=4, reset="yearly")
    for name, value in changes.items():
        setattr(fmt, name, value)
    with pytest.raises(ValidationError) as info:
        fmt.full_clean()
    assert field in info.value.message_dict
    assert any(words in m for m in info.value.message_dict[field])


@pytest.mark.parametrize(
    "field, value",
    [
        ("fiscal_year_start_month", 4.0),
        ("fiscal_year_start_month", 4.5),
        ("fiscal_year_start_month", True),
        ("padding", 4.5),
        ("padding", True),
    ],
)
def test_number_format_refuses_settings_that_are_not_ints(field, value):
    # Django's IntegerField turns 4.5 into 4 and True into 1; a format refuses them,
    # as Format.validate does, rather than store another value than the one given.
    fmt = NumberFormat(code="invoice", prefix="INV-{FY}-", padding=4, reset="fiscal")
    fmt.fiscal_year_start_month = 4
    setattr(fmt, field, value)
    with pytest.raises(ValidationError) as info:
        fmt.full_clean()
    assert list(info.value.message_dict) == [field]
    (message,) = info.value.message_dict[field]
    assert "whole number" in message and repr(value) in message


def test_two_series_of_one_code_must_read_differently():
    NumberFormat.objects.create(code="quote", prefix="Q-")
    twin = NumberFormat(code="quote", prefix="Q-", name="twin")
    with pytest.raises(ValidationError, match="Another series"):
        twin.full_clean()


def test_a_date_given_as_text_is_understood():
    assert invoice("2026-06-01").invoice_number_display == "INV-2026-0001"


@pytest.mark.django_db(transaction=True)
def test_schema_changes_rebuild_a_table_with_a_formatted_field():
    # SQLite rebuilds the whole table for a new constraint; the companion
    # columns must survive it (they once failed to resolve docnumbers.Counter).
    from django.db import connection, models

    constraint = models.UniqueConstraint(fields=["customer", "issued_on"], name="tmp_cust_day")
    with connection.schema_editor() as editor:
        editor.add_constraint(Invoice, constraint)
    try:
        inv = invoice(D(2026, 1, 1))
        assert inv.invoice_number_display == "INV-2026-0001"
    finally:
        with connection.schema_editor() as editor:
            editor.remove_constraint(Invoice, constraint)


# -- Format changes that would reissue a text (#11) ----------------------------------------


def refusal(fmt, field):
    """The messages ``fmt.full_clean()`` attaches to ``field`` (it must refuse)."""
    with pytest.raises(ValidationError) as info:
        fmt.full_clean()
    assert field in info.value.message_dict, info.value.message_dict
    return " ".join(info.value.message_dict[field])


def test_switching_a_yearly_reset_to_never_is_refused_naming_the_document():
    first = invoice(D(2025, 11, 3))
    invoice(D(2025, 12, 1))
    invoice(D(2026, 1, 5))
    fmt = NumberFormat.objects.get(code="invoice")
    fmt.reset = "never"
    message = refusal(fmt, "reset")
    assert message == (
        "Invoice INV-2025-0001 is already issued; with these settings "
        "the next invoice of 2025 would read the same."
    )
    assert first.invoice_number_display == "INV-2025-0001"
    # Nothing was saved, and the next invoice is numbered as before.
    assert NumberFormat.objects.get(pk=fmt.pk).reset == "yearly"
    assert invoice(D(2026, 1, 6)).invoice_number_display == "INV-2026-0002"


def test_a_prefix_whose_texts_overlap_issued_ones_is_refused():
    old = NumberFormat.objects.create(code="quote", prefix="INV-", position=1)
    other = NumberFormat.objects.create(code="quote", prefix="Q-", position=2)
    issued = Quote.objects.create(series=old, number=10001)
    assert issued.number_display == "INV-10001"
    # INV-1 with padding 4 reads INV-10001 for its first number.
    other.prefix = "INV-1"
    assert "Quote INV-10001 is already issued" in refusal(other, "prefix")
    # A new series is checked as well.
    added = NumberFormat(code="quote", name="new", prefix="INV-1", position=3)
    assert f"Quote {issued.number_display} is already issued" in refusal(added, "prefix")


def test_a_padding_change_is_refused_only_when_it_collides():
    wide = NumberFormat.objects.create(code="quote", prefix="INV-", position=1)
    narrow = NumberFormat.objects.create(code="quote", prefix="INV-0", position=2)
    taken = [Quote.objects.create(series=wide) for _ in range(3)]
    assert Quote.objects.create(series=narrow).number_display == "INV-00001"
    narrow.padding = 3  # its next number, 2, would read INV-0002
    assert taken[1].number_display == "INV-0002"
    assert "Quote INV-0002 is already issued" in refusal(narrow, "padding")
    narrow.padding = 5
    narrow.full_clean()
    # Within one yearly series, a padding change never repeats a text.
    fmt = NumberFormat.objects.get(code="invoice")
    invoice(D(2026, 1, 1))
    for padding in (3, 6):
        fmt.padding = padding
        fmt.full_clean()


def test_a_fiscal_month_change_is_refused_when_a_new_period_would_start_over():
    fmt = NumberFormat.objects.get(code="invoice")
    fmt.prefix, fmt.reset, fmt.fiscal_year_start_month = "INV-{FY}-", "fiscal", 4
    fmt.save()
    for day in (D(2025, 4, 2), D(2025, 8, 1)):
        invoice(day)
    fmt.fiscal_year_start_month = 7  # August 2025 would start FY2025-07 at 0001
    assert "Invoice INV-2025-0001 is already issued" in refusal(fmt, "fiscal_year_start_month")


def test_a_harmless_change_is_allowed_and_keeps_issued_numbers():
    invoice(D(2026, 2, 1))
    fmt = NumberFormat.objects.get(code="invoice")
    fmt.prefix = "FAC-{YYYY}-"
    fmt.full_clean()
    fmt.save()
    assert invoice(D(2026, 2, 2)).invoice_number_display == "FAC-2026-0002"
    quote = NumberFormat.objects.create(code="quote", prefix="INV-")
    Quote.objects.create()
    quote.prefix = "FAC-"
    quote.full_clean()
    quote.save()
    assert Quote.objects.create().number_display == "FAC-0002"
    texts = set(Invoice.objects.values_list("invoice_number_display", flat=True))
    assert texts == {"INV-2026-0001", "FAC-2026-0002"}
    assert set(Quote.objects.values_list("number_display", flat=True)) == {"INV-0001", "FAC-0002"}


def test_per_customer_formats_are_checked_within_each_customer():
    acme, globex = Customer.objects.create(name="Acme"), Customer.objects.create(name="Globex")
    for _ in range(3):
        CustomerDocument.objects.create(customer=acme, issued_on=D(2026, 3, 1))
    CustomerDocument.objects.create(customer=globex, issued_on=D(2026, 3, 1))
    fmt = NumberFormat.objects.get(code="customer-doc")
    # Globex's next would read C-2026-002: Acme has that text, Globex does not.
    fmt.prefix, fmt.padding = "C-{YYYY}-0", 2
    fmt.full_clean()
    fmt.save()
    nxt = CustomerDocument.objects.create(customer=globex, issued_on=D(2026, 4, 1))
    assert nxt.number_display == "C-2026-002"
    # Without the yearly reset, each customer would start again at C-2026-001.
    fmt.reset = "never"
    message = refusal(fmt, "reset")
    assert message.startswith("Customer document C-2026-001 (Acme) is already issued;"), message


def test_issuing_a_text_that_exists_raises_a_docnumbers_error_naming_format_and_text():
    from docnumbers import DocnumbersError, NumberCollision

    invoice(D(2026, 1, 1))
    NumberFormat.objects.filter(code="invoice").update(reset="never")  # bypasses validation
    with pytest.raises(NumberCollision) as info, transaction.atomic():
        invoice(D(2026, 1, 2))
    assert isinstance(info.value, DocnumbersError)
    assert "INV-2026-0001" in str(info.value) and "'invoice'" in str(info.value)
    assert Invoice.objects.count() == 1


def test_only_the_first_number_of_a_new_counter_is_looked_up():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def invoice_queries(day):
        with CaptureQueriesContext(connection) as captured:
            invoice(day)
        table = Invoice._meta.db_table
        return [q["sql"].split()[0].upper() for q in captured if table in q["sql"]]

    assert invoice_queries(D(2026, 1, 1)) == ["SELECT", "INSERT"]
    assert invoice_queries(D(2026, 1, 2)) == ["INSERT"]


def test_a_document_without_a_series_keeps_none_on_every_path():
    """Empty means "the default series" (the admin's filter lists them so): a save, a
    second save and a batch store no series; the counter names the one that issued it."""
    standard = NumberFormat.objects.create(code="quote", prefix="Q-")
    quote = Quote.objects.create()
    quote.save()
    batch = Quote.objects.bulk_create([Quote(), Quote()])
    assert quote.series_id is None and {q.series_id for q in batch} == {None}
    assert list(Quote.objects.values_list("series", flat=True)) == [None, None, None]
    assert {q.number_counter.number_format for q in Quote.objects.all()} == {standard}
    assert [q.number_display for q in Quote.objects.order_by("pk")] == [
        "Q-0001",
        "Q-0002",
        "Q-0003",
    ]
