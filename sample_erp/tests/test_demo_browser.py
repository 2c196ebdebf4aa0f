"""Issue #22 in a real browser at 1280x800: every list page of the demo, public and admin,
fits without horizontal scrolling, and no number or date wraps (English, French, German and
Spanish: German's long words are the widest)."""

import re

import pytest
from django.core.management import call_command

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

WIDTH = 1280

#: Every list page of the demo; the public list first.
LIST_PAGES = [
    "/",
    "/admin/invoicing/invoice/",
    "/admin/invoicing/creditnote/",
    "/admin/invoicing/order/",
    "/admin/invoicing/customer/",
    "/admin/docnumbers/numberformat/",
    "/admin/docnumbers/numberformat/?code=invoice",
    "/admin/docnumbers/counter/",
    "/admin/docnumbers/counter/?number_format=none",
    "/admin/docnumbers/counterchange/",
    "/admin/docnumbers/gapexplanation/",
]

#: The cells that hold a number or a date, on the public list and in the admin lists.
NUMBER_CELLS = (
    ".docnumber, td.date, td.num, #result_list .docnumbers-number,"
    " #result_list td[class*='_date'], #result_list td.field-number_display"
)


def wrapped_cells(page) -> list[str]:
    """The texts of number and date cells that take more than one line."""
    return page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector)).filter((cell) => {
            const text = cell.textContent.trim();
            if (!text) return false;
            const style = getComputedStyle(cell);
            const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.4;
            const range = document.createRange();
            range.selectNodeContents(cell);
            const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
            const tops = new Set(rects.map((r) => Math.round(r.top / (line / 2))));
            return tops.size > 1;
        }).map((cell) => cell.textContent.trim())""",
        NUMBER_CELLS,
    )


@pytest.mark.parametrize("locale", ["en-US", "fr-FR", "de-DE", "es-ES"])
def test_every_list_page_fits_1280_without_wrapped_numbers(
    chromium, live_server, transactional_db, django_user_model, locale
):
    call_command("load_demo_data", verbosity=0)
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": WIDTH, "height": 800}, locale=locale
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", "boss")
        page.fill("#id_password", "pw")
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for url in LIST_PAGES:
            page.goto(url)
            name = re.sub(r"\W+", "-", url).strip("-") or "public"
            page.screenshot(path=str(SCREENSHOTS / f"demo-{locale}-{name}.png"))
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= WIDTH, (url, scroll)
            box = page.evaluate(
                "(() => { const e = document.querySelector('#changelist .results');"
                " return e ? [e.scrollWidth, e.clientWidth] : null; })()"
            )
            assert box is None or box[0] <= box[1] + 1, (url, box)
            assert wrapped_cells(page) == [], url
        # One invoice, and a counter's page, in full.
        from docnumbers.models import Counter
        from sample_erp.invoicing.models import Invoice

        invoice = Invoice.objects.filter(credit_notes__isnull=False).first()
        counter = Counter.objects.filter(sequence="invoicing.invoice.number").first()
        for url in (
            invoice.get_absolute_url(),
            f"/admin/invoicing/invoice/{invoice.pk}/change/",
            f"/admin/docnumbers/counter/{counter.pk}/change/",
        ):
            page.goto(url)
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, url
            assert wrapped_cells(page) == [], url
        # The public list's search box shows its whole hint.
        page.goto("/")
        widths = page.evaluate(
            """(() => { const e = document.querySelector('input[type=search]');
              const style = getComputedStyle(e);
              const context = document.createElement('canvas').getContext('2d');
              context.font = style.font;
              const room = e.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
              return [context.measureText(e.placeholder).width, room]; })()"""
        )
        assert widths[0] <= widths[1], widths
        if locale == "fr-FR":
            assert "Numéros de documents" in page.goto("/admin/").text()
    finally:
        context.close()
