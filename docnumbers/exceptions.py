"""Every exception docnumbers raises, in one place."""

from django.core.exceptions import ValidationError
from django.db.utils import IntegrityError, OperationalError


class DocnumbersError(Exception):
    """Base class of the errors that are docnumbers' own."""


class TemplateError(DocnumbersError, ValueError):
    """A prefix or suffix template, or a format's settings, cannot be used.

    ``code`` says which setting is wrong (``"padding"``, ``"reset"``,
    ``"fiscal_month"``, ``"unknown_token"``, ...), so that a form can attach the
    message to the right field.
    """

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


class DateOutOfRange(TemplateError, ValidationError):
    """A document's date cannot be numbered: it lies outside ``DOCNUMBERS_DATE_RANGE``
    (1900-2999 by default: most likely a typo), or in a fiscal year that leaves the
    calendar (it starts before year 1 or ends after 9999).

    A TemplateError, and a ValidationError too, so that ``full_clean()``, forms and
    the admin show the message wherever a check meets such a date; ``field`` names
    the date field when it is known.
    """

    def __init__(self, message: str, code: str = "date_range", field: str | None = None):
        TemplateError.__init__(self, message, code)
        ValidationError.__init__(self, message, code=code)
        self.field = field

    def __str__(self):
        return self.message


class CounterLocked(OperationalError):
    """``nowait=True`` was asked and another transaction holds the counter row.

    A subclass of Django's OperationalError, so code written for django-sequences,
    which catches that, keeps working.
    """


class FormatMissing(DocnumbersError, LookupError):
    """A field's format code has no active NumberFormat and no declared defaults."""


class SeriesMismatch(DocnumbersError, ValueError):
    """A document's series (its ``series_field``) belongs to another format code."""


class NumberFrozen(DocnumbersError, ValueError):
    """A save would change what an issued number depends on (its scope, series,
    period or the number itself); ``docnumbers.renumber`` is the audited way."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.message = message
        #: (field name, message) pairs, as ``full_clean`` reports them.
        self.problems = problems or []


class StaleDocument(NumberFrozen):
    """A save was refused because the document's number, text or counter changed in the
    database since the instance was loaded (a renumber, or another transaction's save);
    load it again and repeat the change."""


class CounterOverflow(DocnumbersError, OverflowError):
    """A counter or an explicit number would leave the 64-bit signed range."""


class CounterMoveRefused(DocnumbersError, ValueError):
    """A counter move was refused: it would reissue numbers, or the counter moved meanwhile.

    ``field`` names the input the refusal concerns (``"next_value"``, ``"reason"`` or
    None for the whole request), so that a form can show it in the right place.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class AuditInputError(DocnumbersError, ValueError):
    """A target, date or range given to the audit does not name something that exists."""


class NumberCollision(DocnumbersError, IntegrityError):
    """A number about to be issued would read like one already stored in its scope.

    Raised at issue time when a format's settings were changed without validation
    (for example with ``QuerySet.update()``) so that a new counter's first number
    repeats a stored text. A subclass of Django's IntegrityError, so code written
    for the database's own refusal keeps working. ``text`` is the repeated text,
    ``document`` names the row that has it, ``number_format`` is the series.
    """

    def __init__(self, message: str, *, text: str, document: str, number_format=None):
        super().__init__(message)
        self.message = message
        self.text = text
        self.document = document
        self.number_format = number_format


class NumberOutOfOrder(DocnumbersError, ValidationError):
    """A chronological series (``chronological=True``) would issue a number dated before
    the last number already issued in its sequence (#21).

    A ValidationError too, so that ``full_clean()``, forms and the admin show the message
    on the date field (``field``). ``last`` is the text of the last issued number and
    ``last_day`` its date.
    """

    def __init__(self, message: str, *, field: str | None = None, last=None, last_day=None):
        DocnumbersError.__init__(self, message)
        ValidationError.__init__(self, message, code="out_of_order")
        self.message = message
        self.field = field
        self.last = last
        self.last_day = last_day

    def __str__(self):
        return self.message
