"""Forms of the docnumbers admin."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

#: The next values a counter can take: it stores the next value minus one in a
#: 64-bit column (Counter.value), and must still be able to issue that value.
LOWEST_NEXT_VALUE = -models.BigIntegerField.MAX_BIGINT
HIGHEST_NEXT_VALUE = models.BigIntegerField.MAX_BIGINT


def validate_next_value(value):
    """Refuse a next value the counter column cannot hold, with one message for both ends."""
    if not LOWEST_NEXT_VALUE <= value <= HIGHEST_NEXT_VALUE:
        raise ValidationError(
            _("Enter a whole number between %(lowest)s and %(highest)s."),
            code="out_of_range",
            params={"lowest": LOWEST_NEXT_VALUE, "highest": HIGHEST_NEXT_VALUE},
        )


class SetNextValueForm(forms.Form):
    """The next number a counter issues, and why it moves.

    The checks that need the locked counter row (numbers already issued, a
    reason for a skip) run in the admin view, inside the transaction.
    """

    next_value = forms.IntegerField(
        label=_("Next value"),
        help_text=_("The number the next document of this counter gets."),
        validators=[validate_next_value],
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_(
            "Required when numbers are skipped or the counter moves back; "
            "kept in the counter's history."
        ),
    )
    #: The last value the user saw, so that a counter that moved meanwhile is noticed.
    seen_value = forms.IntegerField(widget=forms.HiddenInput)
