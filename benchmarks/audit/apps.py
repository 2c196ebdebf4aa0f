from django.apps import AppConfig


class AuditBenchConfig(AppConfig):
    name = "benchmarks.audit"
    label = "audit_bench"
    default_auto_field = "django.db.models.BigAutoField"
