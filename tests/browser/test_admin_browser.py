"""The admin in a real browser: live preview, inline messages, drag-and-drop, counter moves."""

import datetime as dt

import pytest
from django.utils import timezone

from docnumbers.audit import audit
from docnumbers.models import Counter, CounterChange, NumberFormat
from tests.testapp.models import Invoice

pytestmark = pytest.mark.browser

YEAR = timezone.localdate().year


def expect():
    from playwright.sync_api import expect

    return expect


def test_typing_a_prefix_changes_the_preview(page, screenshot):
    Invoice.objects.create(issued_on=timezone.localdate())
    series = NumberFormat.objects.get(code="invoice")
    page.goto(f"/admin/docnumbers/numberformat/{series.pk}/change/")
    today = page.locator("#docnumbers-preview-today li")
    expect()(today).to_have_text([f"INV-{YEAR}-{n:04d}" for n in (2, 3, 4)])

    page.fill("#id_prefix", "BILL-{YYYY}/")
    expect()(today.first).to_have_text(f"BILL-{YEAR}/0002")
    page.fill("#id_padding", "6")
    expect()(today.first).to_have_text(f"BILL-{YEAR}/000002")

    page.fill("#docnumbers-preview-day", "2031-07-14")
    expect()(page.locator("#docnumbers-preview-day-numbers li")).to_have_text(
        ["BILL-2031/000001", "BILL-2031/000002", "BILL-2031/000003"]
    )
    page.locator("#docnumbers-preview").scroll_into_view_if_needed()
    screenshot("preview", docs_name="format-editor.png", full_page=True)
    # Nothing was saved while typing.
    assert NumberFormat.objects.get(pk=series.pk).prefix == "INV-{YYYY}-"


def test_an_invalid_template_shows_its_message_before_and_after_saving(page, screenshot):
    Invoice.objects.create(issued_on=timezone.localdate())
    series = NumberFormat.objects.get(code="invoice")
    page.goto(f"/admin/docnumbers/numberformat/{series.pk}/change/")
    expect()(page.locator("#docnumbers-preview-today li")).to_have_count(3)

    page.fill("#id_prefix", "INV-{yyyy}-")
    live = page.locator("#docnumbers-error-prefix")
    expect()(live).to_contain_text("Tokens are upper case: write '{YYYY}'")
    expect()(page.locator("#docnumbers-preview-today li")).to_have_count(0)
    screenshot("live-error")

    page.click("input[name=_save]")
    page.wait_for_load_state()
    expect()(page.locator(".errornote")).to_be_visible()
    expect()(page.locator(".field-prefix ul.errorlist").first).to_contain_text(
        "Unknown token '{yyyy}'"
    )
    screenshot("saved-error")
    assert NumberFormat.objects.get(pk=series.pk).prefix == "INV-{YYYY}-"

    page.fill("#id_prefix", "INV-{YYYY}-")
    expect()(page.locator(".field-prefix ul.errorlist:visible")).to_have_count(0)


def test_numbers_already_issued_are_marked_before_saving(page, screenshot):
    first = Invoice.objects.create(issued_on=timezone.localdate())
    series = NumberFormat.objects.get(code="invoice")
    page.goto(f"/admin/docnumbers/numberformat/{series.pk}/change/")
    today = page.locator("#docnumbers-preview-today li")
    expect()(today).to_have_text([f"INV-{YEAR}-{n:04d}" for n in (2, 3, 4)])
    expect()(page.locator("#docnumbers-preview-warning")).to_be_hidden()

    page.select_option("#id_reset", "never")
    expect()(page.locator("#docnumbers-preview-today li.docnumbers-issued")).to_have_count(1)
    expect()(today.first).to_contain_text(f"INV-{YEAR}-0001")
    expect()(today.first).to_contain_text(f"invoice {first.invoice_number_display}")
    expect()(page.locator("#docnumbers-preview-warning")).to_contain_text("already issued")
    expect()(page.locator("#docnumbers-error-reset")).to_contain_text(
        f"Invoice INV-{YEAR}-0001 is already issued"
    )
    page.locator("#docnumbers-preview").scroll_into_view_if_needed()
    screenshot("issued-marked")

    page.select_option("#id_reset", "yearly")
    expect()(page.locator("#docnumbers-preview-today li.docnumbers-issued")).to_have_count(0)
    expect()(page.locator("#docnumbers-preview-warning")).to_be_hidden()


def test_dragging_a_series_to_the_top_makes_it_the_default(page, screenshot):
    standard = NumberFormat.objects.create(code="quote", name="Standard", prefix="Q-", position=1)
    export = NumberFormat.objects.create(code="quote", name="Export", prefix="QX-", position=2)
    page.goto("/admin/docnumbers/numberformat/?code=quote")
    rows = page.locator("#result_list tbody tr")
    expect()(rows).to_have_count(2)
    default_icon = "td.field-is_default img"
    expect()(rows.nth(0).locator(default_icon)).to_have_attribute("alt", "True")
    expect()(rows.nth(1).locator(default_icon)).to_have_attribute("alt", "False")
    screenshot("before-drag")

    handle = rows.nth(1).locator(".drag.handle")
    target = rows.nth(0).locator(".drag.handle")
    expect()(handle).to_have_attribute("title", "Drag to change the order of the series")
    # After the drop the page reloads itself: the Default column is true without a reload.
    with page.expect_navigation():
        with page.expect_response(lambda r: "adminsortable2_update" in r.url) as answer:
            box, goal = handle.bounding_box(), target.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + 2, steps=12)
            page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + 1, steps=4)
            page.mouse.up()
        assert answer.value.ok

    expect()(rows.nth(0).locator(".field-series")).to_have_text("quote: Export")
    expect()(rows.nth(0).locator(default_icon)).to_have_attribute("alt", "True")
    expect()(rows.nth(1).locator(default_icon)).to_have_attribute("alt", "False")
    screenshot("after-drag")
    export.refresh_from_db()
    standard.refresh_from_db()
    assert export.position < standard.position

    page.goto("/admin/testapp/quote/add/")
    expect()(page.locator("#id_series option").first).to_contain_text("Default series (Export)")
    # The reorder is in the admin history, with the old and new default.
    page.goto(f"/admin/docnumbers/numberformat/{export.pk}/history/")
    expect()(page.locator("#change-history")).to_contain_text(
        "the default series is now quote: Export (was quote: Standard)"
    )


def test_setting_the_next_value(page, screenshot):
    Invoice.objects.create(issued_on=dt.date(YEAR, 1, 5))
    counter = Counter.objects.get()
    page.goto(f"/admin/docnumbers/counter/{counter.pk}/change/")
    page.click("a.docnumbers-set-next-value")
    expect()(page.locator("#id_next_value")).to_have_value("2")

    page.fill("#id_next_value", "1")
    page.click("input[name=_save]")
    expect()(page.locator(".field-next_value .errorlist")).to_contain_text("at least 2")

    page.fill("#id_next_value", "50")
    page.click("input[name=_save]")
    expect()(page.locator(".field-reason .errorlist")).to_contain_text("skips the numbers 2 to 49")
    screenshot("reason-asked")

    page.fill("#id_reason", "Numbers 2-49 were issued on paper")
    page.click("input[name=_save]")
    expect()(page.locator(".messagelist")).to_contain_text(f"gets INV-{YEAR}-0050")
    expect()(page.locator(".field-last_issued .readonly")).to_have_text(
        f"INV-{YEAR}-0001 (counter at 49, nothing stored above 1)"
    )
    expect()(page.locator("body")).to_contain_text("Numbers 2-49 were issued on paper")
    screenshot("moved")
    change = CounterChange.objects.get()
    assert (change.old_value, change.new_value, change.changed_by.username) == (1, 49, "boss")
    # The skipped numbers are an explained gap: the audit lists them as explained.
    (report,) = [r for r in audit() if r.key == counter.key]
    assert report.gaps == [] and [(g.first, g.last) for g in report.explained] == [(2, 49)]

    page.click("a.historylink")
    expect()(page.locator("#change-history")).to_contain_text("from 2 to 50")


def test_drafts_are_posted_with_the_action_in_date_order(page, screenshot):
    from tests.testapp.models import DraftInvoice

    later = DraftInvoice.objects.create(issued_on=dt.date(2026, 3, 20))
    earlier = DraftInvoice.objects.create(issued_on=dt.date(2026, 3, 2))
    page.goto("/admin/testapp/draftinvoice/")
    page.check(f"input[name=_selected_action][value='{later.pk}']")
    page.check(f"input[name=_selected_action][value='{earlier.pk}']")
    page.select_option("select[name=action]", "post_drafts")
    page.click("button[name=index]")
    page.wait_for_load_state()
    expect()(page.locator("ul.messagelist")).to_contain_text("2 drafts posted and numbered.")
    screenshot("posted")
    got = dict(DraftInvoice.objects.values_list("pk", "number_display"))
    assert got == {earlier.pk: "D-2026-0001", later.pk: "D-2026-0002"}


def test_renumber_from_the_change_form_shows_the_new_number_before_confirming(page, screenshot):
    from docnumbers.models import GapExplanation
    from tests.testapp.models import DraftInvoice

    doc = DraftInvoice.objects.create(issued_on=dt.date(2026, 3, 2), status="posted")
    page.goto(f"/admin/testapp/draftinvoice/{doc.pk}/change/")
    page.click("a.docnumbers-renumber")
    expect()(page.locator("#docnumbers-old-number")).to_have_text("D-2026-0001")
    page.fill("#id_issued_on", "2027-01-04")
    page.fill("#id_reason", "Dated in the wrong year")
    page.click("input[name=_preview]")
    expect()(page.locator("#docnumbers-new-number")).to_have_text("D-2027-0001")
    screenshot("preview")
    assert DraftInvoice.objects.get(pk=doc.pk).number_display == "D-2026-0001"
    page.click("input[name=_confirm]")
    page.wait_for_load_state()
    expect()(page.locator("ul.messagelist")).to_contain_text("D-2026-0001 became D-2027-0001")
    assert DraftInvoice.objects.get(pk=doc.pk).number_display == "D-2027-0001"
    assert GapExplanation.objects.get().kind == "renumbered"
