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


class WholeNumberField(forms.IntegerField):
    """An integer typed as text: a browser's number input would send "" for "abc", and
    the user would read "This field is required" instead of what is wrong."""

    widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 12})
    default_error_messages = {
        "invalid": _("Enter a whole number."),
        "required": _("Enter a whole number."),
    }


class SetNextValueForm(forms.Form):
    """The next number a counter issues, and why it moves.

    The checks that need the locked counter row (numbers already issued, a
    reason for a skip) run in the admin view, inside the transaction.
    """

    next_value = WholeNumberField(
        label=_("Next number"),
        help_text=_("The next document of this sequence gets this number."),
        validators=[validate_next_value],
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_(
            "Required when numbers are skipped or the counter moves back; kept in the "
            "counter's history, and skipped numbers are recorded as an explained gap."
        ),
    )
    withdraw_gaps = forms.BooleanField(
        label=_("Withdraw the gap explanations this move makes untrue"),
        required=False,
        help_text=_(
            "Only for a move back over numbers explained as missing (skipped, voided): "
            "they will be issued after all. The explanations are kept in the history, "
            "marked as withdrawn by this change."
        ),
    )
    #: The last value the user saw, so that a counter that moved meanwhile is noticed.
    seen_value = forms.IntegerField(widget=forms.HiddenInput)


class StartPeriodForm(forms.Form):
    """The first number of a sequence that has no counter yet: a future period, or a new
    scope (a customer's own numbering)."""

    sequence = forms.ChoiceField(label=_("Document"))
    day = forms.DateField(
        label=_("Period"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Any day in the period, for example 1 January for a year."),
    )
    next_value = WholeNumberField(
        label=_("First number"),
        help_text=_("The first document of this period gets this number."),
        validators=[validate_next_value],
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Required when the first number is not the usual first number."),
    )

    def __init__(self, *args, fields, resets: bool, **kwargs):
        """``fields``: the AutoSequenceFields of the format's code."""
        super().__init__(*args, **kwargs)
        self.sequence_fields = {f"{f.model._meta.label_lower}.{f.name}": f for f in fields}
        self.fields["sequence"].choices = [
            (label, f"{str(f.model._meta.verbose_name).capitalize()}: {f.verbose_name}")
            for label, f in self.sequence_fields.items()
        ]
        if len(fields) == 1:
            self.fields["sequence"].widget = forms.HiddenInput()
            self.fields["sequence"].initial = next(iter(self.sequence_fields))
            self.fields["sequence"].required = False
        if resets:
            self.fields["day"].required = True
        else:
            del self.fields["day"]
        for field in fields:
            for name in field.unique_with:
                if f"scope_{name}" not in self.fields:
                    self.fields[f"scope_{name}"] = _scope_field(field.model._meta.get_field(name))

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("sequence") and len(self.sequence_fields) == 1:
            cleaned["sequence"] = next(iter(self.sequence_fields))
        field = self.sequence_fields.get(cleaned.get("sequence"))
        if field is not None:
            for name in field.unique_with:
                key = f"scope_{name}"
                if key not in self.errors and cleaned.get(key) in (None, ""):
                    self.add_error(key, _("Choose one."))
        return cleaned

    def scope_values(self, field) -> list:
        """The raw column values of ``field``'s ``unique_with`` (a related object's key)."""
        values = []
        for name in field.unique_with:
            value = self.cleaned_data[f"scope_{name}"]
            target = field.model._meta.get_field(name)
            values.append(value.pk if target.is_relation else target.to_python(value))
        return values


def _scope_field(target):
    label = str(target.verbose_name).capitalize()
    if target.is_relation and target.related_model is not None:
        return forms.ModelChoiceField(
            target.related_model._default_manager.all(), label=label, required=False
        )
    return forms.CharField(label=label, required=False)
