"""The admin through Django's test client: every view, permission and refusal."""

import datetime as dt
import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from docnumbers import next_value
from docnumbers.models import Counter, CounterChange, NumberFormat
from tests.testapp.models import Customer, Invoice, Quote, SimpleModel, Ticket

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = TODAY.year


def make_staff(django_user_model, username, *perms):
    user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.fixture
def staff_client(client, django_user_model):
    """Staff with no docnumbers permission at all."""
    client.force_login(make_staff(django_user_model, "plain"))
    return client


@pytest.fixture
def viewer_client(client, django_user_model):
    """May see counters and formats, may not move counters."""
    user = make_staff(
        django_user_model, "viewer", "docnumbers.view_counter", "docnumbers.view_numberformat"
    )
    client.force_login(user)
    return client


@pytest.fixture
def mover(django_user_model):
    return make_staff(
        django_user_model, "mover", "docnumbers.view_counter", "docnumbers.set_next_value"
    )


@pytest.fixture
def mover_client(client, mover):
    client.force_login(mover)
    return client


def invoice(day=TODAY, **kwargs):
    return Invoice.objects.create(issued_on=day, **kwargs)


@pytest.fixture
def quote_series():
    standard = NumberFormat.objects.create(code="quote", name="Standard", prefix="Q-", position=1)
    export = NumberFormat.objects.create(code="quote", name="Export", prefix="QX-", position=2)
    retired = NumberFormat.objects.create(
        code="quote", name="Old", prefix="QO-", position=3, active=False
    )
    return standard, export, retired


def preview_url():
    return reverse("admin:docnumbers_numberformat_preview")


def format_data(**overrides):
    data = {
        "code": "invoice",
        "name": "",
        "prefix": "INV-{YYYY}-",
        "suffix": "",
        "padding": "4",
        "reset": "yearly",
        "fiscal_year_start_month": "1",
        "active": "on",
    }
    data.update(overrides)
    return data


# -- NumberFormat list -------------------------------------------------------------------


def test_format_list_shows_settings_default_and_next_number(admin_client, quote_series):
    invoice()
    invoice()
    response = admin_client.get(reverse("admin:docnumbers_numberformat_changelist"))
    assert response.status_code == 200
    text = response.content.decode()
    for column in ("column-series", "column-template"):
        assert column in text
    assert "column-active" in text and "column-is_default" in text
    assert f"INV-{YEAR}-0003" in text  # the next invoice, after two issued
    assert "Q-0001" in text
    rows = response.context["cl"].result_list
    defaults = {fmt.name: admin_client_default(fmt) for fmt in rows if fmt.code == "quote"}
    assert defaults == {"Standard": True, "Export": False, "Old": False}
    # django-admin-sortable2 drives the list: a drag handle per row.
    assert 'class="drag handle"' in text


def admin_client_default(fmt):
    from django.contrib import admin

    return admin.site._registry[NumberFormat].is_default(fmt)


def test_dragging_a_series_first_makes_it_the_default(admin_client, quote_series):
    standard, export, _ = quote_series
    url = reverse("admin:docnumbers_numberformat_sortable_update")
    response = admin_client.post(
        url,
        json.dumps({"updatedItems": [[export.pk, 1], [standard.pk, 2]]}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert Quote.objects.create().number_display == "QX-0001"


def test_sorting_needs_the_change_permission(viewer_client, quote_series):
    standard, export, _ = quote_series
    response = viewer_client.post(
        reverse("admin:docnumbers_numberformat_sortable_update"),
        json.dumps({"updatedItems": [[export.pk, 1], [standard.pk, 2]]}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert NumberFormat.objects.get(pk=export.pk).position == 2


# -- NumberFormat editor and live preview -------------------------------------------------


def test_change_form_carries_the_preview(admin_client):
    fmt = invoice().invoice_number_counter.number_format
    response = admin_client.get(reverse("admin:docnumbers_numberformat_change", args=[fmt.pk]))
    text = response.content.decode()
    assert 'id="docnumbers-preview-config"' in text
    assert "docnumbers/format_preview.js" in text
    assert "{YYYY}" in text  # the token table
    config = response.context["preview_config"]
    assert config["url"] == preview_url()
    assert config["object_id"] == fmt.pk


def test_add_form_carries_the_preview(admin_client):
    response = admin_client.get(reverse("admin:docnumbers_numberformat_add"))
    assert response.status_code == 200
    assert response.context["preview_config"]["object_id"] is None


def test_preview_renders_the_next_three_numbers_today_and_on_a_day(admin_client):
    invoice()
    fmt = NumberFormat.objects.get(code="invoice")
    response = admin_client.get(
        preview_url(),
        format_data(prefix="F-{YYYY}/", object_id=fmt.pk, day="2031-05-06"),
    )
    data = response.json()
    assert data["valid"], data
    # Today continues the counter of this year; 2031 has no counter yet.
    assert data["preview"]["today"]["numbers"] == [f"F-{YEAR}/{n:04d}" for n in (2, 3, 4)]
    assert data["preview"]["day"] == {
        "date": "2031-05-06",
        "period": "2031",
        "numbers": ["F-2031/0001", "F-2031/0002", "F-2031/0003"],
    }


def test_preview_of_a_new_format_starts_at_the_first_value(admin_client):
    response = admin_client.get(
        preview_url(),
        format_data(code="ticket", prefix="T{YYYY}{MM}{DD}-", reset="daily", day="2026-02-03"),
    )
    data = response.json()
    assert data["preview"]["day"]["numbers"] == [
        "T20260203-0001",
        "T20260203-0002",
        "T20260203-0003",
    ]


def test_preview_shows_the_validation_message_of_an_invalid_template(admin_client):
    response = admin_client.get(preview_url(), format_data(prefix="INV-{yyyy}-", day="2026-01-01"))
    data = response.json()
    assert not data["valid"]
    assert "write '{YYYY}'" in data["errors"]["prefix"][0]
    assert data["preview"] == {}


def test_preview_names_a_missing_period_token(admin_client):
    response = admin_client.get(preview_url(), format_data(prefix="INV-", day="2026-01-01"))
    assert "{YYYY} or {YY}" in response.json()["errors"]["prefix"][0]


def test_preview_reports_a_bad_day(admin_client):
    response = admin_client.get(preview_url(), format_data(day="not-a-day"))
    data = response.json()
    assert "day" in data["errors"]
    assert "today" in data["preview"] and "day" not in data["preview"]


def test_preview_reports_an_unused_code(admin_client):
    response = admin_client.get(preview_url(), format_data(code="nothing", day="2026-01-01"))
    message = response.json()["errors"]["code"][0]
    assert "No document type uses the code nothing" in message
    assert "invoice" in message and "a developer" in message


def test_preview_needs_add_or_change_permission(staff_client, django_user_model):
    assert staff_client.get(preview_url(), format_data()).status_code == 403
    staff_client.force_login(
        make_staff(django_user_model, "looker", "docnumbers.view_numberformat")
    )
    assert staff_client.get(preview_url(), format_data()).status_code == 403


def test_preview_of_an_existing_format_needs_change_permission(django_user_model, client):
    fmt = invoice().invoice_number_counter.number_format
    client.force_login(make_staff(django_user_model, "adder", "docnumbers.add_numberformat"))
    assert client.get(preview_url(), format_data(day="2026-01-01")).status_code == 200
    response = client.get(preview_url(), format_data(object_id=fmt.pk))
    assert response.status_code == 403


def test_preview_needs_a_login(client):
    response = client.get(preview_url(), format_data())
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_saving_an_invalid_template_shows_the_message(admin_client):
    fmt = invoice().invoice_number_counter.number_format
    url = reverse("admin:docnumbers_numberformat_change", args=[fmt.pk])
    response = admin_client.post(url, format_data(prefix="INV-{YYYY-"))
    assert response.status_code == 200
    assert "Unbalanced &#x27;{&#x27; at position 5" in response.content.decode()
    assert NumberFormat.objects.get(pk=fmt.pk).prefix == "INV-{YYYY}-"


def test_saving_a_valid_format_keeps_issued_numbers(admin_client):
    first = invoice()
    fmt = first.invoice_number_counter.number_format
    url = reverse("admin:docnumbers_numberformat_change", args=[fmt.pk])
    response = admin_client.post(url, format_data(prefix="R-{YYYY}-"))
    assert response.status_code == 302
    assert Invoice.objects.get(pk=first.pk).invoice_number_display == f"INV-{YEAR}-0001"
    assert invoice().invoice_number_display == f"R-{YEAR}-0002"


def test_saving_a_reset_that_would_reissue_numbers_is_refused(admin_client):
    first = invoice()
    fmt = first.invoice_number_counter.number_format
    url = reverse("admin:docnumbers_numberformat_change", args=[fmt.pk])
    response = admin_client.post(url, format_data(reset="never"))
    assert response.status_code == 200
    assert first.invoice_number_display == f"INV-{YEAR}-0001"
    assert f"Invoice INV-{YEAR}-0001 is already issued" in response.content.decode()
    assert "reset" in response.context["adminform"].form.errors
    assert NumberFormat.objects.get(pk=fmt.pk).reset == "yearly"
    assert invoice().invoice_number_display == f"INV-{YEAR}-0002"


def test_preview_marks_numbers_already_issued(admin_client):
    issued = [invoice(), invoice()]
    fmt = issued[0].invoice_number_counter.number_format
    response = admin_client.get(
        preview_url(), format_data(reset="never", object_id=fmt.pk, day=f"{YEAR}-12-31")
    )
    data = response.json()
    assert data["preview"]["today"]["numbers"] == [f"INV-{YEAR}-{n:04d}" for n in (1, 2, 3)]
    assert data["issued"] == {
        f"INV-{YEAR}-0001": f"invoice INV-{YEAR}-0001",
        f"INV-{YEAR}-0002": f"invoice INV-{YEAR}-0002",
    }
    assert "already issued" in data["warning"]
    assert not data["valid"]
    assert f"Invoice INV-{YEAR}-0001 is already issued" in data["errors"]["reset"][0]


def test_preview_of_a_harmless_change_marks_nothing(admin_client):
    fmt = invoice().invoice_number_counter.number_format
    response = admin_client.get(
        preview_url(), format_data(prefix="FAC-{YYYY}-", object_id=fmt.pk, day="2030-01-01")
    )
    data = response.json()
    assert data["valid"], data
    assert data["issued"] == {} and data["warning"] == ""


def test_change_form_has_a_place_for_the_issued_warning(admin_client):
    fmt = invoice().invoice_number_counter.number_format
    response = admin_client.get(reverse("admin:docnumbers_numberformat_change", args=[fmt.pk]))
    assert 'id="docnumbers-preview-warning"' in response.content.decode()


def test_a_series_with_counters_keeps_its_code(admin_client):
    fmt = invoice().invoice_number_counter.number_format
    url = reverse("admin:docnumbers_numberformat_change", args=[fmt.pk])
    response = admin_client.get(url)
    assert "code" not in response.context["adminform"].form.fields
    admin_client.post(url, format_data(code="quote"))
    assert NumberFormat.objects.get(pk=fmt.pk).code == "invoice"


def test_adding_a_series(admin_client, quote_series):
    response = admin_client.post(
        reverse("admin:docnumbers_numberformat_add"),
        format_data(code="quote", name="Pro-forma", prefix="PRO-", reset="never"),
    )
    assert response.status_code == 302
    added = NumberFormat.objects.get(prefix="PRO-")
    assert added.position > max(f.position for f in quote_series)


def test_a_series_must_not_read_like_another(admin_client, quote_series):
    response = admin_client.post(
        reverse("admin:docnumbers_numberformat_add"),
        format_data(code="quote", prefix="Q-", reset="never"),
    )
    assert response.status_code == 200
    assert "Another series of quote already uses this prefix" in response.content.decode()


# -- Permissions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("admin:docnumbers_numberformat_changelist", []),
        ("admin:docnumbers_numberformat_add", []),
        ("admin:docnumbers_counter_changelist", []),
        ("admin:docnumbers_counterchange_changelist", []),
    ],
)
def test_staff_without_permissions_sees_nothing(staff_client, name, args):
    assert staff_client.get(reverse(name, args=args)).status_code == 403


def test_staff_without_permissions_cannot_open_a_format_or_counter(staff_client):
    counter = invoice().invoice_number_counter
    urls = [
        reverse("admin:docnumbers_numberformat_change", args=[counter.number_format_id]),
        reverse("admin:docnumbers_counter_change", args=[counter.pk]),
        reverse("admin:docnumbers_counter_set_next_value", args=[counter.pk]),
    ]
    for url in urls:
        assert staff_client.get(url).status_code == 403, url
    response = staff_client.post(urls[0], format_data(prefix="X-{YYYY}-"))
    assert response.status_code == 403
    assert NumberFormat.objects.get(pk=counter.number_format_id).prefix == "INV-{YYYY}-"


def test_the_app_is_hidden_from_staff_without_permissions(staff_client):
    response = staff_client.get(reverse("admin:index"))
    assert "docnumbers" not in [app["app_label"] for app in response.context["app_list"]]


def test_viewer_cannot_change_a_format(viewer_client):
    fmt = invoice().invoice_number_counter.number_format
    url = reverse("admin:docnumbers_numberformat_change", args=[fmt.pk])
    assert viewer_client.get(url).status_code == 200
    assert viewer_client.post(url, format_data(prefix="X-{YYYY}-")).status_code == 403


# -- Counters ------------------------------------------------------------------------------


def test_counter_list_shows_format_scope_period_and_values(admin_client):
    customer = Customer.objects.create(name="ACME")
    invoice(day=dt.date(2025, 3, 1))
    invoice(day=dt.date(2025, 3, 2))
    from tests.testapp.models import CustomerDocument

    CustomerDocument.objects.create(customer=customer, issued_on=dt.date(2025, 1, 1))
    response = admin_client.get(reverse("admin:docnumbers_counter_changelist"))
    text = response.content.decode()
    assert response.status_code == 200
    # Human labels: the document, the related object's str(), the period; no raw key.
    assert "Invoice: invoice number" in text
    assert "ACME" in text and f"customer={customer.pk}" not in text
    assert "testapp.invoice.invoice_number#" not in text
    assert "INV-{YYYY}-#### · 2025" in text
    assert "INV-2025-0002" in text  # the last issued, in its own period
    assert "INV-2025-0003" in text  # the next, rendered in its own period, not today's


def test_counter_form_is_read_only(admin_client):
    counter = invoice().invoice_number_counter
    url = reverse("admin:docnumbers_counter_change", args=[counter.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert not response.context["adminform"].form.fields
    assert 'name="value"' not in response.content.decode()
    # The superuser gets the audited way instead.
    assert reverse("admin:docnumbers_counter_set_next_value", args=[counter.pk]) in (
        response.content.decode()
    )


def test_nobody_changes_a_counter_through_its_form(admin_client):
    counter = invoice().invoice_number_counter
    url = reverse("admin:docnumbers_counter_change", args=[counter.pk])
    response = admin_client.post(url, {"value": "100", "key": counter.key})
    assert response.status_code == 403
    assert Counter.objects.get(pk=counter.pk).value == 1


def test_nobody_adds_or_deletes_counters(admin_client):
    counter = invoice().invoice_number_counter
    assert admin_client.get(reverse("admin:docnumbers_counter_add")).status_code == 403
    delete = reverse("admin:docnumbers_counter_delete", args=[counter.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Counter.objects.filter(pk=counter.pk).exists()


def test_counter_history_is_visible(admin_client):
    counter = invoice().invoice_number_counter
    url = reverse("admin:docnumbers_counter_history", args=[counter.pk])
    assert admin_client.get(url).status_code == 200


# -- Set next value --------------------------------------------------------------------------


def set_next_url(counter):
    return reverse("admin:docnumbers_counter_set_next_value", args=[counter.pk])


def test_set_next_value_form(mover_client):
    counter = invoice().invoice_number_counter
    response = mover_client.get(set_next_url(counter))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == {"next_value": 2, "seen_value": 1}
    assert response.context["highest_issued"] == 1
    assert response.context["lowest_allowed"] == 2


def test_set_next_value_needs_its_own_permission(viewer_client):
    counter = invoice().invoice_number_counter
    assert viewer_client.get(set_next_url(counter)).status_code == 403
    response = viewer_client.post(
        set_next_url(counter), {"next_value": 10, "reason": "x", "seen_value": 1}
    )
    assert response.status_code == 403
    assert Counter.objects.get(pk=counter.pk).value == 1
    change = viewer_client.get(reverse("admin:docnumbers_counter_change", args=[counter.pk]))
    assert set_next_url(counter) not in change.content.decode()


def test_set_next_value_permission_alone_is_not_enough(client, django_user_model):
    counter = invoice().invoice_number_counter
    client.force_login(make_staff(django_user_model, "blind", "docnumbers.set_next_value"))
    assert client.get(set_next_url(counter)).status_code == 403


def test_skipping_numbers_needs_a_reason(mover_client):
    counter = invoice().invoice_number_counter
    response = mover_client.post(set_next_url(counter), {"next_value": 10, "seen_value": 1})
    assert response.status_code == 200
    assert "This skips the numbers 2 to 9" in response.content.decode()
    assert Counter.objects.get(pk=counter.pk).value == 1
    assert not CounterChange.objects.exists()


def test_set_next_value_is_recorded(mover_client, mover):
    counter = invoice().invoice_number_counter
    response = mover_client.post(
        set_next_url(counter),
        {"next_value": 10, "reason": "Paper invoices 2-9 written by hand", "seen_value": 1},
    )
    assert response.status_code == 302
    assert Counter.objects.get(pk=counter.pk).value == 9
    change = CounterChange.objects.get()
    assert (change.counter_id, change.changed_by, change.old_value, change.new_value) == (
        counter.pk,
        mover,
        1,
        9,
    )
    assert change.reason == "Paper invoices 2-9 written by hand"
    assert (change.source, change.changed_by_name) == ("admin", "mover")
    entry = LogEntry.objects.get(object_id=str(counter.pk))
    assert entry.action_flag == CHANGE and entry.user == mover
    assert "from 2 to 10" in entry.get_change_message()
    assert "Paper invoices 2-9" in entry.get_change_message()
    assert invoice().invoice_number_display == f"INV-{YEAR}-0010"


def test_recorded_change_shows_in_the_admin_history(admin_client):
    counter = invoice().invoice_number_counter
    admin_client.post(set_next_url(counter), {"next_value": 5, "reason": "why", "seen_value": 1})
    history = admin_client.get(reverse("admin:docnumbers_counter_history", args=[counter.pk]))
    assert "Reason: why" in history.content.decode()
    change = admin_client.get(reverse("admin:docnumbers_counter_change", args=[counter.pk]))
    assert "why" in change.content.decode()  # the inline of CounterChanges


def test_a_value_that_issues_an_existing_number_again_is_refused(mover_client):
    invoice()
    invoice()
    counter = invoice().invoice_number_counter
    response = mover_client.post(
        set_next_url(counter), {"next_value": 3, "reason": "oops", "seen_value": 3}
    )
    assert response.status_code == 200
    assert "the next value must be at least 4" in response.content.decode()
    assert Counter.objects.get(pk=counter.pk).value == 3
    assert not CounterChange.objects.exists() and not LogEntry.objects.exists()


def test_moving_back_over_deleted_numbers_needs_a_reason(mover_client):
    invoice()
    last = invoice()
    counter = last.invoice_number_counter
    last.delete()
    response = mover_client.post(set_next_url(counter), {"next_value": 2, "seen_value": 2})
    assert "gives out 2 to 2" in response.content.decode()
    response = mover_client.post(
        set_next_url(counter), {"next_value": 2, "reason": "draft deleted", "seen_value": 2}
    )
    assert response.status_code == 302
    assert Counter.objects.get(pk=counter.pk).value == 1


def test_unchanged_value_is_refused(mover_client):
    counter = invoice().invoice_number_counter
    response = mover_client.post(
        set_next_url(counter), {"next_value": 2, "reason": "x", "seen_value": 1}
    )
    assert "already the next value" in response.content.decode()


def test_a_counter_that_moved_meanwhile_is_noticed(mover_client):
    counter = invoice().invoice_number_counter
    invoice()  # someone issued a number after the page was shown
    response = mover_client.post(
        set_next_url(counter), {"next_value": 10, "reason": "x", "seen_value": 1}
    )
    assert "moved from 1 to 2" in response.content.decode()
    assert Counter.objects.get(pk=counter.pk).value == 2


def test_function_api_counters_never_move_back(mover_client):
    next_value("shipments")
    next_value("shipments")
    counter = Counter.objects.get(key="shipments")
    response = mover_client.post(
        set_next_url(counter), {"next_value": 1, "reason": "x", "seen_value": 2}
    )
    assert "at least 3" in response.content.decode()
    response = mover_client.post(
        set_next_url(counter), {"next_value": 100, "reason": "new year", "seen_value": 2}
    )
    assert response.status_code == 302
    assert next_value("shipments") == 100


def test_below_the_first_value_is_refused(mover_client):
    last = invoice()
    counter = last.invoice_number_counter
    last.delete()
    response = mover_client.post(
        set_next_url(counter), {"next_value": 0, "reason": "x", "seen_value": 1}
    )
    assert "at least 1" in response.content.decode()


@pytest.mark.parametrize("value", [2**63, 2**63 + 1, 10**30, -(2**63), -(2**63) - 1, -(10**30)])
def test_a_next_value_outside_64_bits_is_a_form_error(mover_client, value):
    # The counter stores the next value minus one in a 64-bit column, and must
    # still be able to issue the next value: 2**63 would store, then never issue.
    counter = invoice().invoice_number_counter
    response = mover_client.post(
        set_next_url(counter), {"next_value": value, "reason": "x", "seen_value": 1}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    message = "Enter a whole number between -9223372036854775807 and 9223372036854775807."
    assert errors["next_value"] == [message]
    assert message in response.content.decode()
    assert Counter.objects.get(pk=counter.pk).value == 1
    assert not CounterChange.objects.exists() and not LogEntry.objects.exists()


def test_the_highest_64_bit_next_value_is_accepted_and_issued(mover_client):
    counter = invoice().invoice_number_counter
    response = mover_client.post(
        set_next_url(counter), {"next_value": 2**63 - 1, "reason": "x", "seen_value": 1}
    )
    assert response.status_code == 302
    assert Counter.objects.get(pk=counter.pk).value == 2**63 - 2
    assert invoice().invoice_number == 2**63 - 1


def test_set_next_value_action_redirects_to_the_form(mover_client):
    counter = invoice().invoice_number_counter
    response = mover_client.post(
        reverse("admin:docnumbers_counter_changelist"),
        {"action": "set_next_value_action", "_selected_action": [counter.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == set_next_url(counter)


def test_set_next_value_action_wants_one_counter(mover_client):
    first = invoice(day=dt.date(2025, 1, 1)).invoice_number_counter
    second = invoice(day=dt.date(2026, 1, 1)).invoice_number_counter
    response = mover_client.post(
        reverse("admin:docnumbers_counter_changelist"),
        {"action": "set_next_value_action", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    assert "Select exactly one counter" in response.content.decode()


def test_set_next_value_action_is_offered_only_with_the_permission(viewer_client):
    invoice()
    url = reverse("admin:docnumbers_counter_changelist")
    assert "set_next_value_action" not in viewer_client.get(url).content.decode()
    viewer = User.objects.get(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="set_next_value"))
    assert "set_next_value_action" in viewer_client.get(url).content.decode()


def test_counter_changes_are_read_only(admin_client):
    counter = invoice().invoice_number_counter
    admin_client.post(set_next_url(counter), {"next_value": 5, "reason": "why", "seen_value": 1})
    change = CounterChange.objects.get()
    assert admin_client.get(reverse("admin:docnumbers_counterchange_changelist")).status_code == 200
    url = reverse("admin:docnumbers_counterchange_change", args=[change.pk])
    assert admin_client.post(url, {"reason": "other"}).status_code == 403
    delete = reverse("admin:docnumbers_counterchange_delete", args=[change.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert CounterChange.objects.get().reason == "why"


# -- The user's models: DocumentNumberAdminMixin ---------------------------------------------


def test_number_column_shows_the_text_and_sorts_by_the_integer(admin_client):
    NumberFormat.objects.filter(code="invoice").update(padding=1)
    for _ in range(10):
        invoice()
    url = reverse("admin:testapp_invoice_changelist")
    response = admin_client.get(url, {"o": "1"})
    texts = [row.invoice_number_display for row in response.context["cl"].result_list]
    assert texts == [f"INV-{YEAR}-{n}" for n in range(1, 11)]
    text = response.content.decode()
    assert f"INV-{YEAR}-10" in text
    response = admin_client.get(url, {"o": "-1"})
    assert response.context["cl"].result_list[0].invoice_number == 10
    ordering = response.context["cl"].get_ordering(response.wsgi_request, Invoice.objects.all())
    assert ordering[0].descending  # (period, number), newest first


def test_number_is_searchable_by_its_text(admin_client):
    invoice()
    wanted = invoice()
    url = reverse("admin:testapp_invoice_changelist")
    response = admin_client.get(url, {"q": f"INV-{YEAR}-0002"})
    assert [row.pk for row in response.context["cl"].result_list] == [wanted.pk]


def test_number_is_read_only_on_the_change_form(admin_client):
    saved = invoice()
    url = reverse("admin:testapp_invoice_change", args=[saved.pk])
    response = admin_client.get(url)
    form = response.context["adminform"].form
    assert not {"invoice_number", "invoice_number_display", "invoice_number_counter"} & set(
        form.fields
    )
    text = response.content.decode()
    assert f'<span class="docnumbers-number">INV-{YEAR}-0001</span>' in text
    # The readonly number is the first thing on the form.
    first_line = next(iter(next(iter(response.context["adminform"]))))
    assert first_line.fields == ["invoice_number_formatted"]


def test_number_cannot_be_changed_by_posting_it(admin_client):
    saved = invoice()
    url = reverse("admin:testapp_invoice_change", args=[saved.pk])
    response = admin_client.post(
        url,
        {
            "issued_on": TODAY.isoformat(),
            "customer": "",
            "invoice_number": "99",
            "invoice_number_display": "FAKE-1",
        },
    )
    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.invoice_number, saved.invoice_number_display) == (1, f"INV-{YEAR}-0001")


def test_add_form_says_when_the_number_comes(admin_client):
    response = admin_client.get(reverse("admin:testapp_invoice_add"))
    assert "Assigned when saved" in response.content.decode()
    response = admin_client.post(
        reverse("admin:testapp_invoice_add"), {"issued_on": "2026-04-01", "customer": ""}
    )
    assert response.status_code == 302
    assert Invoice.objects.get().invoice_number_display == "INV-2026-0001"


def test_fieldsets_name_the_number_field(admin_client):
    ticket = Ticket.objects.create(title="printer")
    response = admin_client.get(reverse("admin:testapp_ticket_change", args=[ticket.pk]))
    assert response.status_code == 200
    assert ticket.number_display in response.content.decode()


def test_default_list_display_puts_the_number_first(admin_client):
    SimpleModel.objects.create(name="a")
    response = admin_client.get(reverse("admin:testapp_simplemodel_changelist"))
    assert response.context["cl"].list_display[:2] == ["action_checkbox", "number_formatted"]
    assert response.context["cl"].result_list[0].number == 1


def test_series_field_offers_the_active_series_in_order(admin_client, quote_series):
    standard, export, retired = quote_series
    NumberFormat.objects.filter(pk=export.pk).update(position=0)
    response = admin_client.get(reverse("admin:testapp_quote_add"))
    field = response.context["adminform"].form.fields["series"]
    assert list(field.queryset) == [export, standard]
    assert retired not in field.queryset
    assert "Default series (Export)" in field.empty_label


def test_a_document_picks_its_series(admin_client, quote_series):
    standard, export, _ = quote_series
    response = admin_client.post(reverse("admin:testapp_quote_add"), {"series": export.pk})
    assert response.status_code == 302
    assert Quote.objects.get().number_display == "QX-0001"
    admin_client.post(reverse("admin:testapp_quote_add"), {"series": ""})
    assert Quote.objects.latest("pk").number_display == "Q-0001"


def test_an_inactive_series_is_refused(admin_client, quote_series):
    _, _, retired = quote_series
    response = admin_client.post(reverse("admin:testapp_quote_add"), {"series": retired.pk})
    assert response.status_code == 200
    assert not Quote.objects.exists()


def test_the_series_of_an_issued_document_is_read_only(admin_client, quote_series):
    standard, export, _ = quote_series
    quote = Quote.objects.create(series=standard)
    url = reverse("admin:testapp_quote_change", args=[quote.pk])
    response = admin_client.get(url)
    assert "series" not in response.context["adminform"].form.fields
    admin_client.post(url, {"series": export.pk})
    quote.refresh_from_db()
    assert quote.series == standard and quote.number_display == "Q-0001"


def test_helpers_work_without_the_mixin(rf, quote_series):
    from django.contrib import admin

    from docnumbers.admin import number_column, series_queryset

    standard, export, _ = quote_series
    column = number_column("number", "Number")
    quote = Quote.objects.create(series=export)
    assert column(quote) == '<span class="docnumbers-number">QX-0001</span>'
    assert column(Quote()) == "Assigned when saved"
    assert (column.admin_order_field, column.short_description) == ("number", "Number")
    assert list(series_queryset(Quote._meta.get_field("number"))) == [standard, export]
    assert column(SimpleModel.objects.create()) == '<span class="docnumbers-number">1</span>'

    class PlainQuoteAdmin(admin.ModelAdmin):
        list_display = [column, "series"]

    model_admin = PlainQuoteAdmin(Quote, admin.site)
    request = rf.get("/")
    request.user = type("U", (), {"has_perm": lambda *a: True, "is_active": True})()
    assert model_admin.get_list_display(request)[0] is column


def test_the_change_log_outlives_its_author(mover_client, mover):
    """Deleting a user who moved a counter is refused (deactivate instead); the name stays."""
    from django.db.models import ProtectedError

    counter = invoice().invoice_number_counter
    mover_client.post(
        set_next_url(counter), {"next_value": 5, "reason": "Paper 2-4", "seen_value": 1}
    )
    with pytest.raises(ProtectedError):
        mover.delete()
    mover.is_active = False
    mover.save()
    change = CounterChange.objects.get()
    assert (change.changed_by, change.changed_by_name) == (mover, "mover")
    assert LogEntry.objects.filter(user=mover).exists()
