from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicingConfig(AppConfig):
    name = "sample_erp.invoicing"
    label = "invoicing"
    verbose_name = _("Invoicing (docnumbers demo)")
    default_auto_field = "django.db.models.BigAutoField"
