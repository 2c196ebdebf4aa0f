"""The Django internals ``docnumbers._compat`` wraps: each works on every supported Django."""

import pickle

import pytest
from django.db.models import QuerySet
from django.urls import reverse

from docnumbers.bulk import NumberingQuerySet
from docnumbers.models import NumberFormat
from tests.testapp.models import Customer, Invoice, InvoiceProxy, SimpleChild, SimpleModel


def test_bulk_create_is_not_replaced_for_the_process():
    assert QuerySet.bulk_create.__module__ == "django.db.models.query"
    assert not isinstance(Customer.objects.all(), NumberingQuerySet)
    assert not isinstance(NumberFormat.objects.all(), NumberingQuerySet)


def test_numbered_models_managers_number_their_batches():
    for model in (Invoice, InvoiceProxy, SimpleModel, SimpleChild):
        assert isinstance(model.objects.all(), NumberingQuerySet), model
        assert isinstance(model._default_manager.filter(pk=1), NumberingQuerySet), model
    # The model's own QuerySet class stays in the chain (custom methods keep working).
    assert isinstance(NumberFormat.objects.all(), type(NumberFormat._default_manager.none()))


@pytest.mark.django_db
def test_a_numbered_batch_is_numbered_and_its_queryset_pickles():
    created = SimpleModel.objects.bulk_create([SimpleModel() for _ in range(3)])
    assert [o.number for o in created] == [1, 2, 3]
    again = pickle.loads(pickle.dumps(SimpleModel.objects.filter(number__gte=2)))
    assert sorted(o.number for o in again) == [2, 3]


def test_stale_saves_are_guarded_on_numbered_models_only():
    assert getattr(Invoice._do_update, "_docnumbers_guard", False)
    assert not getattr(Customer._do_update, "_docnumbers_guard", False)


@pytest.mark.django_db
def test_the_series_list_shows_sortable2s_handle_in_an_untitled_column(admin_client):
    NumberFormat.objects.create(code="compat", prefix="C-")
    page = admin_client.get(reverse("admin:docnumbers_numberformat_changelist"))
    html = page.content.decode()
    assert 'class="drag handle"' in html and "column-grip" in html
    assert "column-_reorder_" not in html
