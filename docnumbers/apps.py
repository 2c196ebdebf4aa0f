from django.apps import AppConfig
from django.db import connections, router
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _

from . import adoption, allocation, checks, loading, operations, registry


class DocnumbersConfig(AppConfig):
    name = "docnumbers"
    verbose_name = _("Document numbers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        checks.register()
        loading.connect()
        pre_migrate.connect(adoption.refuse_unnumbered_rows, sender=self)
        pre_migrate.connect(operations.refuse_renames_without_counters, sender=self)
        post_migrate.connect(seed_declared_formats, sender=self)
        post_migrate.connect(forget_functions, sender=self)


def seed_declared_formats(using="default", **kwargs):
    """After migrate, create the NumberFormats that fields declare and the database lacks."""
    # Inner import because models cannot be imported before their application.
    from .models import NumberFormat

    if not router.allow_migrate_model(using, NumberFormat):
        return
    if NumberFormat._meta.db_table not in connections[using].introspection.table_names():
        return
    seen = set()
    for field in registry.fields():
        defaults = field.format_defaults
        if defaults is None or defaults.code in seen:
            continue
        seen.add(defaults.code)
        if not NumberFormat.objects.using(using).filter(code=defaults.code).exists():
            NumberFormat.objects.using(using).seed(defaults)


def forget_functions(using="default", **kwargs):
    """After migrate, the function that numbers a plain field in its INSERT may have
    come or gone."""
    allocation.forget_functions()
