"""Shared fixtures, and the guard that makes a skipped test fail a strict run."""

import os

import pytest
from django.db import connection

STRICT = os.environ.get("DOCNUMBERS_STRICT_TESTS") == "1"
EXPECTED = {"postgres": "postgresql", "pgsql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}


def pytest_report_header(config):
    url = os.environ.get("DATABASE_URL", "") or "sqlite (DATABASE_URL unset)"
    return f"docnumbers database: {url.split('@')[-1]}"


def pytest_sessionfinish(session, exitstatus):
    # A run that skips tests could pass off a backend as green: refuse it.
    if not STRICT:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        reporter.write_line(f"docnumbers: {skipped} test(s) skipped; a strict run fails.", red=True)
        session.exitstatus = 1
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = 1


@pytest.fixture(autouse=True, scope="session")
def _database_is_the_one_asked_for(django_db_setup, django_db_blocker):
    url = os.environ.get("DATABASE_URL", "")
    expected = EXPECTED.get(url.split(":", 1)[0], "sqlite") if url else "sqlite"
    assert connection.vendor == expected, f"tests ran on {connection.vendor}, not {expected}"


@pytest.fixture
def vendor():
    return connection.vendor
