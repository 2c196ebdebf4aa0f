"""Forms of the docnumbers admin."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SetNextValueForm(forms.Form):
    """The next number a counter issues, and why it moves.

    The checks that need the locked counter row (numbers already issued, a
    reason for a skip) run in the admin view, inside the transaction.
    """

    next_value = forms.IntegerField(
        label=_("Next value"),
        help_text=_("The number the next document of this counter gets."),
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
