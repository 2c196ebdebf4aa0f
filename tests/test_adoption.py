"""Adding numbers to a model with rows (#11), in this process: the steps, the operation, the guard.

The end-to-end path (makemigrations, then migrate, on each database) is in
``test_migrations``.
"""

import pytest
from django import forms
from django.core import serializers

from docnumbers import AutoSequenceField
from tests.testapp.models import Invoice, SimpleModel

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
