"""The portable operations: what every backend runs, and the ORM fallback for counters.

``Operations`` has no counter statement of its own (``counter_statement`` is
None: ``allocation`` locks the row with ``select_for_update`` and updates it
through the ORM), no COMMIT hook and no exact collation to ask for. The audit's
queries (``audit_summary_sql``, ``audit_gaps_sql``, ``shared_texts_sql``) and
the format version are standard SQL that every supported backend runs.

Counter statements create the row of a key at its first value, or move it
under the row lock, and return ``(id, value)``. Their parameters: the six
values of a new row (``COUNTER_COLUMNS``), then those of the purpose:

- ``issue``: limit, count
- ``issue_above``: limit, floor, count, floor + count (first raise the value to the floor)
- ``issue_wrapping``: reset_value - count, start_at, count (wrap to start_at)

``limit`` is the highest value that can still advance by ``count`` within 64 bits;
a counter above it becomes NULL, which the NOT NULL column refuses, so an
overflow is an error on every backend (SQLite would otherwise store a float).
"""

from __future__ import annotations

import contextlib

from django.db.backends.utils import truncate_name

COUNTER_TABLE = "docnumbers_counter"
#: The columns of a new counter row, in the order of ``allocation``'s values.
COUNTER_COLUMNS = ("key", "value", "sequence", "scope", "period", "number_format_id")

#: The value each purpose sets, from the current one (``{v}``); ``%s`` are its parameters.
NEW_VALUE = {
    "issue": "CASE WHEN {v} <= %s THEN {v} + %s END",
    "issue_above": "CASE WHEN {v} > %s THEN NULL WHEN {v} > %s THEN {v} + %s ELSE %s END",
    "issue_wrapping": "CASE WHEN {v} >= %s THEN %s ELSE {v} + %s END",
}


class Operations:
    """A backend docnumbers has no statements for: counters move through the ORM."""

    #: Whether late numbers can be taken by a deferred trigger at COMMIT.
    has_commit_hook = False
    #: Whether an INSERT can take its number by calling a function and return it.
    can_number_in_insert = False

    def __init__(self, connection):
        # Bound to no connection object: connections are per thread, these are per alias.
        self.alias = connection.alias
        self.vendor = connection.vendor
        self.quote_name = type(connection.ops).quote_name.__get__(connection.ops)
        self.max_name_length = connection.ops.max_name_length()

    def __repr__(self):
        return f"<{type(self).__name__} {self.alias!r}>"

    def name(self, text: str) -> str:
        """An identifier: cut to the backend's longest name (with a hash), then quoted."""
        return self.quote_name(truncate_name(text, self.max_name_length))

    def _insert_counter(self) -> str:
        columns = ", ".join(self.quote_name(c) for c in COUNTER_COLUMNS)
        marks = ", ".join(["%s"] * len(COUNTER_COLUMNS))
        return f"INSERT INTO {self.quote_name(COUNTER_TABLE)} ({columns}) VALUES ({marks}) "

    # -- counters ----------------------------------------------------------------------------

    def counter_statement(self, purpose: str) -> str | None:
        """The one-statement upsert for ``purpose``, or None (use the ORM)."""
        return None

    def take(self, cursor, purpose: str, key_text: str, step: list, params: list):
        """Run ``purpose``'s counter statement; ``(id, value)``. Only when it has one."""
        cursor.execute(self.counter_statement(purpose), params)
        return cursor.fetchone()

    def no_wait(self, connection):
        """A context in which a lock conflict fails at once (``nowait``): the row lock's own."""
        return contextlib.nullcontext()

    # -- the audit ---------------------------------------------------------------------------

    def snapshot_sql(self) -> str | None:
        """The statement that makes a transaction one read-only snapshot, if one is needed."""
        return None

    def audit_summary_sql(self, table, group_columns, number, where, day=None) -> str:
        """Per group: its columns, COUNT, MIN, MAX (and the same from ``day >= %s`` on)."""
        qn = self.quote_name
        groups = [qn(c) for c in group_columns]
        n = qn(number)
        select = [*groups, "COUNT(*)", f"MIN({n})", f"MAX({n})"]
        if day is not None:
            d = qn(day)
            select += [
                f"COUNT(CASE WHEN {d} >= %s THEN 1 END)",
                f"MIN(CASE WHEN {d} >= %s THEN {n} END)",
                f"MAX(CASE WHEN {d} >= %s THEN {n} END)",
            ]
        sql = f"SELECT {', '.join(select)} FROM {qn(table)} WHERE {self._where(groups, n, where)}"
        if groups:
            sql += f" GROUP BY {', '.join(groups)}"
        return sql

    def _where(self, groups, number, group_not_null) -> str:
        where = [f"{number} IS NOT NULL"]
        if group_not_null:
            where.append(f"{groups[0]} IS NOT NULL")
        return " AND ".join(where)

    def audit_gaps_sql(self, table, group_columns, number, where, day=None) -> str:
        """Per group, each number that does not follow the one before it, and that one."""
        qn = self.quote_name
        groups = [qn(c) for c in group_columns]
        n = qn(number)
        inner = [*groups, n]
        outer_where = f"w.{n} - w.docnumbers_prev <> 1"
        if day is not None:
            inner.append(qn(day))
            outer_where += f" AND w.{qn(day)} >= %s"
        partition = f"PARTITION BY {', '.join(groups)} " if groups else ""
        return (
            f"SELECT {', '.join(f'w.{c}' for c in groups + [n])}, w.docnumbers_prev "
            f"FROM (SELECT {', '.join(inner)}, "
            f"LAG({n}) OVER ({partition}ORDER BY {n}) AS docnumbers_prev "
            f"FROM {qn(table)} WHERE {self._where(groups, n, where)}) w WHERE {outer_where}"
        )

    def shared_texts_sql(self, columns) -> str:
        """The texts that more than one of ``columns`` ((table, column) pairs) store."""
        qn = self.quote_name
        selects = [
            f"SELECT {qn(name)} AS docnumbers_text, {i} AS docnumbers_src "
            f"FROM {qn(table)} WHERE {qn(name)} IS NOT NULL"
            for i, (table, name) in enumerate(columns, 1)
        ]
        return (
            f"SELECT u.docnumbers_text FROM ({' UNION ALL '.join(selects)}) u "
            "GROUP BY u.docnumbers_text HAVING COUNT(DISTINCT u.docnumbers_src) > 1 "
            "ORDER BY u.docnumbers_text"
        )

    # -- columns -----------------------------------------------------------------------------

    def exact_collation(self) -> str | None:
        """The collation that compares byte for byte (None: the default does)."""
        return None


class OnConflictOperations(Operations):
    """``INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING`` (PostgreSQL, SQLite 3.35+)."""

    def __init__(self, connection):
        super().__init__(connection)
        features = connection.features
        self.upserts = bool(
            features.supports_update_conflicts
            and features.supports_update_conflicts_with_target
            and features.can_return_columns_from_insert
        )

    def counter_statement(self, purpose: str) -> str | None:
        if not self.upserts:
            return None
        qn = self.quote_name
        current = f"{qn(COUNTER_TABLE)}.{qn('value')}"
        return (
            f"{self._insert_counter()}ON CONFLICT ({qn('key')}) DO UPDATE SET {qn('value')} = "
            f"{NEW_VALUE[purpose].format(v=current)} RETURNING {qn('id')}, {qn('value')}"
        )
