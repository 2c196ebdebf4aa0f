"""The admin on drafts (#21): posting with the action, renumbering an issued document."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from docnumbers.models import GapExplanation
from tests.testapp.models import DraftInvoice

pytestmark = pytest.mark.django_db

D = dt.date


def staff(django_user_model, *codenames):
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def clerk(client, django_user_model):
    client.force_login(staff(django_user_model, "view_draftinvoice", "change_draftinvoice"))
    return client


def test_the_post_action_numbers_the_selected_drafts_in_date_order(admin_client):
    late = DraftInvoice.objects.create(issued_on=D(2026, 3, 20))
    early = DraftInvoice.objects.create(issued_on=D(2026, 3, 2))
    left = DraftInvoice.objects.create(issued_on=D(2026, 3, 1))
    listed = admin_client.get(reverse("admin:testapp_draftinvoice_changelist")).content.decode()
    assert listed.count(">Draft</a>") == 3  # the number column, a link to each draft
    response = admin_client.post(
        reverse("admin:testapp_draftinvoice_changelist"),
        {"action": "post_drafts", "_selected_action": [late.pk, early.pk]},
        follow=True,
    )
    assert "2 drafts posted and numbered." in response.content.decode()
    got = dict(DraftInvoice.objects.values_list("pk", "number_display"))
    assert got == {late.pk: "D-2026-0002", early.pk: "D-2026-0001", left.pk: None}


def test_the_post_action_needs_the_change_permission(client, django_user_model):
    client.force_login(staff(django_user_model, "view_draftinvoice"))
    draft = DraftInvoice.objects.create(issued_on=D(2026, 3, 2))
    response = client.post(
        reverse("admin:testapp_draftinvoice_changelist"),
        {"action": "post_drafts", "_selected_action": [draft.pk]},
    )
    assert response.status_code in (200, 302)
    assert DraftInvoice.objects.get(pk=draft.pk).number is None


def test_a_draft_shows_no_renumber_link_and_its_page_is_refused(clerk):
    draft = DraftInvoice.objects.create(issued_on=D(2026, 3, 2))
    page = clerk.get(reverse("admin:testapp_draftinvoice_change", args=[draft.pk]))
    assert "/renumber/" not in page.content.decode()
    url = reverse("admin:testapp_draftinvoice_renumber", args=[draft.pk])
    assert clerk.get(url).status_code == 404


def test_renumber_shows_old_and_new_then_records_the_old_number_as_an_explained_gap(clerk):
    doc = DraftInvoice.objects.create(issued_on=D(2026, 3, 2), status="posted")
    page = clerk.get(reverse("admin:testapp_draftinvoice_change", args=[doc.pk]))
    url = reverse("admin:testapp_draftinvoice_renumber", args=[doc.pk])
    assert url in page.content.decode()

    # No reason: refused, nothing changes.
    response = clerk.post(url, {"issued_on": "2027-01-04", "reason": "", "_preview": "1"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()

    preview = clerk.post(url, {"issued_on": "2027-01-04", "reason": "wrong year", "_preview": "1"})
    body = preview.content.decode()
    assert "D-2026-0001" in body and "D-2027-0001" in body
    assert DraftInvoice.objects.get(pk=doc.pk).number_display == "D-2026-0001"

    done = clerk.post(
        url, {"issued_on": "2027-01-04", "reason": "wrong year", "_confirm": "1"}, follow=True
    )
    assert "D-2026-0001 became D-2027-0001" in done.content.decode()
    doc.refresh_from_db()
    assert (doc.number_display, doc.issued_on) == ("D-2027-0001", D(2027, 1, 4))
    gap = GapExplanation.objects.get()
    assert (gap.first, gap.kind, gap.created_by.username) == (1, "renumbered", "clerk")
    assert "wrong year" in gap.reason


def test_renumber_needs_the_change_permission(client, django_user_model):
    client.force_login(staff(django_user_model, "view_draftinvoice"))
    doc = DraftInvoice.objects.create(issued_on=D(2026, 3, 2), status="posted")
    url = reverse("admin:testapp_draftinvoice_renumber", args=[doc.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, {"issued_on": "2027-01-04", "reason": "x", "_confirm": "1"})
    assert response.status_code == 403
    assert DraftInvoice.objects.get(pk=doc.pk).number_display == "D-2026-0001"


def test_the_frozen_date_error_links_to_the_renumber_page(clerk):
    doc = DraftInvoice.objects.create(issued_on=D(2026, 3, 2), status="posted")
    change = reverse("admin:testapp_draftinvoice_change", args=[doc.pk])
    response = clerk.post(
        change, {"issued_on": "2027-01-04", "status": "posted", "note": "", "customer": ""}
    )
    body = response.content.decode()
    assert "numbered in the period" in body
    assert "docnumbers.renumber()" not in body
    url = reverse("admin:testapp_draftinvoice_renumber", args=[doc.pk])
    assert f'<a href="{url}">Renumber this document</a>' in body
