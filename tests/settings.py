"""Test settings: the database comes from DATABASE_URL (SQLite in a temp file when unset)."""

import os

import dj_database_url
import django

SECRET_KEY = "docnumbers-tests-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Europe/Paris"
ALLOWED_HOSTS = ["*"]

_url = os.environ.get("DATABASE_URL", "")
if _url:
    DATABASES = {"default": dj_database_url.parse(_url, conn_max_age=0)}
else:
    # A file, not :memory:, so that threads with their own connections share it.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": "docnumbers-test.db",
            # Writers in threads wait for each other instead of failing at once.
            "OPTIONS": {"timeout": 30},
            "TEST": {
                "NAME": os.path.join(
                    os.environ.get("TMPDIR", "/tmp"), f"docnumbers-test-{os.getpid()}.db"
                )
            },
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # As the README recommends for SQLite with concurrent writers: take the write
    # lock at BEGIN, so that a transaction that read first never fails to upgrade.
    if django.VERSION >= (5, 1):
        DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    else:
        # Django 4.2 has no transaction_mode: the same BEGIN IMMEDIATE from a subclass
        # of its SQLite backend.
        DATABASES["default"]["ENGINE"] = "tests.sqlite_immediate"

# Parallel runs against one server each need their own test database.
if os.environ.get("TEST_DB_NAME"):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ["TEST_DB_NAME"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {})["charset"] = "utf8mb4"
    DATABASES["default"].setdefault("TEST", {}).update(
        {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    )

# A second database on the same server, to prove that counters follow `using=`.
DATABASES["other"] = {
    **DATABASES["default"],
    "TEST": {
        **DATABASES["default"].get("TEST", {}),
        "NAME": (DATABASES["default"].get("TEST", {}).get("NAME") or "test_docnumbers") + "_other",
    },
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "adminsortable2",
    "docnumbers",
    "tests.testapp",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language picks the admin's (the French admin test).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
