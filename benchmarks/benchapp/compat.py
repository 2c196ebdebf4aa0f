"""What the installed docnumbers offers, so that the benchmarks run on older cores too."""

import inspect

from docnumbers import AutoSequenceField

#: Whether ``AutoSequenceField(late=True)`` exists in this version of docnumbers.
LATE_AVAILABLE = "late" in inspect.signature(AutoSequenceField.__init__).parameters

#: The options of the "docnumbers late" field: ``late=True`` where it exists, else none
#: (the variant then reports "not available" instead of measuring the default twice).
LATE_KWARGS = {"late": True} if LATE_AVAILABLE else {}
