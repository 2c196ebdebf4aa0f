"""The admin of counters and their history: view only, moved by audited actions."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import (
    clock,
    formatting,
    issued,
    labels,
    services,
)
from ..exceptions import CounterMoveRefused
from ..forms import SetNextValueForm
from ..models import Counter, CounterChange, NumberFormat
from ..services import start_at_for


def number_text(counter, value) -> str:
    """``value`` as it reads (or read) in ``counter``'s period."""
    if counter.number_format is None:
        return str(value)
    return counter.number_format.example(day_of_period(counter.period), value)


def last_issued_parts(counter, document=None) -> tuple[str, str]:
    """``("INV-2026-0005", "(counter at 9, nothing stored above 5)")``: the stored text
    of the highest document numbered from ``counter`` (``issued.highest_document``), and
    what the counter says when that is less. Never the counter's value rendered again
    with today's format: the format may have changed since, and that text was never
    issued. A counter of the function API shows its value: its numbers are stored by
    the caller."""
    field = issued.field_of(counter)
    if field is None:
        start = start_at_for(counter.number_format.code) if counter.number_format else None
        if start is not None and counter.value < start:
            return gettext("none yet"), ""
        return number_text(counter, counter.value), ""
    if document is None:
        if counter.value < field.start_at:
            return gettext("none yet"), ""
        return gettext("none yet"), gettext("(counter at %(value)s, nothing stored)") % {
            "value": counter.value
        }
    top, text = document
    if top < counter.value:
        return text, gettext("(counter at %(value)s, nothing stored above %(top)s)") % {
            "value": counter.value,
            "top": top,
        }
    return text, ""


def last_issued_text(counter, document=None) -> str:
    """``INV-2026-0005 (counter at 9, nothing stored above 5)``."""
    return " ".join(part for part in last_issued_parts(counter, document) if part)


def sequence_rows(series, user) -> list[dict]:
    """The counters of ``series``, one row per period and scope, newest period first."""
    rows = []
    counters = (
        Counter.objects.using(series._state.db)
        .filter(number_format=series)
        .select_related("number_format")
        .order_by("-period", "scope", "pk")
    )
    may_move = user.has_perm("docnumbers.view_counter") and user.has_perm(
        "docnumbers.set_next_value"
    )
    for counter in counters[:200]:
        document = issued.highest_document(counter)
        rows.append(
            {
                "counter": counter,
                "period": labels.period_label(counter.period) or "-",
                "scope": labels.scope_label(counter.sequence, counter.scope, counter._state.db),
                "document": labels.sequence_label(counter.sequence),
                "last": last_issued_text(counter, document),
                "next": number_text(counter, counter.next_value),
                "highest": document[0] if document else None,
                "may_move": may_move,
            }
        )
    return rows


def day_of_period(period: str) -> dt.date:
    """A day inside the period named by ``period`` (today for '' and unknown texts)."""
    return formatting.parse_period(period) or clock.today()


class ViewOnlyMixin:
    """No adding, changing or deleting through the admin, whoever asks: view only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CounterChangeInline(ViewOnlyMixin, admin.TabularInline):
    """The by-hand moves of a counter, read-only."""

    model = CounterChange
    fields = ["changed_at", "changed_by", "old_value", "new_value", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class SequenceFilter(admin.SimpleListFilter):
    """The counters of one document field, named for people."""

    title = _("document")
    parameter_name = "sequence"

    def lookups(self, request, model_admin):
        sequences = Counter.objects.values_list("sequence", flat=True).distinct()
        return [(s, labels.sequence_label(s)) for s in sorted(set(sequences))]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(sequence=value) if value else queryset


class CounterSeriesFilter(admin.SimpleListFilter):
    """The counters of one series, named by its name or pattern; "no format" for plain
    numbers (Django's own filter would list codes and a bare "-")."""

    title = _("series")
    parameter_name = "number_format"

    def lookups(self, request, model_admin):
        used = Counter.objects.values_list("number_format", flat=True).distinct()
        formats = NumberFormat.objects.filter(pk__in=[pk for pk in used if pk is not None])
        formats = formats.order_by("code", "position", "pk")
        choices = [(str(f.pk), labels.series_label(f)) for f in formats]
        if None in used:
            choices.append(("none", gettext("No format (plain numbers)")))
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(number_format__isnull=True)
        return queryset.filter(number_format_id=value) if value else queryset


class CounterPeriodFilter(admin.SimpleListFilter):
    """The counters of one period, as the list shows it; "no reset" for the counters that
    never restart (an empty period, which Django's own filter shows as an empty link)."""

    title = _("period")
    parameter_name = "period"

    def lookups(self, request, model_admin):
        periods = sorted(set(Counter.objects.values_list("period", flat=True)))
        choices = [(p, labels.period_label(p)) for p in periods if p]
        if "" in periods:
            choices.append(("none", gettext("No reset")))
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(period="")
        return queryset.filter(period=value) if value else queryset


@admin.register(Counter)
class CounterAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Counters are read-only; "set next value" is the one audited way to move one."""

    class Media:
        css = {"all": ["docnumbers/admin.css"]}

    # The raw key, scope and period are on the change page; the list names them for people.
    list_display = ["document", "part", "last_issued", "next_number"]
    list_filter = [SequenceFilter, CounterSeriesFilter, CounterPeriodFilter]
    search_fields = ["key", "sequence", "period", "number_format__name"]
    list_select_related = ["number_format"]
    fields = [
        "document",
        "part",
        "number_format",
        "last_issued",
        "next_number",
        "key",
        "scope",
        "period",
    ]
    readonly_fields = fields
    inlines = [CounterChangeInline]
    actions = ["set_next_value_action"]

    # ViewOnlyMixin: nobody edits a counter through its form, adds or deletes one: numbers would be
    # issued twice or restart. Moving a counter goes through set_next_value_view.

    def has_set_next_value_permission(self, request, obj=None):
        return self.has_view_permission(request, obj) and request.user.has_perm(
            f"{self.opts.app_label}.set_next_value"
        )

    @admin.display(description=_("document"), ordering="sequence")
    def document(self, obj):
        return labels.sequence_label(obj.sequence)

    @admin.display(description=_("series, scope, period"), ordering="period")
    def part(self, obj):
        return labels.counter_label(obj)

    @admin.display(description=_("last issued"), ordering="value")
    def last_issued(self, obj):
        text, note = last_issued_parts(obj, issued.highest_document(obj))
        if not note:
            return format_html('<span class="docnumbers-number">{}</span>', text)
        return format_html(
            '<span class="docnumbers-number">{}</span> <span class="docnumbers-note">{}</span>',
            text,
            note,
        )

    @admin.display(description=_("next number"))
    def next_number(self, obj):
        text = number_text(obj, obj.next_value)
        return format_html('<span class="docnumbers-number">{}</span>', text)

    @admin.action(description=_("Set the next value of the selected counter"))
    def set_next_value_action(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request,
                gettext("Select exactly one counter to set its next value."),
                messages.ERROR,
            )
            return None
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(
            reverse(
                "%s:%s_%s_set_next_value" % ((self.admin_site.name,) + info),
                args=[queryset.get().pk],
            )
        )

    set_next_value_action.allowed_permissions = ("set_next_value",)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/set-next-value/",
                self.admin_site.admin_view(self.set_next_value_view),
                name="%s_%s_set_next_value" % info,
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = {
            "can_set_next_value": obj is not None
            and self.has_set_next_value_permission(request, obj),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def set_next_value_view(self, request, object_id):
        """Move a counter, under its row lock: never onto a number already issued,
        never past numbers without a reason; recorded as a CounterChange and a LogEntry."""
        counter = self.get_object(request, object_id)
        if counter is None:
            raise Http404(gettext("There is no counter with the id %(id)s.") % {"id": object_id})
        if not self.has_set_next_value_permission(request, counter):
            raise PermissionDenied
        using = router.db_for_write(Counter, instance=counter)
        if request.method == "POST":
            form = SetNextValueForm(request.POST)
            if form.is_valid() and self._move(request, counter, form, using):
                return HttpResponseRedirect(self._after_move_url(request, counter))
            counter.refresh_from_db()
        else:
            form = SetNextValueForm(
                initial={"next_value": counter.next_value, "seen_value": counter.value}
            )
        document = issued.highest_document(counter, using)
        top = document[0] if document else None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Set the next number of %(counter)s") % {"counter": counter},
            "last_issued": last_issued_text(counter, document),
            "back_to_format": request.GET.get("from") == "format",
            "subtitle": None,
            "opts": self.opts,
            "original": counter,
            "form": form,
            "highest_issued": top,
            "lowest_allowed": services.lowest_next(counter, top),
            "next_number": number_text(counter, counter.next_value),
            "changes": counter.changes.select_related("changed_by")[:10],
            "media": self.media + form.media,
            "has_view_permission": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/docnumbers/counter/set_next_value.html", context)

    def _after_move_url(self, request, counter) -> str:
        if request.GET.get("from") == "format" and counter.number_format_id is not None:
            return (
                reverse(
                    "%s:docnumbers_numberformat_change" % self.admin_site.name,
                    args=[counter.number_format_id],
                )
                + "#docnumbers-sequences"
            )
        return reverse(
            "%s:%s_%s_change" % (self.admin_site.name, self.opts.app_label, self.opts.model_name),
            args=[counter.pk],
        )

    def _move(self, request, counter, form, using) -> bool:
        """Move the counter through ``services.move_by_hand``; refusals become form errors."""
        new = form.cleaned_data["next_value"] - 1
        if new == counter.value and form.cleaned_data["seen_value"] == counter.value:
            form.add_error("next_value", gettext("This is already the next value."))
            return False
        try:
            with transaction.atomic(using=using):
                change = services.move_by_hand(
                    counter,
                    new,
                    reason=form.cleaned_data["reason"],
                    user=request.user,
                    expected=form.cleaned_data["seen_value"],
                    withdraw_gaps=form.cleaned_data.get("withdraw_gaps", False),
                    using=using,
                )
                if change is None:
                    form.add_error("next_value", gettext("This is already the next value."))
                    return False
                self.log_change(request, change.counter, self._change_message(change))
        except CounterMoveRefused as exc:
            form.add_error(exc.field, exc.message)
            return False
        self.message_user(
            request,
            gettext("The next document of %(counter)s gets %(number)s.")
            % {"counter": change.counter, "number": number_text(change.counter, new + 1)},
            messages.SUCCESS,
        )
        withdrawn = list(change.withdrawn_explanations.order_by("first"))
        if withdrawn:
            self.message_user(request, self._withdrawn_message(withdrawn, new), messages.WARNING)
        return True

    @staticmethod
    def _withdrawn_message(withdrawn, new) -> str:
        """Which explanations the move withdrew, and which numbers are missing again."""
        text = gettext("Withdrew the gap explanation(s) of %(spans)s (kept in the history).") % {
            "spans": ", ".join(e.span for e in withdrawn)
        }
        left = [e for e in withdrawn if e.first <= new]
        if left:
            text += " " + gettext(
                "Numbers %(first)s to %(last)s are missing again: explain them anew."
            ) % {"first": left[0].first, "last": new}
        return text

    @staticmethod
    def _change_message(change) -> str:
        text = gettext(
            "Set the next value from %(old_next)s to %(new_next)s "
            "(last value %(old)s -> %(new)s). Reason: %(reason)s"
        ) % {
            "old_next": change.old_value + 1,
            "new_next": change.new_value + 1,
            "old": change.old_value,
            "new": change.new_value,
            "reason": change.reason,
        }
        withdrawn = [e.span for e in change.withdrawn_explanations.order_by("first")]
        if withdrawn:
            text += " " + gettext("Withdrew the gap explanation(s) of %(spans)s.") % {
                "spans": ", ".join(withdrawn)
            }
        return text


@admin.register(CounterChange)
class CounterChangeAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """The audit trail of counter moves: read-only, for auditors."""

    class Media:
        css = {"all": ["docnumbers/admin.css"]}

    list_display = ["when", "counter", "move", "reason"]
    list_filter = ["changed_at", "source"]
    search_fields = ["counter__key", "reason"]
    list_select_related = ["counter", "changed_by"]
    # No date_hierarchy: on MySQL/MariaDB it needs the server's time zone tables.

    @admin.display(description=_("when, who"), ordering="changed_at")
    def when(self, obj):
        return stamp_and_who(obj.changed_at, obj.changed_by_name, obj.changed_by, "%Y-%m-%d %H:%M")

    @admin.display(description=_("next number"))
    def move(self, obj):
        """``6 → 10``: the next number before and after (old and new last value + 1)."""
        return format_html(
            '<span class="docnumbers-number">{} → {}</span>', obj.old_value + 1, obj.new_value + 1
        )


def stamp_and_who(moment, name, user, date_format) -> str:
    """An audit record's cell: when (in ``TIME_ZONE``), and under it who (the name stored
    with the record, else the user's, else "-")."""
    who = name or (user.get_username() if user else "-")
    return format_html(
        '<span class="docnumbers-number">{}</span><br><span class="docnumbers-note">{}</span>',
        clock.localtime(moment).strftime(date_format),
        who,
    )
