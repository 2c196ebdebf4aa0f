"""Settings of the benchmarks.

``DATABASE_URL`` picks the main database (PostgreSQL on 127.0.0.1 by default);
``BENCH_MARIADB_URL`` adds MariaDB as a second one for the throughput benchmark
(set it to ``off`` to leave MariaDB out). Both databases are the benchmarks' own
and are created when missing.
"""

import os

import dj_database_url

SECRET_KEY = "docnumbers-benchmarks-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"

# Every docnumbers setting at its default: the figures are what users get.

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/docnumbers_bench"
DEFAULT_MARIADB_URL = "mysql://root@127.0.0.1:3306/docnumbers_bench"


def _database(url):
    database = dj_database_url.parse(url, conn_max_age=0)
    options = database.setdefault("OPTIONS", {})
    # No statement may wait for ever: a run stays bounded in time.
    if database["ENGINE"] == "django.db.backends.postgresql":
        # BENCH_SYNCHRONOUS_COMMIT=off: COMMIT returns before its WAL flush (docs/performance.md).
        commit = os.environ.get("BENCH_SYNCHRONOUS_COMMIT", "on")
        options.setdefault(
            "options",
            f"-c lock_timeout=30s -c statement_timeout=120s -c synchronous_commit={commit}",
        )
    elif database["ENGINE"] == "django.db.backends.mysql":
        options["charset"] = "utf8mb4"
        options.setdefault("init_command", "SET SESSION innodb_lock_wait_timeout = 30")
    return database


DATABASES = {"default": _database(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)}
_mariadb_url = os.environ.get("BENCH_MARIADB_URL", DEFAULT_MARIADB_URL)
if _mariadb_url and _mariadb_url.lower() != "off":
    if DATABASES["default"]["ENGINE"] != "django.db.backends.mysql":
        DATABASES["mariadb"] = _database(_mariadb_url)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "docnumbers",
    "benchmarks.benchapp",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
