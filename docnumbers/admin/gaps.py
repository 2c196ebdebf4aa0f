"""The admin of gap explanations: recorded, withdrawn, never edited."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import (
    audit,
    clock,
    labels,
)
from ..exceptions import AuditInputError
from ..models import Counter, GapExplanation
from .counters import stamp_and_who
from .formats import OneMessagePerFieldMixin


class CounterChoiceField(forms.ModelChoiceField):
    """A counter by its human label: document, series, scope, period."""

    def label_from_instance(self, obj):
        return labels.counter_label(obj, with_sequence=True)


class WithdrawnFilter(admin.SimpleListFilter):
    """Explanations in force (what the audit uses), or withdrawn ones (history)."""

    title = _("in force")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("In force")), ("no", _("Withdrawn"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(withdrawn_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(withdrawn_at__isnull=False)
        return queryset


class GapExplanationForm(OneMessagePerFieldMixin, forms.ModelForm):
    counter = CounterChoiceField(
        Counter.objects.select_related("number_format"), label=_("Sequence")
    )

    class Meta:
        model = GapExplanation
        fields = ["counter", "first", "last", "kind", "reason"]

    def clean(self):
        cleaned = super().clean()
        counter, first, last = (cleaned.get(name) for name in ("counter", "first", "last"))
        reason = (cleaned.get("reason") or "").strip()
        # A reversed range is the model's message (on "last"); a missing reason the field's.
        if None in (counter, first, last) or first > last or not reason:
            return cleaned
        try:
            audit.check_gap(counter, first, last, kind=cleaned.get("kind") or "", reason=reason)
        except AuditInputError as exc:
            self.add_error("first", forms.ValidationError(str(exc), code="gap"))
        return cleaned


@admin.register(GapExplanation)
class GapExplanationAdmin(admin.ModelAdmin):
    """Why numbers are missing, for the audit. Recorded once, never edited or deleted."""

    class Media:
        css = {"all": ["docnumbers/admin.css"]}

    form = GapExplanationForm
    list_display = ["counter", "numbers", "kind", "reason", "recorded", "in_force"]
    list_filter = ["kind", WithdrawnFilter]
    search_fields = ["counter__key", "reason"]
    list_select_related = ["counter__number_format", "created_by", "withdrawn_by_change"]

    @admin.display(description=_("in force"))
    def in_force(self, obj):
        """Yes, or when and by which counter move it was withdrawn (kept in the history)."""
        if not obj.withdrawn:
            return gettext("yes")
        change = obj.withdrawn_by_change
        stamp = clock.localtime(obj.withdrawn_at).strftime("%Y-%m-%d")
        note = gettext("withdrawn on %(day)s") % {"day": stamp}
        if change is not None:
            note += " " + gettext("(counter moved back to next %(next)s: %(reason)s)") % {
                "next": change.new_value + 1,
                "reason": change.reason,
            }
        return format_html('<span class="docnumbers-note">{}</span>', note)

    @admin.display(description=_("recorded"), ordering="created_at")
    def recorded(self, obj):
        return stamp_and_who(obj.created_at, obj.created_by_name, obj.created_by, "%Y-%m-%d")

    @admin.display(description=_("numbers"), ordering="first")
    def numbers(self, obj):
        span = str(obj.first) if obj.first == obj.last else f"{obj.first}–{obj.last}"
        return format_html('<span class="docnumbers-number">{}</span>', span)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [
                "counter",
                "first",
                "last",
                "kind",
                "reason",
                "created_at",
                "created_by",
                "in_force",
            ]
        return []

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and "in_force" not in fields:
            fields = [*fields, "in_force"]
        return fields

    def has_change_permission(self, request, obj=None):
        # The change view shows a recorded explanation read-only.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
