"""What docnumbers remembers on a model instance between its save and its COMMIT.

One object per instance, in ``instance.__dict__`` (so it is pickled with the
instance, and never becomes a model attribute). It knows which instance it
belongs to: a copy (``copy.copy`` shares the object, ``deepcopy`` and pickling
duplicate it) gets its own copy on first use, so a copy's save never changes
what the original knows. ``numbering`` writes
it, and ``late`` records what COMMIT will fill in.

A number taken in a transaction that rolled back is not this document's number
any more: every record carries the ``Mark`` of the transaction that made it, so
a later save can tell "still mine" (committed, or the same transaction is still
open) from "given back" (rolled back, a savepoint included).
"""

from __future__ import annotations

import dataclasses

from django.db import connections, transaction

_ATTRIBUTE = "_docnumbers_state"

LIVE, COMMITTED, ROLLED_BACK = "live", "committed", "rolled back"


class Mark:
    """Stands for the transaction (or savepoint) a number was taken in."""

    __slots__ = ("using", "committed", "__weakref__")

    def __init__(self, using: str):
        self.using = using
        self.committed = False
        # Runs at once in autocommit mode; dropped with a rolled-back savepoint.
        transaction.on_commit(self._commit, using=using)

    def _commit(self):
        self.committed = True

    # A Mark stands for one transaction: copies of an instance share it.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def status(self) -> str:
        """COMMITTED, LIVE (its transaction is still open) or ROLLED_BACK."""
        if self.committed:
            return COMMITTED
        # Django keeps the callbacks of the open transaction and its savepoints
        # here, and drops those of whatever rolls back.
        pending = connections[self.using].run_on_commit
        for entry in reversed(pending):
            if entry[1] == self._commit:
                return LIVE
        return ROLLED_BACK


@dataclasses.dataclass(slots=True)
class Issued:
    """A number docnumbers gave an instance: where from, and what it read as."""

    number: int
    mark: Mark | None
    key: object = None
    text: str | None = None
    #: The primary key of the row that stored it, once saved.
    pk: object = None
    #: Taken from the counter (False: an explicit number, kept as given).
    taken: bool = True
    #: Taken for the row's INSERT (False: a draft posted by an UPDATE, #21): a
    #: rollback then undid the row too.
    on_insert: bool = True

    def given_back(self) -> bool:
        return self.mark is not None and self.mark.status() == ROLLED_BACK


@dataclasses.dataclass(slots=True)
class State:
    """Per instance: the numbers docnumbers issued, and late numbers not yet issued."""

    #: field name -> the number docnumbers issued (or kept, for explicit values).
    issued: dict[str, Issued] = dataclasses.field(default_factory=dict)
    #: late field name -> the transaction whose COMMIT writes its number.
    late: dict[str, Mark] = dataclasses.field(default_factory=dict)
    #: field name -> the key of a number its INSERT takes (PostgreSQL, a plain field);
    #: ``numbering.saved`` makes it an Issued record once the INSERT returned it.
    inserting: dict = dataclasses.field(default_factory=dict)
    #: late field names prepared by an UPDATE (a draft posted, #21): a rollback of that
    #: transaction leaves the row stored, a draft again.
    late_on_update: set = dataclasses.field(default_factory=set)
    #: set by ``renumber``: the next save may change what the number depends on.
    renumbering: bool = False
    #: ``id()`` of the instance this state belongs to.
    owner: int = 0

    def fork(self, owner: int) -> State:
        """A copy of this state for another instance (a copy of the owner)."""
        return State(
            issued={name: dataclasses.replace(r) for name, r in self.issued.items()},
            late=dict(self.late),
            inserting=dict(self.inserting),
            late_on_update=set(self.late_on_update),
            owner=owner,
        )

    def number_of(self, field) -> int | None:
        record = self.issued.get(field.name)
        return record.number if record is not None else None


def of(instance) -> State:
    """The State of ``instance``, created on first use."""
    state = peek(instance)
    if state is None:
        state = instance.__dict__[_ATTRIBUTE] = State(owner=id(instance))
    return state


def peek(instance) -> State | None:
    """The State of ``instance`` if it has one, without creating it."""
    state = instance.__dict__.get(_ATTRIBUTE)
    if state is not None and state.owner != id(instance):
        # Copied from another instance: from now on, this one's own.
        state = instance.__dict__[_ATTRIBUTE] = state.fork(id(instance))
    return state
