"""Issue #13 in a real browser at 1280x800: one page per series, columns that fit, and the
screenshots of docs/admin.md (DOCNUMBERS_DOCS_SCREENSHOTS=1 refreshes docs/img/)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from docnumbers.models import Counter, GapExplanation, NumberFormat
from tests.browser.conftest import SCREENSHOTS
from tests.testapp.models import Customer, CustomerDocument, Invoice

pytestmark = pytest.mark.browser

YEAR = timezone.localdate().year
WIDTH = 1280


def expect():
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def laptop(page):
    page.set_viewport_size({"width": WIDTH, "height": 800})
    return page


def assert_columns_fit(page, *columns):
    """Every named column header is inside the 1280 px viewport, with no horizontal scroll."""
    for column in columns:
        box = page.locator(f"#result_list th.column-{column}").bounding_box()
        assert box is not None, column
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (column, box)
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= WIDTH, scroll
    # The admin wraps the table in a box that scrolls on its own: it must not need to.
    widths = page.evaluate(
        "(() => { const e = document.querySelector('#changelist .results');"
        " return [e.scrollWidth, e.clientWidth]; })()"
    )
    assert widths[0] <= widths[1] + 1, widths  # 1 px: the table's border, rounded


def test_one_page_per_series_with_a_period_started_ahead(laptop, screenshot):
    page = laptop
    acme = Customer.objects.create(name="ACME Ltd")
    for _ in range(3):
        Invoice.objects.create(issued_on=dt.date(YEAR, 1, 5), customer=acme)
    series = NumberFormat.objects.get(code="invoice")
    page.goto(f"/admin/docnumbers/numberformat/{series.pk}/change/")
    rows = page.locator("#docnumbers-sequences tbody tr")
    expect()(rows).to_have_count(1)
    expect()(rows.first.locator(".docnumbers-next")).to_have_text(f"INV-{YEAR}-0004")

    page.click("a.docnumbers-start-period")
    page.fill("#id_day", f"{YEAR + 1}-01-01")
    page.fill("#id_next_value", "1000")
    page.fill("#id_reason", "The new ledger starts at 1000")
    page.click("input[name=_save]")
    expect()(page.locator(".messagelist")).to_contain_text(f"INV-{YEAR + 1}-1000")
    expect()(rows).to_have_count(2)
    expect()(rows.first.locator(".docnumbers-next")).to_have_text(f"INV-{YEAR + 1}-1000")
    expect()(rows.first).to_contain_text(str(YEAR + 1))
    counter = Counter.objects.get(period=str(YEAR + 1))
    assert counter.value == 999
    assert GapExplanation.objects.get(counter=counter).kind == "skipped"
    page.locator("#docnumbers-sequences").scroll_into_view_if_needed()
    screenshot("series-page", docs_name="series-page.png")


def test_key_columns_fit_at_1280(laptop, screenshot):
    page = laptop
    acme = Customer.objects.create(name="ACME Trading International Ltd")
    NumberFormat.objects.create(code="quote", name="Standard", prefix="Q-{YYYY}-", position=1)
    NumberFormat.objects.create(code="quote", name="Export", prefix="QX-{YYYY}-", position=2)
    for n in range(5):
        Invoice.objects.create(issued_on=dt.date(YEAR, 1, 5 + n), customer=acme)
        CustomerDocument.objects.create(customer=acme, issued_on=dt.date(YEAR, 2, 1))
    invoice = Invoice.objects.first()
    counter = invoice.invoice_number_counter
    from docnumbers import allocation

    allocation.move_counter(counter, 9, reason="Paper invoices 6-9, booked by hand", source="code")
    GapExplanation.objects.create(
        counter=counter, first=6, last=9, kind="skipped", reason="Paper invoices, booked by hand"
    )

    page.goto("/admin/docnumbers/numberformat/")
    screenshot("format-list", docs_name="format-list.png")
    assert_columns_fit(page, "series", "template", "active", "is_default", "next_number")
    expect()(page.locator(".docnumbers-series-help")).to_be_visible()

    page.goto("/admin/docnumbers/counter/")
    assert_columns_fit(page, "document", "part", "last_issued", "next_number")
    expect()(page.locator("#result_list")).to_contain_text("ACME Trading International Ltd")
    screenshot("counter-list", docs_name="counter-list.png")

    page.goto("/admin/docnumbers/counterchange/")
    screenshot("change-log")
    assert_columns_fit(page, "counter", "move", "reason")

    page.goto("/admin/docnumbers/gapexplanation/")
    screenshot("gap-list")
    assert_columns_fit(page, "counter", "numbers", "kind", "reason")

    page.goto("/admin/testapp/invoice/")
    assert_columns_fit(page, "invoice_number_formatted", "customer", "issued_on")
    # A number never wraps: one line high.
    cell = page.locator("#result_list .field-invoice_number_formatted span").first
    assert cell.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    screenshot("invoice-list")


def test_the_counter_page_and_the_explained_move(laptop, screenshot):
    page = laptop
    for _ in range(5):
        Invoice.objects.create(issued_on=dt.date(YEAR, 1, 5))
    counter = Counter.objects.get()
    page.goto(f"/admin/docnumbers/counter/{counter.pk}/set-next-value/")
    page.fill("#id_next_value", "abc")
    page.click("input[name=_save]")
    expect()(page.locator(".field-next_value .errorlist li")).to_have_text(
        ["Enter a whole number."]
    )
    page.fill("#id_next_value", "10")
    page.fill("#id_reason", "Numbers 6-9 were issued on paper")
    page.click("input[name=_save]")
    expect()(page.locator(".field-last_issued .readonly")).to_have_text(
        f"INV-{YEAR}-0005 (counter at 9, nothing stored above 5)"
    )
    screenshot("counter-page", docs_name="counter-page.png", full_page=True)
    page.goto("/admin/docnumbers/gapexplanation/")
    expect()(page.locator("#result_list")).to_contain_text("6–9")
    expect()(page.locator("#result_list")).to_contain_text("Skipped on purpose")


def test_a_french_admin_session(chromium, live_server, superuser):
    """The browser asks for French: labels, help and errors are French."""
    Invoice.objects.create(issued_on=dt.date(YEAR, 1, 5))
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": WIDTH, "height": 800}, locale="fr-FR"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", "boss")
        page.fill("#id_password", "pw")
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        expect()(page.locator("body")).to_contain_text("Numéros de documents")
        page.goto("/admin/docnumbers/numberformat/")
        expect()(page.locator(".docnumbers-series-help")).to_contain_text(
            "Les formats qui partagent un code"
        )
        expect()(page.locator("#result_list thead")).to_contain_text(
            re.compile("prochain numéro", re.I)
        )
        counter = Counter.objects.get()
        page.goto(f"/admin/docnumbers/counter/{counter.pk}/set-next-value/")
        expect()(page.locator("label[for=id_next_value]")).to_contain_text("Prochain numéro")
        page.fill("#id_next_value", "abc")
        page.click("input[name=_save]")
        expect()(page.locator(".field-next_value .errorlist li")).to_have_text(
            ["Saisissez un nombre entier."]
        )
        page.fill("#id_next_value", "9")
        page.click("input[name=_save]")
        expect()(page.locator(".field-reason .errorlist")).to_contain_text(
            "Cela saute les numéros 2 à 8"
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "test_a_french_admin_session-set-next.png"))
    finally:
        context.close()
