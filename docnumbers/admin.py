"""The admin: number formats (series, live preview), counters (audited moves) and the
ModelAdmin mixin that shows document numbers read-only on the user's own models."""

from __future__ import annotations

import datetime as dt

from adminsortable2.admin import SortableAdminMixin
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from django.db.models import Case, CharField, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, LPad
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog

from . import (
    allocation,
    audit,
    clock,
    collisions,
    days,
    formatting,
    issued,
    labels,
    registry,
)
from .admin_documents import RenumberAdminMixin, issue_action  # noqa: F401 - public: #21
from .allocation import MAX_VALUE
from .exceptions import AuditInputError, CounterMoveRefused
from .fields import AutoSequenceField, sequence_fields
from .forms import SetNextValueForm, StartPeriodForm
from .keys import SequenceKey, scope_from_values, sequence_label
from .models import Counter, CounterChange, GapExplanation, NumberFormat

PREVIEW_COUNT = 3
#: How the list names a reset, in a few letters.
RESET_SHORT = {
    formatting.Reset.NEVER: _("no reset"),
    formatting.Reset.YEARLY: _("yearly"),
    formatting.Reset.FISCAL: _("fiscal year"),
    formatting.Reset.MONTHLY: _("monthly"),
    formatting.Reset.DAILY: _("daily"),
}
#: The NumberFormat fields the live preview sends to the server.
PREVIEW_FIELDS = ("code", "name", "prefix", "suffix", "padding", "reset", "fiscal_year_start_month")


def start_at_for(code: str) -> int:
    """The first value of the fields that use ``code`` (1 when none declares another)."""
    for field in registry.fields_of_code(code):
        return field.start_at
    return 1


def upcoming_numbers(
    fmt: formatting.Format, day: dt.date, number_format=None, count: int = PREVIEW_COUNT
) -> list[str]:
    """The next ``count`` numbers ``fmt`` issues on ``day``, rendered by ``formatting``.

    They continue the counter of ``number_format`` for the period of ``day`` (the
    scope-less one); without one they start at the field's ``start_at``.
    """
    first = start_at_for(fmt.code)
    if number_format is not None and number_format.pk is not None:
        counter = (
            Counter.objects.using(number_format._state.db)
            .filter(number_format=number_format, period=fmt.period(day), scope="")
            .order_by("pk")
            .first()
        )
        if counter is not None:
            first = counter.value + 1
    return [fmt.render(day, number) for number in range(first, first + count)]


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


def start_period(request, series, form, resets) -> str:
    """Create the counter ``form`` describes and move it to the first number; return the
    history message, or '' after adding the refusal to ``form``."""
    data = form.cleaned_data
    field = form.sequence_fields[data["sequence"]]
    try:
        period = series.as_format().period(data["day"]) if resets else ""
    except formatting.TemplateError as exc:  # a fiscal year before year 1
        form.add_error("day", exc.message)
        return ""
    if resets:
        problem = past_or_implausible(series, field, data["day"])
        if problem:
            form.add_error("day", problem)
            return ""
    scope = ()
    if field.unique_with:
        targets = [field.model._meta.get_field(name) for name in field.unique_with]
        scope = scope_from_values(targets, form.scope_values(field))
    key = SequenceKey(sequence_label(field.model, field.name), series.pk, scope, period)
    using = router.db_for_write(Counter)
    if Counter.objects.using(using).filter(key=key.text).exists():
        form.add_error(
            "day" if resets else "next_value",
            gettext("This sequence has started already: set its next number in the list."),
        )
        return ""
    first, start = data["next_value"], field.start_at
    reason = data["reason"].strip()
    if first != start and not reason:
        form.add_error(
            "reason",
            gettext("The usual first number is %(start)s; say why this one starts at %(first)s.")
            % {"start": start, "first": first},
        )
        return ""
    with transaction.atomic(using=using):
        counter_id, _ = allocation.take(
            key, 0, start_at=start, number_format_id=series.pk, using=using
        )
        if first != start:
            allocation.move_counter(
                counter_id,
                first - 1,
                reason=reason,
                source="admin",
                user=request.user,
                expected=start - 1,
                using=using,
            )
            if first > start:
                record_skipped(counter_id, start, first - 1, reason, request.user, using)
    counter = Counter.objects.using(using).select_related("number_format").get(pk=counter_id)
    return gettext("Started %(sequence)s at %(number)s.") % {
        "sequence": labels.counter_label(counter),
        "number": number_text(counter, first),
    } + (gettext(" Reason: %(reason)s") % {"reason": reason} if reason else "")


def past_or_implausible(series, field, day) -> str:
    """Why ``day``'s period cannot be started ahead of time, or '': a period that has
    begun already is started by its first document, and a date outside
    ``DOCNUMBERS_DATE_RANGE`` numbers nothing."""
    problem = days.date_problem(field, day)
    if problem:
        return problem
    fmt = series.as_format()
    today = clock.today()
    if day < today and fmt.period(day) != fmt.period(today):
        return gettext(
            "%(period)s is over: only the current period (%(current)s) or a later one can be "
            "started ahead of time."
        ) % {
            "period": labels.period_label(fmt.period(day)),
            "current": labels.period_label(fmt.period(today)),
        }
    return ""


def record_skipped(counter_id, first, last, reason, user, using) -> None:
    """The numbers a move skipped, as an explained gap: the audit lists them as explained."""
    GapExplanation.objects.using(using).create(
        counter_id=counter_id,
        first=first,
        last=last,
        kind=GapExplanation.Kind.SKIPPED,
        reason=reason,
        created_by=user,
    )


def day_of_period(period: str) -> dt.date:
    """A day inside the period named by ``period`` (today for '' and unknown texts)."""
    return formatting.parse_period(period) or clock.today()


class OneMessagePerFieldMixin:
    """The first message of each field only: the model's checks and the form's may say the
    same thing twice (a fiscal month of 13, a reversed range)."""

    def _post_clean(self):
        super()._post_clean()
        for name, errors in list(self._errors.items()):
            if len(errors) > 1:
                self._errors[name] = errors.__class__(errors[:1], error_class=errors.error_class)


def validate_month(value):
    if not 1 <= value <= 12:
        raise forms.ValidationError(
            _("Enter a month from 1 (January) to 12 (December)."), code="fiscal_month"
        )


class NumberFormatForm(OneMessagePerFieldMixin, forms.ModelForm):
    class Meta:
        model = NumberFormat
        fields = [*PREVIEW_FIELDS, "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A positive field's form field says ">= 0", though 0 is refused too: one message
        # for both ends of the month instead.
        month = self.fields.get("fiscal_year_start_month")
        if month is not None:
            month.min_value = month.max_value = None
            month.validators = [validate_month]
            month.widget.attrs.update(min=1, max=12)


# -- Number formats -----------------------------------------------------------------------


@admin.register(NumberFormat)
class NumberFormatAdmin(SortableAdminMixin, admin.ModelAdmin):
    """Formats and their series: drag-and-drop order, live preview of the next numbers."""

    # One column per question an accountant asks, so that they fit 1280 px next to the
    # navigation and the filters; padding and the fiscal month are on the change page.
    list_display = ["position", "series", "template", "active", "is_default", "next_number"]
    list_display_links = ["series"]
    form = NumberFormatForm
    list_filter = ["code", "active", "reset"]
    search_fields = ["code", "name", "prefix", "suffix"]
    fields = [*PREVIEW_FIELDS, "active"]

    def get_queryset(self, request):
        default = NumberFormat.objects.series_of(OuterRef("code")).values("pk")[:1]
        return super().get_queryset(request).annotate(default_pk=Subquery(default))

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Counters belong to their series: a series that issued numbers keeps its code.
        if obj is not None and obj.counters.exists():
            readonly.append("code")
        return readonly

    # The list's help text and drag script: templates/adminsortable2/docnumbers/numberformat/
    # change_list.html, the first template django-admin-sortable2 looks for.

    def update_order(self, request):
        """sortable2's drop handler, plus a history entry when a code's default series changes
        (it numbers every new document)."""
        before = self._orders()
        response = super().update_order(request)
        if response.status_code == 200:
            after = self._orders()
            for code in sorted(after):
                if before.get(code) == after[code]:
                    continue
                old = before.get(code, [None])[0]
                new = after[code][0]
                if new is not None:
                    self.log_change(request, new, self._reorder_message(code, old, new))
        return response

    @staticmethod
    def _orders() -> dict:
        """Each code's active series in order (the first is the default)."""
        orders = {}
        for series in NumberFormat.objects.filter(active=True).order_by("position", "pk"):
            orders.setdefault(series.code, []).append(series)
        return orders

    def construct_change_message(self, request, form, formsets, add=False):
        """The history of a format names each changed setting with its old and new value
        ("Changed prefix from “INV-” to “FAC-”."), not only its name."""
        if add or not form.changed_data:
            return super().construct_change_message(request, form, formsets, add)
        changes = []
        for name in form.changed_data:
            field = form.fields[name]
            changes.append(
                gettext("%(field)s from “%(old)s” to “%(new)s”")
                % {
                    "field": NumberFormat._meta.get_field(name).verbose_name,
                    "old": _shown(field, form.initial.get(name)),
                    "new": _shown(field, form.cleaned_data.get(name)),
                }
            )
        return gettext("Changed %(changes)s.") % {"changes": "; ".join(changes)}

    @staticmethod
    def _reorder_message(code, old, new) -> str:
        if old is not None and old.pk == new.pk:
            return gettext("Reordered the series of %(code)s; the default is still %(new)s.") % {
                "code": code,
                "new": new,
            }
        return gettext(
            "Reordered the series of %(code)s: the default series is now %(new)s (was %(old)s)."
        ) % {"code": code, "new": new, "old": old if old is not None else "-"}

    class Media:
        css = {"all": ["docnumbers/admin.css"]}

    # sortable2's handle column ("_reorder_") is titled with the order field's name; the
    # grip says enough. Its documented way to change the column is list_display: the
    # handle is shown by a column of our own, untitled, that renders sortable2's handle.
    def get_list_display(self, request):
        return [
            "grip" if name == "_reorder_" else name for name in super().get_list_display(request)
        ]

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        return [name for name in links if name != "grip"] or ["series"]

    @admin.display(description="", ordering="position")
    def grip(self, obj):
        return self._reorder_(obj)

    @admin.display(description=_("series"), ordering="code")
    def series(self, obj):
        return str(obj)

    @admin.display(description=_("format"))
    def template(self, obj):
        """``INV-{YYYY}-#### (every calendar year)``: prefix, padding, suffix and reset."""
        digits = "#" * max(obj.padding, 1)
        return format_html(
            '<span class="docnumbers-number">{}{}{}</span> <span class="docnumbers-note">{}</span>',
            obj.prefix,
            digits,
            obj.suffix,
            RESET_SHORT.get(obj.reset, obj.reset),
        )

    @admin.display(boolean=True, description=_("default"))
    def is_default(self, obj):
        default_pk = getattr(obj, "default_pk", None)
        return obj.active and obj.pk == default_pk

    @admin.display(description=_("next number"))
    def next_number(self, obj):
        try:
            fmt = obj.as_format()
            fmt.validate()
            text = upcoming_numbers(fmt, clock.today(), obj, count=1)[0]
        except formatting.TemplateError:
            text = "?"
        return format_html('<span class="docnumbers-number">{}</span>', text)

    # -- live preview --

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="%s_%s_preview" % info,
            ),
            path(
                "jsi18n/",
                self.admin_site.admin_view(self.javascript_catalog, cacheable=True),
                name="%s_%s_jsi18n" % info,
            ),
            path(
                "<path:object_id>/start-period/",
                self.admin_site.admin_view(self.start_period_view),
                name="%s_%s_start_period" % info,
            ),
            *super().get_urls(),
        ]

    def javascript_catalog(self, request):
        """The strings of docnumbers' scripts in the user's language (``djangojs``), added
        to the admin's own catalog, which the page loads first."""
        return JavaScriptCatalog.as_view(packages=["docnumbers"])(request)

    def preview_view(self, request):
        """JSON: the validation messages of the typed format, its next numbers, and
        which of them are already issued (``issued``: text -> document, ``warning``).

        Runs the admin's own form (so the messages are those a save would show,
        a refused reissue included) and renders with ``formatting`` (the code that
        issues the numbers).
        """
        obj = None
        object_id = request.GET.get("object_id") or None
        if object_id is not None:
            obj = self.get_object(request, object_id)
            if obj is None or not self.has_change_permission(request, obj):
                raise PermissionDenied
        elif not self.has_add_permission(request):
            raise PermissionDenied
        data = request.GET
        form = self.get_form(request, obj, change=obj is not None)(
            data=data, instance=obj or NumberFormat()
        )
        form.is_valid()
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        fmt = formatting.Format(
            code=form.instance.code or "",
            prefix=data.get("prefix", ""),
            suffix=data.get("suffix", ""),
            padding=_int(data.get("padding"), -1),
            reset=data.get("reset", ""),
            fiscal_year_start_month=_int(data.get("fiscal_year_start_month"), 0),
        )
        days = {"today": clock.today()}
        try:
            days["day"] = dt.date.fromisoformat(request.GET.get("day", ""))
        except ValueError:
            errors.setdefault("day", []).append(gettext("Enter a valid date."))
        previews = self._previews(fmt, days, obj, errors)
        shown = [text for preview in previews.values() for text in preview["numbers"]]
        issued = collisions.issued_documents(fmt.code, shown) if shown else {}
        warning = ""
        if issued:
            warning = gettext(
                "The numbers marked as already issued are stored on other documents: "
                "these settings would issue them again, so they cannot be saved."
            )
        return JsonResponse(
            {
                "valid": not errors,
                "errors": errors,
                "preview": previews,
                "issued": issued,
                "warning": warning,
            }
        )

    @staticmethod
    def _previews(fmt, days, obj, errors) -> dict:
        """``{label: {date, period, numbers}}`` for each day; {} when the format is invalid.

        A day the format cannot number (its fiscal year leaves the calendar) is an
        error of that day in ``errors``.
        """
        try:
            fmt.validate()
        except formatting.TemplateError:
            return {}  # the form's errors already say why
        previews = {}
        for label, day in days.items():
            try:
                numbers = upcoming_numbers(fmt, day, obj)
            except formatting.TemplateError as exc:
                errors.setdefault(label, []).append(exc.message)
                continue
            period = fmt.period(day)
            previews[label] = {"date": day.isoformat(), "period": period, "numbers": numbers}
        return previews

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        info = self.opts.app_label, self.opts.model_name
        today = clock.today()
        context["preview_config"] = {
            "url": reverse("%s:%s_%s_preview" % ((self.admin_site.name,) + info)),
            "object_id": obj.pk if obj is not None else None,
            "fields": list(PREVIEW_FIELDS),
            "today": today.isoformat(),
        }
        context["preview_today"] = today
        context["preview_day"] = today.replace(month=12, day=31)
        context["token_table"] = formatting.token_table()
        if obj is not None and obj.pk is not None:
            saved = NumberFormat.objects.using(obj._state.db).get(pk=obj.pk)
            # The saved format, not the one a failed POST left half-changed.
            context["subtitle"] = str(saved)
            context["original"] = saved
            context["sequences"] = sequence_rows(saved, request.user)
            context["can_start_period"] = self.may_move_counters(request, saved) and bool(
                registry.fields_of_code(saved.code)
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def may_move_counters(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj) and request.user.has_perm(
            "docnumbers.set_next_value"
        )

    def start_period_view(self, request, object_id):
        """The first number of a sequence that has no counter yet (a period ahead of time,
        a new scope). Created by ``allocation.take``, moved by ``allocation.move_counter``."""
        series = self.get_object(request, object_id)
        if series is None:
            raise Http404
        if not self.may_move_counters(request, series):
            raise PermissionDenied
        fields = registry.fields_of_code(series.code)
        if not fields:
            raise Http404(gettext("No document uses this format's code."))
        resets = series.reset != formatting.Reset.NEVER
        form = StartPeriodForm(
            request.POST or None,
            fields=fields,
            resets=resets,
            initial={"next_value": fields[0].start_at},
        )
        if request.method == "POST" and form.is_valid():
            message = start_period(request, series, form, resets)
            if message:
                self.log_change(request, series, message)
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(
                        "%s:%s_%s_change"
                        % (self.admin_site.name, self.opts.app_label, self.opts.model_name),
                        args=[series.pk],
                    )
                    + "#docnumbers-sequences"
                )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Start a new sequence of %(series)s") % {"series": series},
            "subtitle": None,
            "opts": self.opts,
            "original": series,
            "form": form,
            "media": self.media + form.media,
            "has_view_permission": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/docnumbers/numberformat/start_period.html", context)


def _shown(field, value) -> str:
    """A setting's value as the form shows it: a choice by its label, a flag as yes/no."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    for choice, label in getattr(field, "choices", ()) or ():
        if str(choice) == str(value) and value not in (None, ""):
            return str(label)
    return "" if value is None else str(value)


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# -- Counters -----------------------------------------------------------------------------


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
            "lowest_allowed": self._lowest_next(counter, top),
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

    @staticmethod
    def _lowest_next(counter, top):
        """The lowest next value that issues no number a second time."""
        if top is not None:
            return top + 1
        if issued.rows_of(counter) is None:
            # A counter of the function API: the numbers it gave live in the caller's
            # data, which we cannot read, so it never moves back.
            return counter.value + 1
        field = issued.field_of(counter)
        return field.start_at if field is not None else counter.value + 1

    def _move(self, request, counter, form, using) -> bool:
        """Move the counter through ``allocation.move_counter``; refusals become form errors."""
        new = form.cleaned_data["next_value"] - 1
        reason = form.cleaned_data["reason"].strip()
        check = self._move_check(new, reason, using)
        if new == counter.value and form.cleaned_data["seen_value"] == counter.value:
            form.add_error("next_value", gettext("This is already the next value."))
            return False
        try:
            with transaction.atomic(using=using):
                change = allocation.move_counter(
                    counter,
                    new,
                    reason=reason,
                    source="admin",
                    user=request.user,
                    expected=form.cleaned_data["seen_value"],
                    check=check,
                    withdraw_gaps=form.cleaned_data.get("withdraw_gaps", False),
                    using=using,
                )
                if change is None:
                    form.add_error("next_value", gettext("This is already the next value."))
                    return False
                if change.new_value > change.old_value:
                    # The skipped numbers were never given out on purpose: say so to the audit.
                    record_skipped(
                        change.counter_id,
                        change.old_value + 1,
                        change.new_value,
                        reason,
                        request.user,
                        using,
                    )
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

    def _move_check(self, new, reason, using):
        """``move_counter``'s check: no number issued again, a reason for every move."""

        def check(locked):
            lowest = self._lowest_next(locked, issued.highest_issued(locked, using))
            if new + 1 < lowest:
                raise CounterMoveRefused(
                    gettext(
                        "%(value)s would issue a number that already exists; "
                        "the next value must be at least %(lowest)s."
                    )
                    % {"value": new + 1, "lowest": lowest},
                    field="next_value",
                )
            if not reason:
                raise CounterMoveRefused(self._reason_needed(locked.value, new), field="reason")

        return check

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
    def _reason_needed(old, new) -> str:
        if new > old:
            return gettext(
                "This skips the numbers %(first)s to %(last)s; say why in the reason "
                "(they are recorded as an explained gap)."
            ) % {"first": old + 1, "last": new}
        return gettext(
            "This moves the counter back and gives out %(first)s to %(last)s "
            "again; say why in the reason."
        ) % {"first": new + 1, "last": old}

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
        who = obj.changed_by_name or (obj.changed_by.get_username() if obj.changed_by else "-")
        stamp = clock.localtime(obj.changed_at).strftime("%Y-%m-%d %H:%M")
        return format_html(
            '<span class="docnumbers-number">{}</span><br><span class="docnumbers-note">{}</span>',
            stamp,
            who,
        )

    @admin.display(description=_("next number"))
    def move(self, obj):
        """``6 → 10``: the next number before and after (old and new last value + 1)."""
        return format_html(
            '<span class="docnumbers-number">{} → {}</span>', obj.old_value + 1, obj.new_value + 1
        )


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
        who = obj.created_by_name or (obj.created_by.get_username() if obj.created_by else "-")
        stamp = clock.localtime(obj.created_at).strftime("%Y-%m-%d")
        return format_html(
            '<span class="docnumbers-number">{}</span><br><span class="docnumbers-note">{}</span>',
            stamp,
            who,
        )

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


# -- The user's models ----------------------------------------------------------------------

#: Suffix of the ModelAdmin attribute that shows a sequence field's number.
COLUMN_SUFFIX = "_formatted"


def number_column(field_name: str, description=None, model=None):
    """A ``list_display``/``readonly_fields`` callable showing a document number.

    Shows ``<field>_display`` (the text as issued) for a formatted field and the
    integer otherwise; sorts by the integer, never by the text.

    Args:
        field_name: the name of the AutoSequenceField.
        description: the column title (the field's verbose name by default).
        model: the model; with it, a formatted number sorts by (period, number), see
            ``number_ordering``; without it, by the integer.
    """

    def column(obj):
        field = obj._meta.get_field(field_name)
        if getattr(obj, field_name, None) is None:
            if getattr(field, "issue_when", None) is not None and obj.pk is not None:
                return gettext("Draft")
            return gettext("Assigned when saved")
        if isinstance(field, AutoSequenceField) and field.format_code is not None:
            text = getattr(obj, field.display_name)
            if text:
                return text
        return getattr(obj, field_name)

    def display(obj):
        if getattr(obj, field_name, None) is None:
            return column(obj)
        return format_html('<span class="docnumbers-number">{}</span>', column(obj))

    display.__name__ = f"{field_name}{COLUMN_SUFFIX}"
    display.short_description = description or field_name.replace("_", " ")
    display.admin_order_field = (
        number_ordering(field_name, model) if model is not None else field_name
    )
    return display


def number_ordering(field_name: str, model=None):
    """An ``ordering`` expression that sorts a document number by (period, number).

    The text would sort ``FAC-2026-0011`` below ``INV-2026-0005`` and ``INV-2026-10``
    below ``INV-2026-9``; this sorts by the counter's period, then the integer. Use it in
    ``ModelAdmin.ordering`` (``[number_ordering("number").desc()]``) or a queryset's
    ``order_by``. Given ``model``, a field without ``format`` sorts by its integer.
    """
    field = model._meta.get_field(field_name) if model is not None else None
    if field is not None and getattr(field, "format_code", None) is None:
        return F(field_name)
    counter = f"{field_name}_counter" if field is None else field.counter_name
    # One text that sorts like (period, number): "1" + 19 digits for 0 and up, "0" + the
    # distance from -2**63 for negative numbers (so -3 sorts before -2, and both before 0).
    number = F(field_name)
    digits = Case(
        When(**{f"{field_name}__lt": 0}, then=Concat(Value("0"), _padded(number + MAX_VALUE))),
        default=Concat(Value("1"), _padded(number)),
        output_field=CharField(),
    )
    return Concat(
        Coalesce(F(f"{counter}__period"), Value("")), Value("/"), digits, output_field=CharField()
    )


def _padded(expression):
    return LPad(Cast(expression, CharField()), 19, Value("0"))


def series_text(series) -> str:
    """A series as people know it: its name, else what its numbers look like
    (``INV-{YYYY}-####``), never its code alone."""
    return labels.series_label(series)


class SeriesChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return series_text(obj)


def series_filter(field: AutoSequenceField):
    """A list filter on ``field``'s ``series_field`` that names each series for people,
    and the documents saved without one as the default series'."""

    class SeriesFilter(admin.SimpleListFilter):
        title = field.model._meta.get_field(field.series_field).verbose_name
        parameter_name = field.series_field

        def lookups(self, request, model_admin):
            formats = NumberFormat.objects.filter(code=field.format_code).order_by("position", "pk")
            return [("none", gettext("Default series"))] + [
                (str(series.pk), series_text(series)) for series in formats
            ]

        def queryset(self, request, queryset):
            value = self.value()
            if value == "none":
                return queryset.filter(**{f"{field.series_field}__isnull": True})
            if value:
                return queryset.filter(**{f"{field.series_field}_id": value})
            return queryset

    return SeriesFilter


def series_queryset(field: AutoSequenceField, using=None):
    """The series a document of ``field`` may pick: the active ones, in the admin's order."""
    return NumberFormat.objects.using(using).series_of(field.format_code)


class DocumentNumberAdminMixin(RenumberAdminMixin):
    """Shows the document numbers of a model read-only, sorted by the integer.

    For every AutoSequenceField of the model:

    - ``<field>`` (or ``<field>_display``) in ``list_display``, ``fields`` or
      ``fieldsets`` becomes a read-only column ``<field>_formatted`` that shows
      the formatted text and sorts by the integer; a default ``list_display``
      and ``fields`` get it first;
    - ``<field>_display`` joins ``search_fields``, so the text as printed finds
      the document;
    - the field's ``series_field`` offers the code's active series in the
      admin's order, and becomes read-only once the number is issued.

    Put it before ``admin.ModelAdmin``::

        @admin.register(Invoice)
        class InvoiceAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
            list_display = ["invoice_number", "customer", "issued_on"]
    """

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        self._number_fields = sequence_fields(model)
        for field in self._number_fields:
            name = f"{field.name}{COLUMN_SUFFIX}"
            if not hasattr(self, name):
                setattr(self, name, number_column(field.name, field.verbose_name, model))

    @property
    def media(self):
        # Numbers never wrap (white-space: nowrap) on the user's own lists and forms too.
        return super().media + forms.Media(css={"all": ["docnumbers/admin.css"]})

    def _column_for(self, name):
        for field in self._number_fields:
            if name in (field.name, getattr(field, "display_name", None), field.attname):
                return f"{field.name}{COLUMN_SUFFIX}"
        return None

    def _hidden_names(self):
        names = set()
        for field in self._number_fields:
            names.add(field.name)
            if field.format_code is not None:
                names.update({field.display_name, field.counter_name, f"{field.counter_name}_id"})
        return names

    def _columns(self):
        return [f"{field.name}{COLUMN_SUFFIX}" for field in self._number_fields]

    def _replace(self, names):
        hidden = self._hidden_names()
        out = []
        for name in names:
            column = self._column_for(name) if isinstance(name, str) else None
            if column is not None:
                if column not in out:
                    out.append(column)
            elif not (isinstance(name, str) and name in hidden):
                out.append(name)
        return out

    def get_list_display(self, request):
        names = list(super().get_list_display(request))
        if names == ["__str__"]:
            return [*self._columns(), "__str__"]
        return self._replace(names)

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if links is None:
            return links
        return self._replace(links)

    def get_ordering(self, request):
        """A number (or its ``_display``) in ``ordering`` or ``Meta.ordering`` sorts by
        (period, number), not by its text."""
        given = list(super().get_ordering(request) or self.model._meta.ordering or ())
        if not any(isinstance(n, str) and self._field_for(n.lstrip("-")) for n in given):
            return super().get_ordering(request)
        ordering = []
        for name in given:
            if isinstance(name, str):
                column = self._column_for(name.lstrip("-"))
                if column is not None:
                    field = self._field_for(name.lstrip("-"))
                    expression = number_ordering(field.name, self.model)
                    ordering.append(expression.desc() if name.startswith("-") else expression.asc())
                    continue
            ordering.append(name)
        return ordering

    def _field_for(self, name):
        for field in self._number_fields:
            if name in (field.name, getattr(field, "display_name", None), field.attname):
                return field
        return None

    # -- deleting a numbered document --

    def get_deleted_objects(self, objs, request):
        deleted = super().get_deleted_objects(objs, request)
        if not request.POST.get("post"):  # the confirmation page, not the delete itself
            numbers = self._numbers_of(objs)
            if numbers:
                messages.warning(request, self._gap_warning(numbers))
        return deleted

    def _numbers_of(self, objs) -> list[str]:
        numbers = []
        for obj in objs:
            for field in self._number_fields:
                if getattr(obj, field.attname, None) is None:
                    continue
                text = getattr(obj, field.display_name, "") if field.format_code else ""
                numbers.append(text or str(getattr(obj, field.attname)))
        return sorted(numbers)

    #: What to do instead of deleting an issued document; override to name your own.
    delete_alternative = _(
        "If the document was sent or booked, keep it and issue a credit note or mark it "
        "void instead; if you delete it, explain the gap under Document numbers > Gap "
        "explanations."
    )

    def _gap_warning(self, numbers) -> str:
        shown = ", ".join(numbers[:10]) + (" ..." if len(numbers) > 10 else "")
        return " ".join(
            [
                ngettext(
                    "The number %(numbers)s is never issued again: deleting leaves it as a "
                    "permanent gap in the sequence, which the audit reports.",
                    "The numbers %(numbers)s are never issued again: deleting leaves them as "
                    "permanent gaps in the sequence, which the audit reports.",
                    len(numbers),
                )
                % {"numbers": shown},
                str(self.delete_alternative),
            ]
        )

    def get_search_fields(self, request):
        search = list(super().get_search_fields(request))
        for field in self._number_fields:
            if field.format_code is not None and field.display_name not in search:
                search.append(field.display_name)
        return search

    def _issued(self, obj):
        return obj is not None and any(
            getattr(obj, field.attname) is not None for field in self._number_fields
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = self._replace(super().get_readonly_fields(request, obj))
        for column in self._columns():
            if column not in readonly:
                readonly.append(column)
        if self._issued(obj):
            # The series was used to issue the number; another one would not match it.
            for field in self._number_fields:
                if field.series_field and field.series_field not in readonly:
                    readonly.append(field.series_field)
        return readonly

    def get_fields(self, request, obj=None):
        if self.fields:
            return self._replace(self.fields)
        names = self._replace(super().get_fields(request, obj))
        columns = self._columns()
        return columns + [name for name in names if name not in columns]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.fieldsets:
            return fieldsets
        out = []
        for title, options in fieldsets:
            options = dict(options)
            options["fields"] = [
                tuple(self._replace(row)) if isinstance(row, (list, tuple)) else row
                for row in self._replace(options.get("fields", ()))
            ]
            out.append((title, options))
        return out

    def get_exclude(self, request, obj=None):
        # Numbers are never form fields, whatever fields/fieldsets say.
        exclude = list(super().get_exclude(request, obj) or ())
        return exclude + [name for name in sorted(self._hidden_names()) if name not in exclude]

    def get_list_filter(self, request):
        """A ``series_field`` in ``list_filter`` lists the series by name, not by code."""
        filters = list(super().get_list_filter(request))
        for field in self._number_fields:
            if field.series_field in filters and field.format_code is not None:
                filters[filters.index(field.series_field)] = series_filter(field)
        return filters

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        for field in self._number_fields:
            if field.series_field == db_field.name and field.format_code is not None:
                formats = series_queryset(field, kwargs.get("using"))
                kwargs["queryset"] = formats
                kwargs.setdefault("form_class", SeriesChoiceField)
                default = formats.first()
                if default is not None:
                    kwargs.setdefault(
                        "empty_label",
                        gettext("Default series (%(series)s)") % {"series": series_text(default)},
                    )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
