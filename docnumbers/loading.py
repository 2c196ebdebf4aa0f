"""What ``loaddata`` needs: rows that arrive raw, with ids of another database.

``loaddata`` writes rows as the fixture has them (``raw=True``): no ``save()``,
no numbering. Receivers of ``pre_save`` and ``post_save``, connected by
``apps.ready``, fit them to this database:

- a Counter gets the key this database's numbering computes from its columns
  (the series id inside a key differs between databases), and never goes below
  the value its row already holds here (loading an older dump again must not
  reissue numbers);
- a numbered row whose ``<name>_counter`` is not (yet) a counter of its own field
  and scope here is written with that link empty. If the counter arrives later in
  the same load (a dump without natural keys lists the project's app before
  docnumbers), the link is set again then; otherwise (a dump of the project's app
  alone carries counter ids of the database it came from) the row stays
  unattributed, and ``docnumbers sync --apply`` attributes it.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict

from django.db import transaction
from django.db.models.signals import post_save, pre_save

from . import allocation, keys, registry


def _counter_model():
    # Inner import because models cannot be imported before their application.
    from .models import Counter

    return Counter


def counter_loaded(sender, instance, raw=False, using=None, **kwargs):
    """pre_save of Counter: a loaded row gets this database's key, and never goes back."""
    if not raw or not instance.sequence:
        return
    instance.key = keys.key_text(
        instance.sequence, instance.number_format_id, instance.scope, instance.period
    )
    if instance.pk is not None:
        instance.value = allocation.loaded_value(instance.pk, instance.key, instance.value, using)


class _Load:
    """One load's rows waiting for their counter, and its ``on_commit`` callback.

    Only the connection holds it strongly (``_loads`` keeps a weak reference), and
    it refers to no object that refers back to it: when the load's transaction
    rolls back Django drops it, and it is gone at once; when it commits, Django
    runs it (``done``) and lets go of it.
    """

    __slots__ = ("waiting", "done", "__weakref__")

    def __init__(self):
        #: counter id -> [(field, sequence, instance, scope)]
        self.waiting = defaultdict(list)
        self.done = False

    def __call__(self):
        self.done = True


#: Per thread (a connection is per thread): alias -> weak reference to the current _Load.
_loads = threading.local()


def _waiting(using) -> dict:
    """Rows of the load in progress on ``using`` whose counter was not there yet:
    counter id -> [(field, sequence, instance, scope)].

    A load is what one transaction writes (``loaddata`` runs in ``atomic``): a new
    one begins when the previous load's transaction committed (its callback ran)
    or rolled back (its callback is gone), and the rows the previous one kept
    waiting are forgotten.
    """
    held = getattr(_loads, "by_alias", None)
    if held is None:
        held = _loads.by_alias = {}
    reference = held.get(using)
    load = reference() if reference is not None else None
    if load is None or load.done:
        load = _Load()
        held[using] = weakref.ref(load)
        transaction.on_commit(load, using=using)
    return load.waiting


def _row_loaded(fields):
    def receiver(sender, instance, raw=False, using=None, **kwargs):
        """pre_save of a numbered model: a loaded row keeps only a counter link of its own."""
        if not raw:
            return
        counters = _counter_model()._default_manager.using(using)
        for field, sequence, scope_fields in fields:
            attname = f"{field.counter_name}_id"
            counter_id = getattr(instance, attname)
            if counter_id is None:
                continue
            scope = keys.scope_text(keys.scope_of(instance, scope_fields))
            if not counters.filter(pk=counter_id, sequence=sequence, scope=scope).exists():
                setattr(instance, attname, None)
                _waiting(using)[counter_id].append((field, sequence, instance, scope))

    return receiver


def counter_arrived(sender, instance, raw=False, using=None, **kwargs):
    """post_save of Counter: link the rows of this load that were waiting for it."""
    if not raw:
        return
    rows = defaultdict(list)
    for field, sequence, row, scope in _waiting(using).pop(instance.pk, ()):
        if (sequence, scope) == (instance.sequence, instance.scope):
            rows[field].append(row.pk)
    for field, pks in rows.items():
        field.model._base_manager.using(using).filter(
            pk__in=pks, **{f"{field.counter_name}__isnull": True}
        ).update(**{field.counter_name: instance.pk})


def connect() -> None:
    """Connect the receivers: Counter, and every model with a formatted field."""
    pre_save.connect(
        counter_loaded, sender="docnumbers.Counter", dispatch_uid="docnumbers.counter_loaded"
    )
    post_save.connect(
        counter_arrived, sender="docnumbers.Counter", dispatch_uid="docnumbers.counter_arrived"
    )
    by_model = defaultdict(list)
    for field in registry.fields():
        if field.format_code is not None:
            model = field.model
            scope_fields = [model._meta.get_field(name) for name in field.unique_with]
            by_model[model].append((field, keys.sequence_label(model, field.name), scope_fields))
    for model, fields in by_model.items():
        pre_save.connect(
            _row_loaded(fields),
            sender=model,
            weak=False,
            dispatch_uid=f"docnumbers.row_loaded.{model._meta.label}",
        )
