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
import weakref

from django.db import connections

_ATTRIBUTE = "_docnumbers_state"

LIVE, COMMITTED, ROLLED_BACK = "live", "committed", "rolled back"


class _Commit:
    """The on_commit callback of a Mark: sets the flag it shares with the Mark.

    Only the connection holds it strongly. It refers to nothing but the flag (a
    list, never the Mark nor anything that refers back to it): in no reference
    cycle, it is freed the moment Django lets go of it, not at some later garbage
    collection.
    """

    __slots__ = ("flag", "__weakref__")

    def __init__(self, flag: list):
        self.flag = flag

    def __call__(self):
        self.flag[0] = True


class Mark:
    """Stands for the transaction (or savepoint) a number was taken in.

    It hands Django one callback (``transaction.on_commit``), a ``_Commit`` only
    the connection holds, and keeps a weak reference to it plus the flag it sets:

    - flag set: COMMITTED (in autocommit mode the callback runs at once);
    - flag unset, callback still alive: LIVE. Django keeps the callbacks of the
      open transaction and of its savepoints, released ones included, until the
      outermost COMMIT runs them;
    - flag unset, callback gone: ROLLED_BACK. Django drops the callbacks of
      whatever rolls back (a savepoint, the transaction) or of a connection that
      closes, and nothing else held this one.

    Copies of an instance share its Mark (``copy`` and ``deepcopy`` return it). A
    pickled Mark keeps its flag only: unpickled, it holds no callback, so one that
    had not committed says ROLLED_BACK, never LIVE (no transaction of this
    process can commit it).
    """

    __slots__ = ("using", "_flag", "_callback", "__weakref__")

    def __init__(self, using: str, connection=None):
        """``connection``: the connection of ``using``, when the caller has it at hand."""
        self.using = using
        self._flag = [False]
        callback = _Commit(self._flag)
        self._callback = weakref.ref(callback)
        (connection or connections[using]).on_commit(callback)

    @property
    def committed(self) -> bool:
        return self._flag[0]

    # A Mark stands for one transaction: copies of an instance share it.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __getstate__(self):
        return {"using": self.using, "committed": self.committed}

    def __setstate__(self, state):
        self.using = state["using"]
        self._flag = [state["committed"]]
        self._callback = None

    def status(self) -> str:
        """COMMITTED, LIVE (its transaction is still open) or ROLLED_BACK."""
        if self.committed:
            return COMMITTED
        if self._callback is not None and self._callback() is not None:
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


def issued_columns(field) -> list[str]:
    """The attnames that hold an issued number: the number, its text and its counter."""
    if field.format_code is None:
        return [field.attname]
    return [field.attname, field.display_name, f"{field.counter_name}_id"]


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
