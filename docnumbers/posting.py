"""Posting many drafts at once: ``docnumbers.issue(queryset, **changes)`` (#21).

Accountants post a day's drafts together, in date order. ``issue`` applies the
changes that make a draft final (``status="posted"``) to the drafts of a queryset,
and issues their numbers in (date, primary key) order with one counter statement
per sequence key, inside the caller's transaction.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from . import drafts, numbering, state, tracking
from .exceptions import DocnumbersError
from .fields import sequence_fields


def issue(queryset, **changes) -> int:
    """Apply ``changes`` to the drafts of ``queryset`` and issue their numbers; return how many.

    A draft is a row of a field declared with ``issue_when`` whose number is empty.
    The drafts are locked (``select_for_update``), changed, and numbered in
    (date, primary key) order, so a chronological series never sees a later number
    with an earlier date. Drafts whose condition still does not hold after
    ``changes`` stay drafts (and unchanged). Runs inside the caller's transaction
    (its own one in autocommit mode): a rollback gives every number back.
    """
    model = queryset.model
    fields = [f for f in sequence_fields(model) if f.issue_when is not None]
    if not fields:
        raise DocnumbersError(
            f"{model._meta.label} has no AutoSequenceField with issue_when: it has no drafts "
            "to issue. Declare AutoSequenceField(..., issue_when=Q(...)) first."
        )
    meta = model._meta
    for name in changes:
        meta.get_field(name)  # FieldDoesNotExist names a typo
    using = queryset.db
    issued = 0
    with transaction.atomic(using=using, savepoint=False):
        for field in fields:
            issued += _issue(queryset, field, changes, using)
    return issued


def _issue(queryset, field, changes, using) -> int:
    meta = field.model._meta
    order = []
    if field.date_field:
        order.append(F(field.date_field).asc())
    order.append(F(meta.pk.attname).asc())
    # Locking rows of the queryset's own shape (joins, distinct) is not always allowed:
    # lock the primary keys it selects, in a plain query on the table.
    pks = list(queryset.filter(**{f"{field.attname}__isnull": True}).values_list("pk", flat=True))
    if not pks:
        return 0
    rows = (
        queryset.model._base_manager.using(using)
        .select_for_update()
        .filter(pk__in=pks, **{f"{field.attname}__isnull": True})
        .order_by(*order)
    )
    documents = list(rows)
    for document in documents:
        for name, value in changes.items():
            setattr(document, name, value)
    chosen = drafts.issuable(field, documents, using)
    if not chosen:
        return 0
    for document in chosen:
        numbering.settle(field, document, using)
    numbering.number_all(field, chosen, using)
    columns = [meta.get_field(name).name for name in changes]
    columns.append(field.name)
    if field.format_code is not None:
        columns += [field.display_name, field.counter_name]
    if field.series_field and field.series_field not in columns:
        columns.append(field.series_field)
    model = queryset.model
    manager = model._base_manager.using(using)
    if field.late and any(field.name in state.of(d).late for d in chosen):
        # Numbered at COMMIT, in the order the rows were updated: one UPDATE per row, in
        # (date, pk) order.
        attnames = [meta.get_field(name).attname for name in columns]
        for document in chosen:
            values = {name: document.__dict__.get(name) for name in attnames}
            manager.filter(pk=document.pk).update(**values)
    else:
        manager.bulk_update(chosen, columns)
    for document in chosen:
        numbering.saved(field, document, using)
        tracking.remember(document)  # what a later save compares with
    return len(chosen)
