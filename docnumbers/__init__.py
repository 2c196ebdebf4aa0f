"""docnumbers: document numbers people and auditors can trust.

The public API. Fields and formats import without the app registry; the
functions that touch counters import their models on first call.
"""

from .allocation import last_value, next_value, next_values
from .exceptions import (
    CounterLocked,
    CounterMoveRefused,
    CounterOverflow,
    DateOutOfRange,
    DocnumbersError,
    FormatMissing,
    NumberCollision,
    NumberFrozen,
    NumberOutOfOrder,
    SeriesMismatch,
    StaleDocument,
    TemplateError,
)
from .fields import AutoSequenceField
from .formatting import Format, Reset
from .ordering import number_ordering
from .posting import issue
from .renumbering import renumber
from .sequences import Sequence, delete, get_last_value, get_next_value, get_next_values

__version__ = "0.1.0"

__all__ = [
    "AutoSequenceField",
    "CounterLocked",
    "CounterMoveRefused",
    "CounterOverflow",
    "DateOutOfRange",
    "DocnumbersError",
    "Format",
    "FormatMissing",
    "NumberFrozen",
    "NumberCollision",
    "NumberOutOfOrder",
    "Reset",
    "Sequence",
    "SeriesMismatch",
    "StaleDocument",
    "TemplateError",
    "delete",
    "get_last_value",
    "get_next_value",
    "get_next_values",
    "issue",
    "last_value",
    "next_value",
    "next_values",
    "number_ordering",
    "renumber",
]
