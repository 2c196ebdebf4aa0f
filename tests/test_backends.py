"""``docnumbers.backends``: one operations class per database, chosen once per connection."""

import types

import pytest
from django.db import connection
from django.db.backends.utils import truncate_name

from docnumbers import allocation, backends, triggers
from docnumbers.backends import base, mysql, postgresql, sqlite

EXPECTED = {
    "postgresql": postgresql.PostgreSQLOperations,
    "mysql": mysql.MySQLOperations,
    "sqlite": sqlite.SQLiteOperations,
}


def test_each_database_gets_its_own_class_once():
    ops = backends.ops(connection)
    assert type(ops) is EXPECTED[connection.vendor]
    assert backends.ops(connection) is ops
    assert ops.has_commit_hook is (connection.vendor == "postgresql")


def _fake(vendor, *, upsert):
    features = types.SimpleNamespace(
        supports_update_conflicts=upsert,
        supports_update_conflicts_with_target=upsert,
        can_return_columns_from_insert=upsert,
    )
    return types.SimpleNamespace(
        alias=f"fake-{vendor}-{upsert}", vendor=vendor, ops=connection.ops, features=features
    )


def test_a_third_party_backend_gets_the_upsert_or_the_orm_by_its_features():
    try:
        plain = backends.ops(_fake("acme", upsert=False))
        assert type(plain) is base.Operations and plain.counter_statement("issue") is None
        fast = backends.ops(_fake("acme", upsert=True))
        assert type(fast) is base.OnConflictOperations
        assert "ON CONFLICT" in fast.counter_statement("issue")
    finally:
        backends.forget()


@pytest.mark.django_db
def test_counter_statements_name_tables_as_the_connection_quotes_them():
    ops = backends.ops(connection)
    statement = ops.counter_statement("issue")
    if statement is None:  # MySQL without RETURNING: the ORM moves counters
        assert (
            connection.vendor == "mysql" and not connection.features.can_return_columns_from_insert
        )
    else:
        assert connection.ops.quote_name("docnumbers_counter") in statement
    # Every backend runs the issue path, fast or portable.
    assert allocation.next_values("backends.quoted", 3) == range(1, 4)


def test_long_names_give_one_trigger_name_everywhere():
    """The trigger's name is hashed as Django truncates, where installed and removed (#20)."""
    field = types.SimpleNamespace(
        column="c" * 60, model=types.SimpleNamespace(_meta=types.SimpleNamespace(db_table="t"))
    )
    name = triggers.trigger_name(field)
    assert name == truncate_name(f"docnumbers_late_t_{'c' * 60}", 63) and len(name) == 63
    install, uninstall = postgresql.late_trigger_sql(
        name=name, table="t", pk="id", number=field.column, label="l", start_at=1, version=5
    )
    assert f'CREATE CONSTRAINT TRIGGER "{name}" ' in install
    assert f'DROP FUNCTION IF EXISTS "{name}"();' in uninstall
    assert postgresql.installed_name(install) == name
    assert name in postgresql.late_trigger_removal_sql(name)


@pytest.mark.django_db
def test_nowait_on_each_backend():
    ops = backends.ops(connection)
    with ops.no_wait(connection):
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout")
                assert cursor.fetchone()[0] == 0
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] > 0
    else:  # the row lock's own NOWAIT does the job
        assert type(ops).no_wait is base.Operations.no_wait


@pytest.mark.django_db
def test_exact_collation_of_each_backend():
    collation = backends.ops(connection).exact_collation()
    if connection.vendor == "mysql":
        expected = (
            mysql.MARIADB_EXACT_COLLATION
            if connection.mysql_is_mariadb
            else mysql.MYSQL_EXACT_COLLATION
        )
        assert collation == expected
    else:
        assert collation is None
