"""Settings of the sample_erp demo.

SQLite in ``sample_erp/db.sqlite3`` by default; set ``DATABASE_URL`` (for example
``postgres://user@localhost/erp`` or ``mysql://root@localhost/erp``) to use
PostgreSQL or MariaDB. Not a production configuration: the secret key is public.
"""

import os
from pathlib import Path

import django

BASE_DIR = Path(__file__).resolve().parent

# Demo only: a published key and DEBUG on. Never deploy these settings.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "sample-erp-demo-only-this-key-is-public")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

_url = os.environ.get("DATABASE_URL", "")
if _url:
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(_url, conn_max_age=0)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # A file, not :memory:, so that the threads of stress_invoices share it.
            "TEST": {
                "NAME": os.path.join(
                    os.environ.get("TMPDIR", "/tmp"), f"sample-erp-test-{os.getpid()}.sqlite3"
                )
            },
        }
    }

_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers wait for the lock instead of failing at once: a write
    # transaction takes it on BEGIN (Django 5.1+), and waits up to 30 seconds.
    _db.setdefault("OPTIONS", {}).setdefault("timeout", 30)
    if django.VERSION >= (5, 1):
        _db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
if _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {})["charset"] = "utf8mb4"
    _db.setdefault("TEST", {}).update({"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"})
# Parallel test runs against one server each need their own test database.
if os.environ.get("TEST_DB_NAME"):
    _db.setdefault("TEST", {})["NAME"] = os.environ["TEST_DB_NAME"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "adminsortable2",
    "docnumbers",
    "sample_erp.invoicing",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of each request: the browser's, or the one run.py --language fixes.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "sample_erp.urls"
WSGI_APPLICATION = "sample_erp.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

USE_TZ = True
# Documents are numbered by their local date; the demo's accounts keep Paris time.
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Paris")
USE_I18N = True
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("es", "Español")]
# ``python3 sample_erp/run.py --language fr`` sets SAMPLE_ERP_LANGUAGE: every page is then
# in that language, whatever the browser asks; unset, the browser's language is used.
LANGUAGE_CODE = os.environ.get("SAMPLE_ERP_LANGUAGE") or "en"
if os.environ.get("SAMPLE_ERP_LANGUAGE"):
    LANGUAGES = [language for language in LANGUAGES if language[0] == LANGUAGE_CODE]

STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
