"""Admins of the test models, built with docnumbers' mixin."""

from django.contrib import admin

from docnumbers.admin import DocumentNumberAdminMixin, issue_action

from .models import (
    Customer,
    DraftInvoice,
    Invoice,
    Quote,
    SimpleModel,
    Ticket,
)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Invoice)
class InvoiceAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
    list_display = ["invoice_number", "customer", "issued_on"]
    search_fields = ["customer__name"]


@admin.register(Quote)
class QuoteAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
    list_display = ["number", "series"]


@admin.register(Ticket)
class TicketAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
    fieldsets = [(None, {"fields": ["number", "title"]})]


@admin.register(SimpleModel)
class SimpleModelAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
    pass


@admin.register(DraftInvoice)
class DraftInvoiceAdmin(DocumentNumberAdminMixin, admin.ModelAdmin):
    list_display = ["number", "customer", "issued_on", "status"]
    actions = [issue_action("Post the selected drafts", status="posted")]
