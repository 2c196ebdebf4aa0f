"""Adding numbers to a model with rows (#11), in this process: the steps, the operation, the guard.

The end-to-end path (makemigrations, then migrate, on each database) is in
``test_migrations``.
"""

import datetime as dt

import pytest
from django import forms
from django.apps import apps as global_apps
from django.core import serializers
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, migrations, models
from django.db.migrations.writer import MigrationWriter, OperationWriter

from docnumbers import AutoSequenceField
from docnumbers.adoption import number_existing_rows, refuse_unnumbered_rows
from docnumbers.fields import NumberCounterField, NumberDisplayField
from docnumbers.keys import key_text
from docnumbers.models import Counter
from docnumbers.operations import (
    NumberExistingRows,
    RenameCounters,
    adoption_steps,
    refuse_renames_without_counters,
    rewrite_migration,
)
from tests.testapp.models import Invoice, LateInvoice, SimpleModel

# -- The field asks makemigrations for no default, and nothing else changes ----------------


def test_the_field_has_a_default_of_none_that_migrations_leave_out():
    field = SimpleModel._meta.get_field("number")
    assert field.has_default() and field.get_default() is None
    assert "default" not in field.deconstruct()[3]
    assert "default" not in AutoSequenceField(default=None).deconstruct()[3]
    assert AutoSequenceField(default=7).deconstruct()[3]["default"] == 7


def test_a_new_instance_and_a_form_start_without_a_number():
    assert SimpleModel().number is None and Invoice().invoice_number is None
    assert AutoSequenceField(editable=True).formfield().initial is None

    class NameForm(forms.ModelForm):
        class Meta:
            model = SimpleModel
            fields = ["name"]

    assert list(NameForm().fields) == ["name"]


@pytest.mark.django_db(transaction=True)
def test_serialization_round_trip_keeps_the_number():
    obj = SimpleModel.objects.create(name="a")
    (loaded,) = serializers.deserialize("json", serializers.serialize("json", [obj]))
    assert loaded.object.number == obj.number == 1


# -- The steps docnumbers' makemigrations writes ------------------------------------------


def detected(field):
    """What the autodetector writes when ``field`` is added to the model ``bill``."""
    ops = [migrations.AddField("bill", "number", field)]
    if field.format_code is not None:
        ops += [
            migrations.AddField("bill", "number_counter", NumberCounterField()),
            migrations.AddField("bill", "number_display", NumberDisplayField()),
        ]
    constraint = models.UniqueConstraint(fields=["number"], name="bill_number_uniq")
    return [migrations.AddField("bill", "note", models.TextField(default="")), *ops] + [
        migrations.AddConstraint("bill", constraint)
    ]


def describe(ops):
    return [f"{type(op).__name__} {getattr(op, 'name', '')}".strip() for op in ops]


def test_a_formatted_field_is_added_nullable_numbered_then_made_not_null():
    ops = adoption_steps(detected(AutoSequenceField(format="invoice", date_field="note")))
    assert describe(ops) == [
        "AddField note",
        "AddField number",
        "AddField number_counter",
        "AddField number_display",
        "NumberExistingRows number",
        "AlterField number",
        "AddConstraint",
    ]
    assert ops[1].field.null is True and ops[5].field.null is False
    assert ops[4].order_by == ("pk",)


def test_a_late_field_needs_no_alterfield_and_the_steps_are_written_once():
    ops = adoption_steps(detected(AutoSequenceField(format="invoice", late=True)))
    assert "AlterField number" not in describe(ops)
    assert describe(adoption_steps(ops)) == describe(ops)


def test_a_constraint_written_before_the_field_moves_after_the_numbering():
    plain = detected(AutoSequenceField(unique_with="note"))
    ops = adoption_steps([plain[-1], *plain[:-1]])
    assert describe(ops)[-1] == "AddConstraint"
    assert describe(ops)[-2] == "AlterField number"


def test_the_numbering_waits_for_a_scope_field_added_in_the_same_migration():
    zone = migrations.AddField("bill", "zone", models.TextField(default=""))
    ops = adoption_steps([*detected(AutoSequenceField(unique_with="zone")), zone])
    assert describe(ops) == [
        "AddField note",
        "AddField number",
        "AddField zone",
        "NumberExistingRows number",
        "AlterField number",
        "AddConstraint",
    ]


def test_the_migration_depends_on_docnumbers_latest_and_other_migrations_are_untouched():
    migration = migrations.Migration("0002_bill_number", "shop")
    migration.dependencies = [("shop", "0001_initial"), ("docnumbers", "0001_initial")]
    migration.operations = detected(AutoSequenceField(format="invoice"))
    assert rewrite_migration(migration, ("docnumbers", "0009_latest")) is True
    assert migration.dependencies == [("shop", "0001_initial"), ("docnumbers", "0009_latest")]
    other = migrations.Migration("0003_note", "shop")
    other.operations = [migrations.AddField("bill", "x", models.TextField(default=""))]
    assert rewrite_migration(other, ("docnumbers", "0009_latest")) is False
    assert other.dependencies == []


def test_the_operation_is_written_with_its_order_and_describes_itself():
    operation = NumberExistingRows("bill", "number")
    text, imports = OperationWriter(operation, indentation=0).serialize()
    assert "docnumbers.operations.NumberExistingRows(" in text
    assert "order_by=('pk',)" in text
    assert "import docnumbers.operations" in imports
    assert operation.describe() == "Number the existing rows of bill.number (ordered by pk)"
    dated = NumberExistingRows("bill", "number", order_by=["issued_on", "pk"])
    assert dated.deconstruct()[2]["order_by"] == ("issued_on", "pk")
    assert "NumberExistingRows" in MigrationWriter.serialize(dated)[0]


# -- Numbering the rows ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_rows_are_numbered_in_the_given_order_across_batches_after_the_counter():
    days = ["2025-03-01", "2026-01-01", "2025-01-01", "2025-02-01", "2026-05-01"]
    for day in days:
        LateInvoice.objects.create(issued_on=dt.date.fromisoformat(day))
    # Numbers 1-3 (2025) and 1-2 (2026) were issued: the rows lose them, the counters keep them.
    LateInvoice.objects.update(number=None, number_display=None, number_counter=None)
    count = number_existing_rows(
        LateInvoice, "number", order_by=("issued_on", "pk"), using="default", batch_size=2
    )
    assert count == 5
    rows = LateInvoice.objects.order_by("pk").values_list("number_display", flat=True)
    assert list(rows) == ["L-2025-0006", "L-2026-0003", "L-2025-0004", "L-2025-0005", "L-2026-0004"]
    assert number_existing_rows(LateInvoice, "number", using="default") == 0


# -- The guard against a plain AddField on a table with rows --------------------------------


def adding(field, backwards=False):
    migration = migrations.Migration("0099_number_again", "testapp")
    migration.operations = [migrations.AddField("simplemodel", "again", field)]
    return [(migration, backwards)]


@pytest.mark.django_db(transaction=True)
def test_migrate_refuses_a_not_null_number_added_to_a_table_with_rows():
    refuse_unnumbered_rows(using="default", plan=adding(AutoSequenceField()), apps=global_apps)
    SimpleModel.objects.create()
    with pytest.raises(CommandError, match=r"NumberExistingRows\('simplemodel', 'again'\)"):
        refuse_unnumbered_rows(using="default", plan=adding(AutoSequenceField()), apps=global_apps)
    nullable = AutoSequenceField(null=True)
    refuse_unnumbered_rows(using="default", plan=adding(nullable), apps=global_apps)
    backwards = adding(AutoSequenceField(), backwards=True)
    refuse_unnumbered_rows(using="default", plan=backwards, apps=global_apps)


# -- Renames: the counters follow ---------------------------------------------------------


def _rename(operation, forwards=True):
    with connection.schema_editor() as editor:
        move = operation.database_forwards if forwards else operation.database_backwards
        move("testapp", editor, None, None)


@pytest.mark.django_db(transaction=True)
def test_rename_counters_moves_sequence_scope_and_key_and_back():
    old = Counter.objects.create(
        key=key_text("testapp.old.number", None, '{"branch":"7"}', "2026"),
        value=41,
        sequence="testapp.old.number",
        scope='{"branch":"7"}',
        period="2026",
    )
    other = Counter.objects.create(key="elsewhere", value=3, sequence="elsewhere")
    operation = RenameCounters("testapp.old.number", "testapp.new.number", {"branch": "office"})
    _rename(operation)
    old.refresh_from_db()
    assert (old.sequence, old.scope, old.value) == ("testapp.new.number", '{"office":"7"}', 41)
    assert old.key == key_text("testapp.new.number", None, '{"office":"7"}', "2026")
    assert Counter.objects.get(pk=other.pk).key == "elsewhere"
    _rename(operation, forwards=False)
    old.refresh_from_db()
    assert (old.sequence, old.scope) == ("testapp.old.number", '{"branch":"7"}')
    assert old.key == key_text("testapp.old.number", None, '{"branch":"7"}', "2026")
    assert "Move the counters of testapp.old.number" in operation.describe()
    assert operation.deconstruct()[2]["scope"] == {"branch": "office"}


@pytest.mark.django_db(transaction=True)
def test_rename_counters_refuses_a_name_already_counting_and_changes_nothing():
    Counter.objects.create(key="testapp.a.number", value=5, sequence="testapp.a.number")
    Counter.objects.create(key="testapp.b.number", value=9, sequence="testapp.b.number")
    with pytest.raises(IntegrityError, match="cannot take the name 'testapp.b.number'"):
        _rename(RenameCounters("testapp.a.number", "testapp.b.number"))
    assert sorted(Counter.objects.values_list("key", "value")) == [
        ("testapp.a.number", 5),
        ("testapp.b.number", 9),
    ]


def _renaming(*operations):
    migration = migrations.Migration("0009_rename", "testapp")
    migration.operations = list(operations)
    return [(migration, False)]


@pytest.mark.django_db(transaction=True)
def test_migrate_stops_before_a_rename_that_leaves_its_counters_behind():
    """A migration by hand (or Django's own makemigrations) without RenameCounters."""
    rename = migrations.RenameModel("OldSimple", "SimpleModel")
    follow = RenameCounters("testapp.oldsimple.number", "testapp.simplemodel.number")
    # No counter under the old name: nothing to lose, nothing refused.
    refuse_renames_without_counters(plan=_renaming(rename))
    Counter.objects.create(key="testapp.oldsimple.number", value=8, sequence=follow.old)
    with pytest.raises(CommandError) as refusal:
        refuse_renames_without_counters(plan=_renaming(rename))
    message = str(refusal.value)
    assert "testapp.0009_rename" in message and "Rename model OldSimple to SimpleModel" in message
    assert (
        "RenameCounters(old='testapp.oldsimple.number', new='testapp.simplemodel.number')"
        in message
    )
    refuse_renames_without_counters(plan=_renaming(rename, follow))  # the fix
    refuse_renames_without_counters(plan=[(_renaming(rename)[0][0], True)])  # unapplying


@pytest.mark.django_db(transaction=True)
def test_migrate_stops_before_a_scope_field_rename_that_leaves_its_counters_behind():
    rename = migrations.RenameField("pernamemodel", "title", "name")
    Counter.objects.create(
        key='testapp.pernamemodel.number|{"title":"a"}',
        value=2,
        sequence="testapp.pernamemodel.number",
        scope='{"title":"a"}',
    )
    with pytest.raises(CommandError, match=r"scope=\{'title': 'name'\}"):
        refuse_renames_without_counters(plan=_renaming(rename))
    follow = RenameCounters(
        "testapp.pernamemodel.number", "testapp.pernamemodel.number", {"title": "name"}
    )
    refuse_renames_without_counters(plan=_renaming(rename, follow))
