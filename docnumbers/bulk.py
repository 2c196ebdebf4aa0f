"""Numbering for ``bulk_create``: one counter statement per sequence key.

Django calls ``Field.pre_save`` once per object while it compiles a bulk
INSERT, too late to number a batch at once, and sends no signal before it. So
the querysets of numbered models (and only theirs) are ``NumberingQuerySet``s:
``Model.objects.bulk_create`` numbers every object first, inside the same
transaction as the INSERT. ``_compat.number_bulk_creates`` gives each numbered
model's managers this queryset; a project can also use it in its own managers
(``NumberingQuerySet.as_manager()``).
"""

from __future__ import annotations

from django.db import models, transaction

from . import numbering, registry


class NumberingQuerySet(models.QuerySet):
    """A QuerySet whose ``bulk_create`` numbers the batch, one statement per key."""

    def bulk_create(self, objs, *args, **kwargs):
        fields = registry.of_model(self.model)
        if not fields:
            return super().bulk_create(objs, *args, **kwargs)
        objs = list(objs)
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            names = ", ".join(f.name for f in fields)
            raise ValueError(
                f"bulk_create(ignore_conflicts/update_conflicts) on {self.model._meta.label} "
                f"would burn numbers of {names} for rows it skips or updates, leaving gaps. "
                "Create the new rows without those options, or give them explicit numbers "
                "with plain bulk_create."
            )
        using = self.db  # a property that asks the routers: once, not once per object
        with transaction.atomic(using=using, savepoint=False):
            for field in fields:
                for obj in objs:  # what a save's pre_save signal does, once per object
                    numbering.settle(field, obj, using)
                numbering.number_all(field, objs, using)
            created = super().bulk_create(objs, *args, **kwargs)
            for field in fields:
                for obj in objs:
                    numbering.saved(field, obj, using)
            return created

    bulk_create.alters_data = True
