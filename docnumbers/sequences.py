"""The django-sequences API, so that its users switch by changing one import.

``from sequences import get_next_value`` becomes ``from docnumbers import get_next_value``;
names, signatures and semantics are those django-sequences documents (values live in
docnumbers' counter table). The differences, on purpose, are listed in the README
("Numbers without a field"): a batch of 0 does not start a sequence, a negative batch
and arguments that are not ints are refused, ``delete`` keeps a sequence with an audit
history and refuses a field's counter.
"""

from __future__ import annotations

from . import allocation


def _check_values(initial_value, reset_value=None):
    allocation.check_int("initial_value", initial_value)
    if reset_value is not None:
        allocation.check_int("reset_value", reset_value)
        if not initial_value < reset_value:
            raise ValueError(
                f"reset_value ({reset_value}) must be greater than initial_value ({initial_value})."
            )


def get_last_value(sequence_name="default", *, using=None):
    """Return the last value of a sequence, or None if it has none."""
    return allocation.last_value(sequence_name, using=using)


def get_next_value(
    sequence_name="default", initial_value=1, reset_value=None, *, nowait=False, using=None
):
    """Return the next value of a sequence (``initial_value`` for a new one).

    When the value would reach ``reset_value`` (exclusive), it is ``initial_value`` again.
    """
    _check_values(initial_value, reset_value)
    return allocation.take(
        sequence_name,
        1,
        start_at=initial_value,
        reset_value=reset_value,
        nowait=nowait,
        using=using,
    )[1]


def get_next_values(
    batch_size, sequence_name="default", initial_value=1, *, nowait=False, using=None
):
    """Return the next ``batch_size`` values of a sequence as a range, in one statement.

    A new sequence starts at ``initial_value``. There is no ``reset_value``: a batch
    does not wrap. A batch of 0 is an empty range that starts where the next value
    would, and takes nothing (a new sequence is not started). A negative batch is refused.
    """
    allocation.check_int("batch_size", batch_size)
    _check_values(initial_value)
    if batch_size < 0:
        raise ValueError(f"batch_size must be 0 or more, not {batch_size}.")
    if batch_size == 0:
        last = allocation.last_value(sequence_name, using=allocation._using(using))
        start = initial_value if last is None else last + 1
        return range(start, start)
    return allocation.next_values(
        sequence_name, batch_size, start_at=initial_value, nowait=nowait, using=using
    )


def delete(sequence_name="default", *, using=None):
    """Delete a sequence; return whether it existed.

    Refuses (ProtectedError) a sequence whose counter has recorded changes or gap
    explanations, the audit trail, and (ValueError) the counter of an
    AutoSequenceField, which would restart that field's numbers.
    """
    return allocation.delete_counter(sequence_name, using=using)


class Sequence:
    """A named sequence: an iterator of gapless values."""

    def __init__(self, sequence_name="default", initial_value=1, reset_value=None, *, using=None):
        _check_values(initial_value, reset_value)
        self.sequence_name = sequence_name
        self.initial_value = initial_value
        self.reset_value = reset_value
        self.using = using

    def get_last_value(self):
        """Return the last value of the sequence, or None."""
        return get_last_value(self.sequence_name, using=self.using)

    def get_next_value(self, *, nowait=False):
        """Return the next value of the sequence."""
        return get_next_value(
            self.sequence_name,
            self.initial_value,
            self.reset_value,
            nowait=nowait,
            using=self.using,
        )

    def get_next_values(self, batch_size, *, nowait=False):
        """Return the next ``batch_size`` values as a range; the sequence's reset_value
        does not apply to batches (as in django-sequences)."""
        return get_next_values(
            batch_size, self.sequence_name, self.initial_value, nowait=nowait, using=self.using
        )

    def delete(self):
        """Delete the sequence; return whether it existed."""
        return delete(self.sequence_name, using=self.using)

    def __iter__(self):
        return self

    def __next__(self):
        return self.get_next_value()
