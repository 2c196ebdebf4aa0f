"""The admin for gap explanations: recorded with the audit's own checks, never edited."""

import pytest
from django.urls import reverse

from docnumbers.models import Counter, GapExplanation
from tests.testapp.models import SimpleModel, StartAtModel

pytestmark = pytest.mark.django_db

ADD = reverse("admin:docnumbers_gapexplanation_add")


@pytest.fixture
def counter_with_gap():
    objs = [SimpleModel.objects.create() for _ in range(5)]
    objs[2].delete()  # number 3 is missing
    return Counter.objects.get(key="testapp.simplemodel.number")


def post(client, counter, **overrides):
    data = {"counter": counter.pk, "first": 3, "last": 3, "kind": "voided", "reason": "Typo"}
    data.update(overrides)
    return client.post(ADD, data)


def test_a_missing_number_is_explained_and_signed(admin_client, admin_user, counter_with_gap):
    response = post(admin_client, counter_with_gap)
    assert response.status_code == 302
    gap = GapExplanation.objects.get()
    assert (gap.first, gap.last, gap.kind, gap.created_by) == (3, 3, "voided", admin_user)


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"first": 2, "last": 2}, "is stored"),
        ({"first": 3, "last": 9}, "never issued"),
        ({"first": 4, "last": 3}, "must not be below the first"),
    ],
)
def test_the_audit_checks_refuse_what_cannot_be_missing(
    admin_client, counter_with_gap, overrides, words
):
    response = post(admin_client, counter_with_gap, **overrides)
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not GapExplanation.objects.exists()


@pytest.mark.parametrize("first, last", [(99, 99), (0, 100), (-5, -1)])
def test_numbers_below_the_first_value_are_refused(admin_client, first, last):
    rows = [StartAtModel.objects.create() for _ in range(3)]  # 100, 101, 102
    rows[0].delete()
    counter = Counter.objects.get(key="testapp.startatmodel.number")
    response = post(admin_client, counter, first=first, last=last)
    assert response.status_code == 200
    (message,) = response.context["adminform"].form.errors["first"]
    assert "starts at 100" in message and "from 100 to 102" in message
    assert message in response.content.decode()
    assert not GapExplanation.objects.exists()
    assert post(admin_client, counter, first=100, last=100).status_code == 302


def test_a_recorded_explanation_is_read_only_and_cannot_be_deleted(admin_client, counter_with_gap):
    post(admin_client, counter_with_gap)
    gap = GapExplanation.objects.get()
    url = reverse("admin:docnumbers_gapexplanation_change", args=[gap.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="reason"' not in page.content.decode()
    admin_client.post(url, {"reason": "changed", "first": 1, "last": 1})
    gap.refresh_from_db()
    assert gap.reason == "Typo"
    delete = reverse("admin:docnumbers_gapexplanation_delete", args=[gap.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert GapExplanation.objects.count() == 1


def test_staff_without_permission_cannot_see_explanations(client, django_user_model):
    user = django_user_model.objects.create_user("plain", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:docnumbers_gapexplanation_changelist")).status_code == 403
    assert client.get(ADD).status_code == 403


def test_the_audit_lists_an_admin_explanation_as_explained(admin_client, counter_with_gap):
    from docnumbers.audit import audit

    post(admin_client, counter_with_gap)
    (report,) = [r for r in audit() if r.key == "testapp.simplemodel.number"]
    assert report.gaps == []
    assert [(g.first, g.last) for g in report.explained] == [(3, 3)]
