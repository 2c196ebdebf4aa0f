"""The django-sequences API, so that its users switch by changing one import.

``from sequences import get_next_value`` becomes ``from docnumbers import get_next_value``;
names, signatures and semantics are the same (values live in docnumbers' counter table).
"""

from __future__ import annotations

from . import allocation


def _check_reset(initial_value, reset_value):
    if reset_value is not None and not initial_value < reset_value:
        raise ValueError(
            f"reset_value ({reset_value}) must be greater than initial_value ({initial_value})."
        )


def get_last_value(sequence_name="default", *, using=None):
    """Return the last value of a sequence, or None if it has none."""
    return allocation.last_value(sequence_name, using=using)


def get_next_value(
    sequence_name="default", initial_value=1, reset_value=None, *, nowait=False, using=None
):
    """Return the next value of a sequence; ``reset_value`` (exclusive) wraps to initial_value."""
    _check_reset(initial_value, reset_value)
    return allocation.take(
        sequence_name,
        1,
        start_at=initial_value,
        reset_value=reset_value,
        nowait=nowait,
        using=using,
    )[1]


def get_next_values(
    batch_size=1, sequence_name="default", initial_value=1, *, nowait=False, using=None
):
    """Return the next ``batch_size`` values of a sequence as a range."""
    return allocation.next_values(
        sequence_name, batch_size, start_at=initial_value, nowait=nowait, using=using
    )


def delete(sequence_name="default", *, using=None):
    """Delete a sequence; return whether it existed."""
    return allocation.delete_counter(sequence_name, using=using)


class Sequence:
    """A named sequence: an iterator of gapless values."""

    def __init__(self, sequence_name="default", initial_value=1, reset_value=None, *, using=None):
        _check_reset(initial_value, reset_value)
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

    def get_next_values(self, batch_size=1, *, nowait=False):
        """Return the next ``batch_size`` values of the sequence as a range."""
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
