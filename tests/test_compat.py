"""The Django internals ``docnumbers._compat`` wraps, and what Django's public API does
for the code that no longer needs internals: each works on every supported Django."""

import copy
import gc
import pickle

import pytest
from django.db import transaction
from django.db.migrations.state import ModelState
from django.db.models import QuerySet
from django.urls import reverse

from docnumbers import state
from docnumbers.bulk import NumberingQuerySet
from docnumbers.models import NumberFormat
from tests.testapp.models import (
    Customer,
    Invoice,
    InvoiceProxy,
    PerNameModel,
    SimpleChild,
    SimpleModel,
)


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


def test_the_fields_constraints_reach_the_model_and_its_migration_state():
    # Neither model's Meta declares constraints: migrations see them all the same.
    expected = {
        Invoice: {
            "testapp_invoice_invoice_number_counter_invoice_number_uniq",
            "testapp_invoice_invoice_number_display_uniq",
        },
        PerNameModel: {"testapp_pernamemodel_name_number_uniq"},
    }
    for model, names in expected.items():
        assert {c.name for c in model._meta.constraints} == names, model
        state = ModelState.from_model(model)
        assert {c.name for c in state.options["constraints"]} == names, model


def test_django_reads_a_plain_fields_number_back_from_its_insert():
    """``ReturnedByInsert``: Django's ``db_returning_fields`` lists a plain number field
    (its INSERT takes the number on PostgreSQL), never a formatted one."""
    plain = SimpleModel._meta.get_field("number")
    formatted = Invoice._meta.get_field("invoice_number")
    assert plain.db_returning and not formatted.db_returning
    assert plain in SimpleModel._meta.db_returning_fields
    assert formatted not in Invoice._meta.db_returning_fields


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_mark_follows_its_transaction_through_on_commit_alone():
    """No reference cycle keeps a mark's callback alive: garbage collection is off."""
    gc.disable()
    try:
        assert state.Mark("default").status() == state.COMMITTED  # autocommit
        with transaction.atomic():
            kept = state.Mark("default")
            with transaction.atomic():
                released = state.Mark("default")
            try:
                with transaction.atomic():
                    dropped = state.Mark("default")
                    raise Boom
            except Boom:
                pass
            assert kept.status() == released.status() == state.LIVE
            assert dropped.status() == state.ROLLED_BACK
            assert copy.copy(kept) is kept and copy.deepcopy(kept) is kept
            unpickled = pickle.loads(pickle.dumps(kept))
            assert unpickled.status() == state.ROLLED_BACK  # never LIVE: nothing can commit it
        assert kept.status() == released.status() == state.COMMITTED
        assert pickle.loads(pickle.dumps(kept)).status() == state.COMMITTED
        try:
            with transaction.atomic():
                lost = state.Mark("default")
                raise Boom
        except Boom:
            pass
        assert lost.status() == state.ROLLED_BACK
    finally:
        gc.enable()
