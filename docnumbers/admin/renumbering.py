"""The admin on the project's own documents (#21): posting drafts, renumbering.

- ``issue_action(description, **changes)``: an admin action that posts the selected
  drafts with ``docnumbers.issue`` (one line in a ModelAdmin's ``actions``).
- ``RenumberAdminMixin`` (part of ``DocumentNumberAdminMixin``): a *Renumber* page on
  an issued document, permission-checked, with a required reason, showing the old and
  the new number before it calls ``docnumbers.renumber``; the frozen-field error of the
  change form links to it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.forms.utils import ErrorList
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import frozen, numbering
from ..exceptions import DocnumbersError
from ..fields import sequence_fields
from ..models import Counter
from ..posting import issue
from ..renumbering import renumber


def issue_action(description=None, **changes):
    """An admin action that posts the selected drafts: ``docnumbers.issue(queryset, **changes)``.

    ``actions = [issue_action(_("Post the selected drafts"), status="posted")]``. It needs
    the change permission, runs in one transaction, and reports how many numbers were
    issued; a refusal (a chronological series, a frozen document) changes nothing.
    """

    @admin.action(description=description or _("Post the selected drafts"), permissions=["change"])
    def post_drafts(modeladmin, request, queryset):
        using = router.db_for_write(queryset.model)
        try:
            with transaction.atomic(using=using):
                count = issue(queryset.using(using), **changes)
        except (DocnumbersError, ValidationError) as exc:
            message = getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", []))
            modeladmin.message_user(request, message or str(exc), messages.ERROR)
            return None
        if count:
            modeladmin.message_user(
                request,
                ngettext(
                    "%(count)d draft posted and numbered.",
                    "%(count)d drafts posted and numbered.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
        else:
            modeladmin.message_user(
                request, gettext("No draft among the selected documents."), messages.WARNING
            )
        return None

    return post_drafts


class RenumberForm(forms.Form):
    """What the number depends on (customer, series, date), and why it changes."""

    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the document moves; the old number is recorded as an explained gap."),
    )

    def __init__(self, *args, field, instance, **kwargs):
        super().__init__(*args, **kwargs)
        self.number_field = field
        self.instance = instance
        reason = self.fields.pop("reason")
        for model_field in frozen.dependencies(field):
            form_field = model_field.formfield()
            if form_field is None:
                continue
            self.fields[model_field.name] = form_field
            self.initial.setdefault(model_field.name, model_field.value_from_object(instance))
        self.fields["reason"] = reason

    def apply(self) -> None:
        """Set the new values on the instance (not saved)."""
        for model_field in frozen.dependencies(self.number_field):
            if model_field.name in self.cleaned_data:
                setattr(self.instance, model_field.name, self.cleaned_data[model_field.name])


class RenumberAdminMixin:
    """A *Renumber* page for issued documents; mixed into ``DocumentNumberAdminMixin``."""

    #: Used when the ModelAdmin sets no change_form_template: adds *Renumber* to its tools.
    renumber_change_form_template = "admin/docnumbers/document_change_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/renumber/",
                self.admin_site.admin_view(self.renumber_view),
                name="%s_%s_renumber" % info,
            ),
            *super().get_urls(),
        ]

    def renumber_url(self, obj) -> str:
        info = self.opts.app_label, self.opts.model_name
        return reverse(f"admin:{info[0]}_{info[1]}_renumber", args=[obj.pk])

    def _renumbered_field(self, obj):
        for field in sequence_fields(self.model):
            if getattr(obj, field.attname, None) is not None and frozen.dependencies(field):
                return field
        return None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self._renumbered_field(obj) is not None:
            if self.has_change_permission(request, obj):
                context["docnumbers_renumber_url"] = self.renumber_url(obj)
            if self.change_form_template is None:
                self.change_form_template = self.renumber_change_form_template
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None or self._renumbered_field(obj) is None:
            return form
        url = self.renumber_url(obj)

        class LinkedForm(form):
            def full_clean(self):
                super().full_clean()  # the model's own validation included
                link_frozen_errors(self, url)

        LinkedForm.__name__ = form.__name__
        return LinkedForm

    def renumber_view(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404(gettext("No such document."))
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        field = self._renumbered_field(obj)
        if field is None:
            raise Http404(gettext("This document has no issued number to move."))
        using = obj._state.db
        old = _text(field, obj)
        form = RenumberForm(request.POST or None, field=field, instance=obj)
        new = None
        if request.method == "POST" and form.is_valid():
            form.apply()
            if "_confirm" in request.POST:
                try:
                    text = renumber(
                        obj,
                        field.name,
                        reason=form.cleaned_data["reason"],
                        user=request.user,
                        using=using,
                    )
                except (DocnumbersError, ValidationError) as exc:
                    form.add_error(None, getattr(exc, "message", None) or str(exc))
                else:
                    self.message_user(
                        request,
                        gettext("%(old)s became %(new)s; %(old)s is recorded as an explained gap.")
                        % {"old": old, "new": text},
                        messages.SUCCESS,
                    )
                    change = reverse(
                        f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                        args=[obj.pk],
                    )
                    return HttpResponseRedirect(change)
            else:
                try:
                    new = next_text(field, obj, using)
                except (DocnumbersError, ValidationError) as exc:
                    form.add_error(None, getattr(exc, "message", None) or str(exc))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Renumber %(document)s") % {"document": old},
            "opts": self.opts,
            "original": obj,
            "form": form,
            "old_number": old,
            "new_number": new,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/docnumbers/renumber.html", context)


def link_frozen_errors(form, url: str) -> None:
    """Replace "use docnumbers.renumber()" in a form's errors by a link to the Renumber page."""
    hint = str(frozen.RENUMBER_HINT)
    label = gettext("Renumber this document")
    for name, errors in list(form.errors.items()):
        found = [str(message) for message in errors]
        if not any(hint in message for message in found):
            continue
        linked = [
            format_html('{} <a href="{}">{}</a>', m.replace(hint, "").strip(), url, label)
            if hint in m
            else m
            for m in found
        ]
        form.errors[name] = ErrorList(linked, error_class=errors.error_class)


def next_text(field, instance, using) -> str:
    """The number ``instance`` would get now from the sequence its values choose (a preview)."""
    (key,) = numbering.group_by_key(field, [instance], using)
    counter = Counter.objects.using(using).filter(key=key.text).first()
    number = counter.value + 1 if counter is not None else field.start_at
    if field.format_code is None:
        return str(number)
    group = numbering.group_by_key(field, [instance], using)[key]
    day = group.days[id(instance)]
    return group.series.as_format().render(day, number)


def _text(field, instance) -> str:
    if field.format_code is not None:
        text = getattr(instance, field.display_name)
        if text:
            return text
    return str(getattr(instance, field.attname))
