"""The admin of the demo: every document uses docnumbers' ModelAdmin mixin.

The mixin turns each number named in list_display (``number_display``) into a
read-only column that sorts by the integer, adds it to the forms read-only and to
the search; NumberFormat and Counter have their own admin in docnumbers.

The lists fit a 1280 px screen next to the navigation and the filters: dates are
shown as 2026-03-10 and never wrap, like the numbers.
"""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from docnumbers.admin import DocumentNumberAdminMixin, issue_action

from .models import CreditNote, Customer, Invoice, InvoiceLine, Order


class DemoAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
    class Media:
        css = {"all": ["invoicing/admin.css"]}


def date_column(name, description, with_time=False):
    """A compact date column (``2026-03-10``, ``2026-03-10 14:30`` in local time)."""

    def column(obj):
        value = getattr(obj, name)
        if value is None:
            return "-"
        if with_time:
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        return value.strftime("%Y-%m-%d")

    column.__name__ = f"{name}_date"
    return staticmethod(admin.display(description=description, ordering=name)(column))


@admin.register(Customer)
class CustomerAdmin(DemoAdmin):
    list_display = ["name", "code", "account_number", "email"]
    search_fields = ["name", "code", "email"]


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 1


class CreditNoteInline(admin.TabularInline):
    model = CreditNote
    fk_name = "invoice"
    extra = 0
    fields = ["number_text", "issued_on", "reason", "amount"]
    readonly_fields = ["number_text"]
    show_change_link = True

    @admin.display(description=_("number"))
    def number_text(self, obj):
        return obj.number_display

    def has_add_permission(self, request, obj=None):
        # A credit note is made from its own form, which checks its customer.
        return False


@admin.register(Invoice)
class InvoiceAdmin(DemoAdmin):
    list_display = [
        "number_display",
        "issued_on_date",
        "customer",
        "customer_number_display",
        "subject",
    ]
    list_filter = ["status", "issued_on", "series", "customer"]
    # Drafts have no number (the column says so; filter by status); posting them one by
    # one (Status "Posted", save) or with this action issues it.
    actions = [issue_action(status="posted")]  # "Post the selected drafts", translated
    search_fields = ["number_display", "customer__name", "subject"]
    date_hierarchy = "issued_on"
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    inlines = [InvoiceLineInline, CreditNoteInline]
    issued_on_date = date_column("issued_on", _("date"))


@admin.register(CreditNote)
class CreditNoteAdmin(DemoAdmin):
    list_display = ["number_display", "issued_on_date", "customer", "invoice", "amount"]
    list_filter = ["issued_on", "customer"]
    search_fields = ["number_display", "customer__name", "reason", "invoice__number_display"]
    list_select_related = ["customer", "invoice"]
    autocomplete_fields = ["customer", "invoice"]
    issued_on_date = date_column("issued_on", _("date"))


@admin.register(Order)
class OrderAdmin(DemoAdmin):
    list_display = ["number_display", "placed_at_date", "customer", "description"]
    list_filter = ["placed_at", "customer"]
    search_fields = ["number_display", "customer__name", "description"]
    list_select_related = ["customer", "invoice"]
    autocomplete_fields = ["customer", "invoice"]
    placed_at_date = date_column("placed_at", _("placed at"), with_time=True)
