"""The ModelAdmin mixin that shows document numbers read-only on the user's own models."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import (
    labels,
)
from ..fields import AutoSequenceField, sequence_fields
from ..models import NumberFormat
from ..ordering import number_ordering
from .renumbering import RenumberAdminMixin

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
