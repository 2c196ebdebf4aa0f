"""System checks: bad declarations are reported at startup, with the fix."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import models
from django.test.utils import isolate_apps

from docnumbers import AutoSequenceField, Format
from docnumbers.checks import formats_exist


def ids(model, name="number"):
    return [e.id for e in model._meta.get_field(name).check()]


@isolate_apps("tests.testapp")
def test_unique_with_unknown_field_is_E001():
    class Doc(models.Model):
        class Meta:
            app_label = "testapp"

        number = AutoSequenceField(unique_with="nope")

    errors = Doc._meta.get_field("number").check()
    assert [e.id for e in errors] == ["docnumbers.E001"]
    assert "'nope'" in errors[0].msg


@isolate_apps("tests.testapp")
def test_unique_with_many_to_many_is_E001():
    class Tag(models.Model):
        class Meta:
            app_label = "testapp"

        pass

    class Doc(models.Model):
        class Meta:
            app_label = "testapp"

        tags = models.ManyToManyField(Tag)
        number = AutoSequenceField(unique_with="tags")

    assert ids(Doc) == ["docnumbers.E001"]


@isolate_apps("tests.testapp")
def test_start_at_not_an_int_is_E002():
    class Doc(models.Model):
        class Meta:
            app_label = "testapp"

        number = AutoSequenceField(start_at="1")

    errors = Doc._meta.get_field("number").check()
    assert [e.id for e in errors] == ["docnumbers.E002"]
    assert "start_at=1000" in errors[0].hint


@isolate_apps("tests.testapp")
def test_primary_key_is_E003():
    class Doc(models.Model):
        class Meta:
            app_label = "testapp"

        number = AutoSequenceField(primary_key=True)

    assert "docnumbers.E003" in ids(Doc)


@isolate_apps("tests.testapp")
def test_bad_format_argument_is_E004():
    class Doc(models.Model):
        class Meta:
            app_label = "testapp"

        number = AutoSequenceField(format=42)

    assert ids(Doc) == ["docnumbers.E004"]


@isolate_apps("tests.testapp")
def test_invalid_declared_format_is_E005():
    class Doc(models.Model):
        class Meta:
            app_label = "testapp"

        number = AutoSequenceField(format=Format("doc", prefix="D-{YYYY", reset="yearly"))

    errors = Doc._meta.get_field("number").check()
    assert [e.id for e in errors] == ["docnumbers.E005"]
    assert "Unbalanced" in errors[0].msg


@isolate_apps("tests.testapp")
def test_a_declared_fiscal_month_that_is_not_an_int_is_E005():
    class Doc(models.Model):
        class Meta:
            app_label = "testapp"

        number = AutoSequenceField(
            format=Format("doc", prefix="D{FY}-", reset="fiscal", fiscal_year_start_month=4.0)
        )

    errors = Doc._meta.get_field("number").check()
    assert [e.id for e in errors] == ["docnumbers.E005"]
    assert "not 4.0" in errors[0].msg


@isolate_apps("tests.testapp")
def test_date_field_that_is_not_a_date_is_E006():
    class Doc(models.Model):
        class Meta:
            app_label = "testapp"

        title = models.CharField(max_length=10)
        number = AutoSequenceField(format=Format("doc"), date_field="title")

    assert ids(Doc) == ["docnumbers.E006"]


@isolate_apps("tests.testapp")
def test_series_field_not_a_number_format_fk_is_E008():
    class Doc(models.Model):
        class Meta:
            app_label = "testapp"

        title = models.CharField(max_length=10)
        number = AutoSequenceField(format="doc", series_field="title")

    assert ids(Doc) == ["docnumbers.E008"]


@isolate_apps("tests.testapp")
def test_date_field_without_format_is_W001():
    class Doc(models.Model):
        class Meta:
            app_label = "testapp"

        day = models.DateField()
        number = AutoSequenceField(date_field="day")

    assert ids(Doc) == ["docnumbers.W001"]


@isolate_apps("tests.testapp")
def test_valid_declarations_pass():
    class Doc(models.Model):
        class Meta:
            app_label = "testapp"

        name = models.CharField(max_length=10)
        day = models.DateField()
        number = AutoSequenceField(
            unique_with="name",
            format=Format("doc", prefix="D{YY}-", reset="yearly"),
            date_field="day",
        )

    assert ids(Doc) == []


@pytest.mark.django_db
def test_format_without_row_or_defaults_is_E007():
    # tests.testapp.Quote declares format="quote" with no defaults and no row exists.
    errors = formats_exist(databases=["default"])
    assert [e.id for e in errors] == ["docnumbers.E007"]
    assert "'quote'" in errors[0].msg and "Format(" in errors[0].hint


@pytest.mark.django_db
def test_E007_goes_away_once_the_format_exists():
    from docnumbers.models import NumberFormat

    NumberFormat.objects.create(code="quote", prefix="Q-")
    assert formats_exist(databases=["default"]) == []


@pytest.mark.django_db
def test_check_command_reports_E007_with_database_tag():
    with pytest.raises(SystemCheckError, match="docnumbers.E007"):
        call_command("check", "--database", "default")
