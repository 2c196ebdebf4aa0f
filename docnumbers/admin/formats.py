"""The admin of number formats (series): the list, the live preview, starting a period."""

from __future__ import annotations

import datetime as dt

from adminsortable2.admin import SortableAdminMixin
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog

from .. import (
    clock,
    collisions,
    formatting,
    labels,
    registry,
    services,
)
from ..exceptions import CounterMoveRefused
from ..forms import StartPeriodForm
from ..models import NumberFormat
from ..services import upcoming_numbers
from .counters import number_text, sequence_rows

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


class OneMessagePerFieldMixin:
    """The first message of each field only: the model's checks and the form's may say the
    same thing twice (a fiscal month of 13, a reversed range)."""

    def full_clean(self):
        super().full_clean()
        # The model's checks ran last (ModelForm's own step of full_clean): every message
        # is in. ``errors`` is the dict full_clean just filled, so this cleans nothing again.
        for name, errors in list(self.errors.items()):
            if len(errors) > 1:
                self.errors[name] = errors.__class__(errors[:1], error_class=errors.error_class)


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

    @staticmethod
    def _start_period(request, series, form, resets) -> str:
        """Start the sequence ``form`` describes (``services.start_period``); return the
        history message, or '' after adding the refusal to ``form``."""
        data = form.cleaned_data
        field = form.sequence_fields[data["sequence"]]
        scope_values = form.scope_values(field) if field.unique_with else ()
        first, reason = data["next_value"], data["reason"].strip()
        try:
            counter = services.start_period(
                series, field, data["day"], first, reason, scope_values, request.user, resets
            )
        except CounterMoveRefused as exc:
            form.add_error(exc.field, exc.message)
            return ""
        return gettext("Started %(sequence)s at %(number)s.") % {
            "sequence": labels.counter_label(counter),
            "number": number_text(counter, first),
        } + (gettext(" Reason: %(reason)s") % {"reason": reason} if reason else "")

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
            message = self._start_period(request, series, form, resets)
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
