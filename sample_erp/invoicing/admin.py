"""The admin of the demo: every document uses docnumbers' ModelAdmin mixin.

The mixin turns each number named in list_display (``number_display``) into a
read-only column that sorts by the integer, adds it to the forms read-only and to
the search; NumberFormat and Counter have their own admin in docnumbers.
"""

from django.contrib import admin

from docnumbers.admin import DocumentNumberAdminMixin

from .models import CreditNote, Customer, Invoice, InvoiceLine, Order


@admin.register(Customer)
class CustomerAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "account_number", "email"]
    search_fields = ["name", "code", "email"]


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 1


class CreditNoteInline(admin.TabularInline):
    model = CreditNote
    fk_name = "invoice"
    extra = 0
    fields = ["number_display", "issued_on", "reason", "amount"]
    readonly_fields = ["number_display"]
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # A credit note is made from its own form, which checks its customer.
        return False


@admin.register(Invoice)
class InvoiceAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
    list_display = ["number_display", "issued_on", "customer", "customer_number_display", "subject"]
    list_filter = ["issued_on", "series", "customer"]
    search_fields = ["number_display", "customer__name", "subject"]
    date_hierarchy = "issued_on"
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    inlines = [InvoiceLineInline, CreditNoteInline]


@admin.register(CreditNote)
class CreditNoteAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
    list_display = ["number_display", "issued_on", "customer", "invoice", "amount"]
    list_filter = ["issued_on", "customer"]
    search_fields = ["number_display", "customer__name", "reason", "invoice__number_display"]
    list_select_related = ["customer", "invoice"]
    autocomplete_fields = ["customer", "invoice"]


@admin.register(Order)
class OrderAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
    list_display = ["number_display", "placed_at", "customer", "description", "invoice"]
    list_filter = ["placed_at", "customer"]
    search_fields = ["number_display", "customer__name", "description"]
    list_select_related = ["customer", "invoice"]
    autocomplete_fields = ["customer", "invoice"]
