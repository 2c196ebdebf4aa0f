"""Shared fixtures, and the check that the tests run on the database DATABASE_URL names."""

import os

import pytest
from django.db import connection

EXPECTED = {"postgres": "postgresql", "pgsql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}


def pytest_report_header(config):
    url = os.environ.get("DATABASE_URL", "") or "sqlite (DATABASE_URL unset)"
    return f"docnumbers database: {url.split('@')[-1]}"


@pytest.fixture(autouse=True, scope="session")
def _database_is_the_one_asked_for(django_db_setup, django_db_blocker):
    url = os.environ.get("DATABASE_URL", "")
    expected = EXPECTED.get(url.split(":", 1)[0], "sqlite") if url else "sqlite"
    assert connection.vendor == expected, f"tests ran on {connection.vendor}, not {expected}"


@pytest.fixture
def vendor():
    return connection.vendor
