"""Drafts without numbers, posting, chronological series (#21).

Written from the user's side; every test runs on SQLite, PostgreSQL and MariaDB.
The rules every numbered document obeys run on a draft model too, in
tests/test_contract.py (the "draft" shape).
"""

import datetime as dt
import io
import json

import django
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models, transaction
from django.forms import modelform_factory
from django.test.utils import isolate_apps

import docnumbers
from docnumbers import AutoSequenceField, NumberFrozen, NumberOutOfOrder, triggers
from docnumbers.checks import check_field
from docnumbers.models import Counter
from tests.testapp.models import (
    ChronoInvoice,
    Customer,
    DraftInvoice,
    DraftTicket,
    LateDraft,
    LateInvoice,
)

pytestmark = pytest.mark.django_db(transaction=True)

D = dt.date
#: CheckConstraint's argument: ``condition`` since Django 5.1, ``check`` before.
CHECK_ARG = "condition" if django.VERSION >= (5, 1) else "check"


class Boom(Exception):
    pass


def stored(model=DraftInvoice):
    return list(model.objects.order_by("pk").values_list("number", "number_display"))


def audit():
    out = io.StringIO()
    try:
        call_command("docnumbers", "audit", "--format", "json", "--no-progress", stdout=out)
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, json.loads(out.getvalue())


# -- a draft holds no number ----------------------------------------------------------------


def test_a_draft_holds_no_number_and_takes_nothing_from_the_counter():
    draft = DraftInvoice.objects.create(issued_on=D(2026, 3, 14))
    assert (draft.number, draft.number_display, draft.number_counter_id) == (None, None, None)
    draft.note = "edited"
    draft.save()
    assert stored() == [(None, None)]
    assert not Counter.objects.exists()


def test_the_save_that_posts_a_draft_issues_its_number():
    first = DraftInvoice.objects.create(issued_on=D(2026, 3, 14))
    second = DraftInvoice.objects.create(issued_on=D(2026, 3, 15))
    second.status = "posted"
    second.save()
    assert (second.number, second.number_display) == (1, "D-2026-0001")
    first = DraftInvoice.objects.get(pk=first.pk)
    first.status = "posted"
    first.save()
    assert stored() == [(2, "D-2026-0002"), (1, "D-2026-0001")]


def test_deleting_drafts_leaves_no_gap():
    drafts = [DraftInvoice.objects.create(issued_on=D(2026, 3, 14)) for _ in range(3)]
    drafts[1].delete()
    for draft in (drafts[0], drafts[2]):
        draft.status = "posted"
        draft.save()
    assert stored() == [(1, "D-2026-0001"), (2, "D-2026-0002")]
    code, reports = audit()
    assert code == 0
    assert not any(r["gaps"] for r in reports["sequences"])


def test_a_plain_scoped_draft_is_numbered_in_its_scope_when_posted():
    a = DraftTicket.objects.create(queue="a")
    b = DraftTicket.objects.create(queue="a", posted=True)
    assert (a.number, b.number) == (None, 1)
    a.posted = True
    a.save()
    assert a.number == 2
    assert DraftTicket.objects.create(queue="b", posted=True).number == 1


def test_posting_in_a_rolled_back_transaction_gives_the_number_back():
    draft = DraftInvoice.objects.create(issued_on=D(2026, 3, 14))
    with pytest.raises(Boom), transaction.atomic():
        draft.status = "posted"
        draft.save()
        assert draft.number_display == "D-2026-0001"
        raise Boom
    assert stored() == [(None, None)]
    draft.save()  # saving again issues it again, the same number
    assert stored() == [(1, "D-2026-0001")]


def test_a_rolled_back_posting_that_also_moved_the_scope_posts_again():
    draft = DraftTicket.objects.create(queue="a")
    with pytest.raises(Boom), transaction.atomic():
        draft.queue, draft.posted = "b", True
        draft.save()
        raise Boom
    draft.save()  # the row is a draft of queue "a" again: this save posts it in "b"
    stored = DraftTicket.objects.get(pk=draft.pk)
    assert (stored.queue, stored.number) == ("b", 1)


def test_no_way_back_to_draft():
    doc = DraftInvoice.objects.create(issued_on=D(2026, 3, 14), status="posted")
    doc.status = "draft"
    with pytest.raises(NumberFrozen, match="D-2026-0001 is issued; the document cannot go back"):
        doc.save()
    assert DraftInvoice.objects.get(pk=doc.pk).status == "posted"
    # In forms and the admin: a ValidationError on the condition's field.
    form_class = modelform_factory(DraftInvoice, fields=["issued_on", "status"])
    form = form_class({"issued_on": "2026-03-14", "status": "draft"}, instance=doc)
    assert not form.is_valid()
    assert "cannot go back to draft" in form.errors["status"][0]
    with pytest.raises(ValidationError):
        doc.full_clean()


def test_a_draft_given_a_number_by_hand_is_refused():
    with pytest.raises(NumberFrozen, match="a draft has no number"):
        DraftInvoice.objects.create(issued_on=D(2026, 3, 14), number=7)
    assert not DraftInvoice.objects.exists()


def test_bulk_create_issues_numbers_to_the_documents_whose_condition_holds():
    made = DraftInvoice.objects.bulk_create(
        [
            DraftInvoice(issued_on=D(2026, 3, 14)),
            DraftInvoice(issued_on=D(2026, 3, 14), status="posted"),
            DraftInvoice(issued_on=D(2026, 3, 15)),
            DraftInvoice(issued_on=D(2026, 3, 16), status="posted"),
        ]
    )
    assert [d.number_display for d in made] == [None, "D-2026-0001", None, "D-2026-0002"]
    assert stored() == [(None, None), (1, "D-2026-0001"), (None, None), (2, "D-2026-0002")]


def test_the_audit_counts_drafts_separately_and_passes():
    DraftInvoice.objects.create(issued_on=D(2026, 3, 14))
    DraftInvoice.objects.create(issued_on=D(2026, 3, 14))
    DraftInvoice.objects.create(issued_on=D(2026, 3, 14), status="posted")
    code, reports = audit()
    assert code == 0
    mine = [r for r in reports["sequences"] if r["sequence"].startswith("testapp.DraftInvoice")]
    assert sum(r["drafts"] for r in mine) == 2
    assert sum(r["unnumbered"] for r in mine) == 0
    assert {r["status"] for r in mine} == {"ok", "drafts"}


def test_a_posted_row_without_a_number_is_still_reported_unnumbered():
    doc = DraftInvoice.objects.create(issued_on=D(2026, 3, 14))
    DraftInvoice.objects.filter(pk=doc.pk).update(status="posted")  # past docnumbers
    code, reports = audit()
    assert code == 1
    assert sum(r["unnumbered"] for r in reports["sequences"]) == 1


# -- posting many drafts ---------------------------------------------------------------------


def test_issue_numbers_drafts_in_date_order_across_periods():
    days = [D(2027, 1, 5), D(2026, 12, 31), D(2026, 3, 1), D(2027, 1, 2), D(2026, 3, 1)]
    docs = [DraftInvoice.objects.create(issued_on=day) for day in days]
    DraftInvoice.objects.create(issued_on=D(2026, 1, 1), status="posted")  # already issued
    with transaction.atomic():
        assert docnumbers.issue(DraftInvoice.objects.all(), status="posted") == 5
    got = {d.pk: d.number_display for d in DraftInvoice.objects.all()}
    assert [got[d.pk] for d in docs] == [
        "D-2027-0002",
        "D-2026-0004",
        "D-2026-0002",
        "D-2027-0001",
        "D-2026-0003",
    ]
    assert set(DraftInvoice.objects.values_list("status", flat=True)) == {"posted"}
    # Nothing left to post.
    assert docnumbers.issue(DraftInvoice.objects.all(), status="posted") == 0


def test_issue_in_a_rolled_back_transaction_gives_every_number_back():
    for _ in range(3):
        DraftInvoice.objects.create(issued_on=D(2026, 3, 14))
    with pytest.raises(Boom), transaction.atomic():
        assert docnumbers.issue(DraftInvoice.objects.all(), status="posted") == 3
        raise Boom
    assert stored() == [(None, None)] * 3
    assert docnumbers.issue(DraftInvoice.objects.filter(pk__gt=0), status="posted") == 3
    assert sorted(stored()) == [(n, f"D-2026-{n:04d}") for n in (1, 2, 3)]


def test_issue_leaves_drafts_whose_condition_still_fails():
    DraftInvoice.objects.create(issued_on=D(2026, 3, 14))
    assert docnumbers.issue(DraftInvoice.objects.all(), note="checked") == 0
    assert stored() == [(None, None)]


def test_issue_refuses_a_model_without_drafts_by_name():
    with pytest.raises(docnumbers.DocnumbersError, match="no AutoSequenceField with issue_when"):
        docnumbers.issue(Customer.objects.all())


def test_a_document_posted_by_issue_then_saved_keeps_its_number():
    doc = DraftInvoice.objects.create(issued_on=D(2026, 3, 14))
    docnumbers.issue(DraftInvoice.objects.filter(pk=doc.pk), status="posted")
    doc = DraftInvoice.objects.get(pk=doc.pk)
    doc.note = "paid"
    doc.save()
    assert stored() == [(1, "D-2026-0001")]


# -- chronological series --------------------------------------------------------------------


def post(day, **extra):
    return ChronoInvoice.objects.create(issued_on=day, status="posted", **extra)


def test_a_number_dated_before_the_last_one_is_refused():
    post(D(2026, 3, 14))
    with pytest.raises(NumberOutOfOrder) as caught:
        post(D(2026, 3, 13))
    assert "CH-2026-001" in str(caught.value) and "2026-03-14" in str(caught.value)
    assert caught.value.field == "issued_on"
    assert list(ChronoInvoice.objects.values_list("number", flat=True)) == [1]
    # Nothing was burnt: the next number follows.
    assert post(D(2026, 3, 20)).number_display == "CH-2026-002"


def test_the_same_date_is_allowed():
    post(D(2026, 3, 14))
    assert post(D(2026, 3, 14)).number_display == "CH-2026-002"


def test_chronology_is_checked_inside_a_transaction_and_rolls_back_whole():
    post(D(2026, 3, 14))
    with pytest.raises(NumberOutOfOrder), transaction.atomic():
        post(D(2026, 3, 15))
        post(D(2026, 3, 1))
    assert post(D(2026, 3, 15)).number_display == "CH-2026-002"


def test_each_period_is_its_own_sequence():
    post(D(2027, 1, 5))
    assert post(D(2026, 12, 1)).number_display == "CH-2026-001"


def test_full_clean_and_forms_show_the_refusal_on_the_date():
    post(D(2026, 3, 14))
    form_class = modelform_factory(ChronoInvoice, fields=["issued_on", "status"])
    form = form_class({"issued_on": "2026-03-10", "status": "posted"})
    assert not form.is_valid()
    assert "CH-2026-001" in form.errors["issued_on"][0]
    draft = form_class({"issued_on": "2026-03-10", "status": "draft"})
    assert draft.is_valid()  # a draft takes no number yet


def test_issue_posts_a_batch_in_date_order_so_it_never_breaks_the_rule():
    for day in (D(2026, 3, 20), D(2026, 3, 2), D(2026, 3, 11)):
        ChronoInvoice.objects.create(issued_on=day)
    assert docnumbers.issue(ChronoInvoice.objects.all(), status="posted") == 3
    rows = ChronoInvoice.objects.order_by("number").values_list("issued_on", flat=True)
    assert list(rows) == [D(2026, 3, 2), D(2026, 3, 11), D(2026, 3, 20)]


def test_issue_refuses_a_batch_dated_before_the_last_number():
    post(D(2026, 3, 14))
    ChronoInvoice.objects.create(issued_on=D(2026, 3, 1))
    with pytest.raises(NumberOutOfOrder):
        docnumbers.issue(ChronoInvoice.objects.all(), status="posted")
    assert ChronoInvoice.objects.filter(number__isnull=True).count() == 1


def test_the_audit_reports_a_chronology_break_already_stored():
    post(D(2026, 3, 14))
    late = post(D(2026, 3, 15))
    ChronoInvoice.objects.filter(pk=late.pk).update(issued_on=D(2026, 3, 1))  # past docnumbers
    code, reports = audit()
    assert code == 1
    (found,) = [b for r in reports["sequences"] for b in r["chronology_breaks"]]
    assert (found["text"], found["after"]) == ("CH-2026-002", "CH-2026-001")


# -- declarations ----------------------------------------------------------------------------


@isolate_apps("tests.testapp")
def test_system_checks_name_a_bad_issue_when_and_a_chronological_series_without_a_date():
    class Bad(models.Model):
        status = models.CharField(max_length=5)
        number = AutoSequenceField(issue_when="posted")
        other = AutoSequenceField(issue_when=models.Q(stat="x"), unique_with="status")
        third = AutoSequenceField(chronological=True, unique_with=("status", "id"))

        class Meta:
            app_label = "testapp"

    names = ("number", "other", "third")
    found = {f: [m.id for m in check_field(Bad._meta.get_field(f))] for f in names}
    assert found == {
        "number": ["docnumbers.E009"],
        "other": ["docnumbers.E009"],
        "third": ["docnumbers.E010"],
    }


# -- late drafts: numbered at COMMIT only when posted (PostgreSQL; at save time elsewhere) ----


def late_stored():
    return list(LateDraft.objects.order_by("pk").values_list("number", "number_display"))


def at_commit():
    """Whether late numbers wait for COMMIT on this backend (PostgreSQL)."""
    return connection.vendor == "postgresql"


def test_late_drafts_are_numbered_at_commit_only_when_posted():
    with transaction.atomic():
        posted = LateDraft.objects.create(issued_on=D(2026, 3, 14), status="posted")
        LateDraft.objects.create(issued_on=D(2026, 3, 14))
        back = LateDraft.objects.create(issued_on=D(2026, 3, 15), status="posted")
        back.status = "draft"
        if at_commit():  # not numbered yet: it may still go back to draft
            back.save()
        else:  # numbered at save time: issued, it cannot
            with pytest.raises(NumberFrozen):
                back.save()
            back.status = "posted"
    assert posted.number_display == "LD-2026-0001"
    expected = [(1, "LD-2026-0001"), (None, None)]
    expected.append((None, None) if at_commit() else (2, "LD-2026-0002"))
    assert late_stored() == expected
    code, _ = audit()
    assert code == 0


def test_a_late_draft_posted_by_a_later_update_is_numbered_at_that_commit():
    draft = LateDraft.objects.create(issued_on=D(2026, 3, 14))
    LateDraft.objects.create(issued_on=D(2026, 3, 14))  # another draft, left as it is
    with transaction.atomic():
        draft.status = "posted"
        draft.save()
        inside = late_stored()[0]
        assert inside == ((None, None) if at_commit() else (1, "LD-2026-0001"))
    assert late_stored() == [(1, "LD-2026-0001"), (None, None)]
    assert (draft.number, draft.number_display) == (1, "LD-2026-0001")
    draft.status = "draft"
    with pytest.raises(NumberFrozen):
        draft.save()


def test_a_late_draft_posted_by_a_raw_update_is_numbered_at_commit_on_postgresql():
    """The trigger works from the row: a posting past the ORM is numbered too (#19)."""
    draft = LateDraft.objects.create(issued_on=D(2026, 3, 14))
    with transaction.atomic():
        LateDraft.objects.filter(pk=draft.pk).update(status="posted")  # past docnumbers
    expected = (1, "LD-2026-0001") if at_commit() else (None, None)
    assert late_stored() == [expected]


def test_a_rolled_back_late_posting_leaves_a_draft_and_posting_again_numbers_it():
    draft = LateDraft.objects.create(issued_on=D(2026, 3, 14))
    with pytest.raises(Boom), transaction.atomic():
        draft.status = "posted"
        draft.save()
        raise Boom
    assert late_stored() == [(None, None)]
    with transaction.atomic():
        draft.save()
    assert late_stored() == [(1, "LD-2026-0001")]
    assert LateDraft.objects.count() == 1


def test_issue_numbers_late_drafts_in_date_order_at_commit():
    days = [D(2026, 3, 20), D(2026, 3, 2), D(2026, 3, 11)]
    docs = [LateDraft.objects.create(issued_on=day) for day in days]
    with transaction.atomic():
        assert docnumbers.issue(LateDraft.objects.all(), status="posted") == 3
    got = dict(LateDraft.objects.values_list("pk", "number_display"))
    assert [got[d.pk] for d in docs] == ["LD-2026-0003", "LD-2026-0001", "LD-2026-0002"]


def test_the_trigger_condition_is_compiled_as_django_compiles_a_check_constraint():
    field = LateDraft._meta.get_field("number")
    install, _ = triggers.render(field)
    assert "AFTER INSERT OR UPDATE ON" in install
    assert """AND ("status" = 'posted')""" in install
    constraint = models.CheckConstraint(**{CHECK_ARG: field.issue_when}, name="posted")
    with connection.schema_editor() as editor:
        compiled = constraint._get_check_sql(LateDraft, editor)
    # The same text Django writes for a CheckConstraint on PostgreSQL (and, but for the
    # quotes of a name on MariaDB, on the other backends: the same SQL for these lookups).
    compiled = compiled.replace(connection.ops.quote_name("status"), '"status"')
    assert triggers.condition_sql(field) == compiled == """"status" = 'posted'"""
    # A late field without issue_when keeps the trigger it had: AFTER INSERT only.
    plain, _ = triggers.render(LateInvoice._meta.get_field("number"))
    assert "AFTER INSERT ON" in plain
