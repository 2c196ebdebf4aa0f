"""The Django internals docnumbers cannot do without, each wrapped here once, with why.

Four, no more (issue 20): ``Model._do_update`` (``guard_updates``),
``Manager._queryset_class`` (``number_bulk_creates``), ``Options.original_attrs``
(``add_model_constraints``) and ``Field.db_returning`` (``ReturnedByInsert``).
Everything else docnumbers does goes through public
Django APIs. Each has a test that runs on every supported Django version
(tests/test_compat.py).
"""

from __future__ import annotations

import functools
import sys


def guard_updates(model, expected, refused) -> None:
    """Make the UPDATE of ``model``'s saves conditional on ``expected(instance, table_model)``.

    Why no public way: ``Model.save()`` builds its UPDATE in ``Model._do_update``
    with a ``WHERE`` on the primary key only, and offers no hook to add a
    condition. A stale instance would then silently put back a number that was
    renumbered meanwhile (issue 18). Wrapping ``_do_update`` for the models that
    carry a numbered field (as django-concurrency does for its version field)
    adds the loaded values to that ``WHERE``: compare-and-set in the same
    statement, no extra query. ``expected`` returns the filters (attname ->
    value) or {} for none; when the UPDATE then matches no row although the row
    exists, ``refused(instance)`` raises. Only the first positional argument
    (``base_qs``) is read, so the signature changes of later Django versions
    (``returning_fields`` in 6.0) pass through.
    """
    original = model._do_update
    if getattr(original, "_docnumbers_guard", False):
        return  # inherited from a parent that has it already

    @functools.wraps(original)
    def _do_update(self, base_qs, *args, **kwargs):
        conditions = expected(self, base_qs.model)
        if not conditions:
            return original(self, base_qs, *args, **kwargs)
        updated = original(self, base_qs.filter(**conditions), *args, **kwargs)
        pk_val = args[1] if len(args) > 1 else kwargs["pk_val"]
        if not updated and base_qs.filter(pk=pk_val).exists():
            refused(self)
        return updated

    _do_update._docnumbers_guard = True
    model._do_update = _do_update


def number_bulk_creates(model, queryset_mixin) -> None:
    """Give the managers of ``model`` a QuerySet class with ``queryset_mixin`` in front.

    Why no public way: Django sends no signal before ``bulk_create`` and calls
    ``Field.pre_save`` one object at a time while it compiles the INSERT, so a
    batch cannot be numbered in one statement per key from the field. Users call
    ``bulk_create`` on the managers their models already have (``objects``), so
    the QuerySet class those managers build (``Manager._queryset_class``, set by
    ``from_queryset``) gets the mixin, for numbered models only: their own
    managers, those they inherit (copied per model by ``Options.managers``) and
    the copies already made. The mixin falls through for a model without a
    numbered field (an abstract parent's manager serves all its children).
    """
    managers = [
        m for base in model.__mro__ if hasattr(base, "_meta") for m in base._meta.local_managers
    ]
    for manager in [*managers, *model._meta.managers]:
        current = manager._queryset_class
        if not issubclass(current, queryset_mixin):
            manager._queryset_class = _numbering_class(current, queryset_mixin)


def _numbering_class(queryset_class, mixin):
    """One subclass per QuerySet class, named in this module so that querysets pickle."""
    name = f"Numbering_{queryset_class.__module__}_{queryset_class.__qualname__}"
    name = "".join(c if c.isalnum() else "_" for c in name)
    module = sys.modules[__name__]
    made = getattr(module, name, None)
    if made is None:
        made = type(name, (mixin, queryset_class), {"__module__": __name__})
        made.__qualname__ = name
        setattr(module, name, made)
    return made


def add_model_constraints(model, constraints) -> None:
    """Add ``constraints`` to ``model``'s, for the model and for its migrations.

    Why no public way: a field cannot declare constraints of its model, and
    ``Meta.constraints`` is read once, when the class is created. Appending to
    ``_meta.constraints`` (a public attribute) reaches the checks, ``full_clean()``
    and the schema editor, but not migrations: ``ModelState.from_model`` copies
    ``_meta.constraints`` only when ``constraints`` is among the options the
    model's ``Meta`` declared, which it reads from ``_meta.original_attrs``. So
    both are set, to the same list (also when nothing is added: an option listed
    with no constraint is what a migration state has anyway).
    """
    meta = model._meta
    meta.constraints = [*meta.constraints, *constraints]
    meta.original_attrs["constraints"] = meta.constraints


class ReturnedByInsert:
    """For ``AutoSequenceField``: ``returned_by_insert`` tells Django to read the column back
    from the INSERT (``RETURNING``), where the database can.

    Why no public way: a plain field's save on PostgreSQL takes its number inside its own
    INSERT (``allocation.in_insert``: one statement instead of two), and Django reads a
    column back from an INSERT only for the fields whose ``db_returning`` is true
    (``Options.db_returning_fields``), a property Django documents as its own. Django 5.0's
    ``db_default`` returns a column too, but only a constant default, and not on 4.2.
    """

    returned_by_insert = False

    @property
    def db_returning(self) -> bool:
        return self.returned_by_insert
