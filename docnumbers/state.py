"""What docnumbers remembers on a model instance between its save and its COMMIT.

One object per instance, in ``instance.__dict__`` (so it is copied and pickled
with the instance, and never becomes a model attribute). ``numbering`` writes
it, ``late`` reads the prepared entries and records what COMMIT will fill in.
"""

from __future__ import annotations

import dataclasses

_ATTRIBUTE = "_docnumbers_state"


@dataclasses.dataclass
class Prepared:
    """A late number to be issued at COMMIT: its counter key and the text around it."""

    field: object
    key: object
    series_id: int | None
    prefix: str = ""
    suffix: str = ""
    padding: int = 0


@dataclasses.dataclass
class State:
    """Per instance: the numbers docnumbers issued, and late numbers not yet issued."""

    #: field name -> the number docnumbers issued (or kept, for explicit values).
    issued: dict[str, int] = dataclasses.field(default_factory=dict)
    #: late numbers prepared in pre_save, queued after the INSERT.
    prepared: list[Prepared] = dataclasses.field(default_factory=list)
    #: names of late fields whose number the COMMIT trigger writes.
    late: set[str] = dataclasses.field(default_factory=set)

    def is_prepared(self, field) -> bool:
        return any(p.field is field for p in self.prepared)


def of(instance) -> State:
    """The State of ``instance``, created on first use."""
    state = instance.__dict__.get(_ATTRIBUTE)
    if state is None:
        state = instance.__dict__[_ATTRIBUTE] = State()
    return state


def peek(instance) -> State | None:
    """The State of ``instance`` if it has one, without creating it."""
    return instance.__dict__.get(_ATTRIBUTE)
