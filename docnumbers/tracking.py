"""What an instance was loaded with: its numbers, their texts and counters, and what they
depend on, snapshotted when the instance is made (``post_init``, as django-model-utils'
FieldTracker does) and again after each save.

A save compares in memory (no query) to tell what the user changed, and its UPDATE is
made conditional on the snapshot (``_compat.guard_updates``), so it never overwrites a
number that changed in the database since. A deferred field is ``NOT_LOADED``: "not
known", never "empty".
"""

from __future__ import annotations

_ATTRIBUTE = "_docnumbers_loaded"


class _NotLoaded:
    __slots__ = ()

    def __repr__(self):
        return "NOT_LOADED"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return "NOT_LOADED"


#: The value of a deferred field in a snapshot.
NOT_LOADED = _NotLoaded()


def remember(instance, only=None) -> None:
    """Snapshot what ``instance`` holds now; with ``only`` (attnames), just those values.

    The snapshot is replaced, never changed in place, so copies of an instance
    (which share it) never see each other's saves.
    """
    values = instance.__dict__
    if only is None or _ATTRIBUTE not in values:
        # A copy of the whole __dict__ costs less than picking the names one by one
        # (this runs for every instance a query builds); a name it lacks is not loaded.
        snapshot = values.copy()
        snapshot.pop(_ATTRIBUTE, None)
    else:
        snapshot = dict(values[_ATTRIBUTE])
        for name in only:
            snapshot[name] = values.get(name, NOT_LOADED)
    values[_ATTRIBUTE] = snapshot


def update(instance, known: dict) -> None:
    """Record that the database holds ``known`` (attname -> value) for ``instance``."""
    snapshot = dict(instance.__dict__.get(_ATTRIBUTE) or {})
    snapshot.update(known)
    instance.__dict__[_ATTRIBUTE] = snapshot


def forget(instance, names) -> None:
    """Record that what the database holds for ``names`` is not known any more."""
    snapshot = dict(instance.__dict__.get(_ATTRIBUTE) or {})
    for name in names:
        snapshot.pop(name, None)
    instance.__dict__[_ATTRIBUTE] = snapshot


def loaded(instance) -> dict:
    """attname -> the value ``instance`` was loaded (or last saved) with; {} if unknown."""
    return instance.__dict__.get(_ATTRIBUTE) or {}


def changed(instance, names) -> list[str]:
    """The attnames among ``names`` whose value differs from the snapshot.

    A value that is not loaded now is unchanged; one that was not loaded then but
    is now (a deferred field read or set since) counts as changed: only the
    database knows.
    """
    snapshot = loaded(instance)
    values = instance.__dict__
    found = []
    for name in names:
        if name not in values:
            continue
        was = snapshot.get(name, NOT_LOADED)
        if was is NOT_LOADED or was != values[name]:
            found.append(name)
    return found
