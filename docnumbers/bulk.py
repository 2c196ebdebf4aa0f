"""Numbering for ``QuerySet.bulk_create``: one counter statement per sequence key.

Django calls ``Field.pre_save`` once per object while it compiles a bulk
INSERT, too late to number a batch at once. So docnumbers wraps
``QuerySet.bulk_create`` (once, when the app is ready): for a model with an
AutoSequenceField it numbers every object first, inside the same transaction
as the INSERT, and leaves every other model's bulk_create untouched.
"""

from __future__ import annotations

import functools

from django.db import transaction
from django.db.models import QuerySet

from . import late, numbering
from .fields import sequence_fields

_original = QuerySet.bulk_create


@functools.wraps(_original)
def bulk_create(self, objs, *args, **kwargs):
    fields = sequence_fields(self.model)
    if not fields:
        return _original(self, objs, *args, **kwargs)
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
        created = _original(self, objs, *args, **kwargs)
        for field in fields:
            for obj in objs:
                numbering.saved(field, obj, using)
        if any(field.late for field in fields):
            # Late fields on PostgreSQL: hand the prepared numbers to the COMMIT trigger.
            late.queue(objs, using)
        return created


bulk_create.alters_data = True


def install():
    """Wrap QuerySet.bulk_create; calling it again does nothing."""
    if QuerySet.bulk_create is not bulk_create:
        QuerySet.bulk_create = bulk_create
