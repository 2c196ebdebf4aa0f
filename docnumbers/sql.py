"""Every SQL statement docnumbers sends by hand, named by purpose, one per dialect.

A reviewer reads them here and nowhere else. ``counter_statement`` picks one by
what the connection can do (``connection.features``), not by vendor name; where
no statement fits (MySQL without RETURNING, a third-party backend, ``nowait``),
``allocation`` falls back to the ORM: ``select_for_update`` then UPDATE.

Counter statements create the row of a key at its first value, or move it
under the row lock, and return ``(id, value)``. Their parameters: the six
values of a new row (key, value, sequence, scope, period, number_format_id),
then those of the purpose:

- ``issue``: limit, count
- ``issue_above``: limit, floor, count, floor + count (first raise the value to the floor)
- ``issue_wrapping``: reset_value - count, start_at, count (wrap to start_at)

``limit`` is the highest value that can still advance by ``count`` within 64 bits;
a counter above it becomes NULL, which the NOT NULL column refuses, so an
overflow is an error on every backend (SQLite would otherwise store a float).
"""

from __future__ import annotations

# -- PostgreSQL and SQLite: INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING ---------------

_INSERT_COUNTER = (
    'INSERT INTO "docnumbers_counter" '
    '("key", "value", "sequence", "scope", "period", "number_format_id") '
    "VALUES (%s, %s, %s, %s, %s, %s) "
)
_CURRENT = '"docnumbers_counter"."value"'

ON_CONFLICT = {
    "issue": _INSERT_COUNTER + 'ON CONFLICT ("key") DO UPDATE SET "value" = '
    f'CASE WHEN {_CURRENT} <= %s THEN {_CURRENT} + %s END RETURNING "id", "value"',
    "issue_above": _INSERT_COUNTER + 'ON CONFLICT ("key") DO UPDATE SET "value" = '
    f"CASE WHEN {_CURRENT} > %s THEN NULL WHEN {_CURRENT} > %s THEN {_CURRENT} + %s ELSE %s END "
    'RETURNING "id", "value"',
    "issue_wrapping": _INSERT_COUNTER + 'ON CONFLICT ("key") DO UPDATE SET "value" = '
    f'CASE WHEN {_CURRENT} >= %s THEN %s ELSE {_CURRENT} + %s END RETURNING "id", "value"',
}

# -- MariaDB: INSERT ... ON DUPLICATE KEY UPDATE ... RETURNING ---------------------------------

_INSERT_COUNTER_MY = (
    "INSERT INTO `docnumbers_counter` "
    "(`key`, `value`, `sequence`, `scope`, `period`, `number_format_id`) "
    "VALUES (%s, %s, %s, %s, %s, %s) "
)

ON_DUPLICATE_KEY = {
    "issue": _INSERT_COUNTER_MY + "ON DUPLICATE KEY UPDATE `value` = "
    "CASE WHEN `value` <= %s THEN `value` + %s END RETURNING `id`, `value`",
    "issue_above": _INSERT_COUNTER_MY + "ON DUPLICATE KEY UPDATE `value` = "
    "CASE WHEN `value` > %s THEN NULL WHEN `value` > %s THEN `value` + %s ELSE %s END "
    "RETURNING `id`, `value`",
    "issue_wrapping": _INSERT_COUNTER_MY + "ON DUPLICATE KEY UPDATE `value` = "
    "CASE WHEN `value` >= %s THEN %s ELSE `value` + %s END RETURNING `id`, `value`",
}

# -- MariaDB: an existing counter is moved by UPDATE, a missing one created under a guard ------
#
# INSERT ... ON DUPLICATE KEY UPDATE takes a next-key lock (the row and the gap before it)
# even when the row exists, and a gap lock makes the creation of a neighbouring key wait.
# So an existing counter is moved by an UPDATE on the unique key (a record lock only),
# and only a missing one is created, one transaction at a time per guard row: a row lock
# InnoDB sees, so any cycle is reported at once as a deadlock instead of waiting out
# innodb_lock_wait_timeout. Parameters: the purpose's parameters, then the key.
#
# The UPDATE keeps the value it wrote in a user variable, which belongs to this connection
# alone: reading the row back instead could see another caller's UPDATE once this one
# committed on its own (autocommit), and hand out that value twice. (LAST_INSERT_ID(expr)
# would do the same, but it is unsigned: a negative counter would overflow it.)
MARIADB_UPDATE = {
    "issue": "UPDATE `docnumbers_counter` SET `value` = (@docnumbers_value := "
    "CASE WHEN `value` <= %s THEN `value` + %s END) WHERE `key` = %s",
    "issue_above": "UPDATE `docnumbers_counter` SET `value` = (@docnumbers_value := "
    "CASE WHEN `value` > %s THEN NULL WHEN `value` > %s THEN `value` + %s ELSE %s END) "
    "WHERE `key` = %s",
    "issue_wrapping": "UPDATE `docnumbers_counter` SET `value` = (@docnumbers_value := "
    "CASE WHEN `value` >= %s THEN %s ELSE `value` + %s END) WHERE `key` = %s",
}
#: After the UPDATE: the row's id (it never changes) and the value this UPDATE wrote.
MARIADB_COUNTER_BY_KEY = "SELECT `id`, @docnumbers_value FROM `docnumbers_counter` WHERE `key` = %s"
#: Guard rows (created by migration 0007): creating a key locks the row of its bucket.
MARIADB_GUARD_BUCKETS = 1024
MARIADB_LOCK_GUARD = "SELECT `id` FROM `docnumbers_creationguard` WHERE `id` = %s FOR UPDATE"

# -- PostgreSQL: a plain field's number taken by its own INSERT ------------------------------

#: The INSERT's value for the number column (the function is in migration 0009).
#: Parameters: key, sequence, scope, the first value of a new counter.
NEXT_VALUE_IN_INSERT = "docnumbers_next_value(%s, %s, %s, %s)"
#: Whether the database has that function (migration 0009 applied).
HAS_NEXT_VALUE_FUNCTION = (
    "SELECT to_regprocedure('docnumbers_next_value(text, text, text, bigint)') IS NOT NULL"
)

#: SQLite: read and set how long a locked database is waited for (``nowait``).
SQLITE_BUSY_TIMEOUT = "PRAGMA busy_timeout"
SQLITE_SET_BUSY_TIMEOUT = "PRAGMA busy_timeout = %d"

# -- PostgreSQL late allocation (the COMMIT trigger itself lives in migration 0002) -----------

#: A CTE ``counter(id)`` that creates the counter row if missing, without locking it.
#: Parameters: the six values of a new row, then the key again.
FIND_OR_MAKE_COUNTER = (
    'WITH made AS (INSERT INTO "docnumbers_counter" '
    '("key", "value", "sequence", "scope", "period", "number_format_id") '
    'VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT ("key") DO NOTHING RETURNING "id"), '
    'counter AS (SELECT "id" FROM made UNION ALL '
    'SELECT "id" FROM "docnumbers_counter" WHERE "key" = %s LIMIT 1) '
)
COUNTER_ID = FIND_OR_MAKE_COUNTER + 'SELECT "id" FROM counter'
COUNTER_ID_BY_KEY = 'SELECT "id" FROM "docnumbers_counter" WHERE "key" = %s'
#: One queue entry, its counter made if missing: the counter CTE's parameters, then the
#: entry's values in QUEUE_COLUMNS order.
QUEUE_COLUMNS = (
    "table_name",
    "pk_column",
    "pk_type",
    "pk_value",
    "number_column",
    "display_column",
    "counter_column",
    "prefix_text",
    "suffix_text",
    "padding",
)
QUEUE_PENDING = (
    FIND_OR_MAKE_COUNTER
    + 'INSERT INTO "docnumbers_pendingnumber" ("counter_id", '
    + ", ".join(f'"{c}"' for c in QUEUE_COLUMNS)
    + ') SELECT "id", '
    + ", ".join(["%s"] * len(QUEUE_COLUMNS))
    + " FROM counter"
)


#: The COMMIT-time backstop on a late field's table (the function is in migration 0005):
#: a row still without its number at COMMIT, and not queued, is refused.
#: Format fields: trigger name, table, number column, primary key column.
REQUIRE_NUMBER_TRIGGER = (
    'DROP TRIGGER IF EXISTS "{name}" ON "{table}"; '
    'CREATE CONSTRAINT TRIGGER "{name}" AFTER INSERT ON "{table}" '
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
    'WHEN (NEW."{column}" IS NULL) '
    "EXECUTE FUNCTION docnumbers_require_number('{column}', '{pk}')"
)

#: The value that moves with every NumberFormat change (migration 0006), read with a series.
FORMAT_VERSION = 'SELECT "value" FROM "docnumbers_formatversion" WHERE "id" = 1'

#: The static late-numbering triggers installed (``triggers.trigger_name``), by name.
STATIC_TRIGGERS = (
    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'docnumbers_late_%%'"
)
DROP_TRIGGER = 'DROP TRIGGER IF EXISTS "{name}" ON "{table}"'


def counter_statement(connection, purpose: str) -> str | None:
    """The one-statement upsert for ``purpose`` on ``connection``, or None (use the ORM)."""
    features = connection.features
    if not (features.supports_update_conflicts and features.can_return_columns_from_insert):
        return None
    if features.supports_update_conflicts_with_target:
        return ON_CONFLICT[purpose]
    if connection.vendor == "mysql":
        return ON_DUPLICATE_KEY[purpose]
    return None


def can_number_in_insert(connection) -> bool:
    """Whether an INSERT can take its number by calling a function and return it."""
    return connection.vendor == "postgresql" and connection.features.can_return_columns_from_insert


def needs_creation_guard(connection) -> bool:
    """Whether counters are moved by UPDATE and created under a guard row (InnoDB)."""
    return connection.vendor == "mysql"


def has_commit_hook(connection) -> bool:
    """Whether late numbers can be taken by a deferred trigger at COMMIT (PostgreSQL)."""
    return connection.vendor == "postgresql"
