"""Settings for benchmarks/audit_1m.py; the database comes from AUDIT_BENCH_URL."""

import os

import dj_database_url

SECRET_KEY = "docnumbers-audit-benchmark"
USE_TZ = True
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get(
            "AUDIT_BENCH_URL", "postgres://postgres@127.0.0.1:5432/docnumbers_bench_audit"
        )
    )
}
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "docnumbers",
    "benchmarks.audit",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Tables straight from the models: the benchmark needs no data migration of the app.
MIGRATION_MODULES = {"docnumbers": None, "auth": None, "contenttypes": None}
