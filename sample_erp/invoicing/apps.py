from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "sample_erp.invoicing"
    label = "invoicing"
    verbose_name = "Invoicing (docnumbers demo)"
    default_auto_field = "django.db.models.BigAutoField"
