"""The only code that reads or writes counter rows.

Every number comes from one statement that creates or increments the counter
row of its key and returns the new value, under the row lock of the caller's
transaction: PostgreSQL and SQLite use ``INSERT ... ON CONFLICT DO UPDATE ...
RETURNING``, MariaDB ``INSERT ... ON DUPLICATE KEY UPDATE ... RETURNING``. Other
backends, and ``nowait``, use ``select_for_update`` through the ORM.
"""

from __future__ import annotations

import contextlib
import hashlib

from django.db import IntegrityError, OperationalError, connections, router, transaction

from .exceptions import CounterLocked
from .keys import SequenceKey


def _counter_model():
    # Inner import because models cannot be imported before their application.
    from .models import Counter

    return Counter


def _using(using):
    return using or router.db_for_write(_counter_model())


def _as_key(key) -> SequenceKey:
    if isinstance(key, SequenceKey):
        return key
    if not isinstance(key, str) or not key:
        raise TypeError(f"A sequence key must be a non-empty string, not {key!r}.")
    return SequenceKey(sequence=key)


def _check_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {value!r}.")


_COUNTER_COLUMNS = ("key", "value", "sequence", "scope", "period", "number_format_id")


def _counter_row(key: SequenceKey, value: int, number_format_id) -> list:
    """The values of a new counter row, in _COUNTER_COLUMNS order."""
    return [key.text, value, key.sequence, key.scope_text, key.period, number_format_id]


def _upsert_sql(connection, table, *, floor, reset):
    """The one-statement upsert for this backend, or None where there is none."""
    qn = connection.ops.quote_name
    value = qn("value")
    columns = ", ".join(qn(c) for c in _COUNTER_COLUMNS)
    if connection.vendor == "postgresql":
        current = f"{table}.{value}"
        greatest = "GREATEST"
    elif connection.vendor == "sqlite":
        current = value
        greatest = "MAX"
    elif connection.vendor == "mysql" and connection.mysql_is_mariadb:
        current = f"{table}.{value}"
        greatest = "GREATEST"
    else:
        return None
    new = f"{greatest}({current}, %s) + %s" if floor is not None else f"{current} + %s"
    if reset is not None:
        new = f"CASE WHEN {new} >= %s THEN %s ELSE {new} END"
    if connection.vendor == "mysql":
        conflict = f"ON DUPLICATE KEY UPDATE {value} = {new}"
    else:
        conflict = f"ON CONFLICT ({qn('key')}) DO UPDATE SET {value} = {new}"
    return (
        f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s) "
        f"{conflict} RETURNING {qn('id')}, {value}"
    )


def take(
    key: SequenceKey | str,
    count: int = 1,
    *,
    start_at: int = 1,
    floor: int | None = None,
    reset_value: int | None = None,
    number_format_id: int | None = None,
    nowait: bool = False,
    using: str | None = None,
) -> tuple[int, int]:
    """Advance the counter of ``key`` by ``count`` and return ``(counter id, last value)``.

    The values issued are ``last - count + 1 .. last``. ``floor`` first moves the
    counter up to at least that value (explicit numbers from imports); it never
    moves it down. With ``reset_value``, a value reaching it starts again at
    ``start_at`` (only for ``count == 1``).
    """
    key = _as_key(key)
    _check_int("count", count)
    _check_int("start_at", start_at)
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}.")
    using = _using(using)
    connection = connections[using]
    Counter = _counter_model()
    table = connection.ops.quote_name(Counter._meta.db_table)
    # The value a new counter row starts with: as if it had been at start_at - 1.
    first = _advanced(start_at - 1, count, floor, reset_value, start_at)
    sql = None if nowait else _upsert_sql(connection, table, floor=floor, reset=reset_value)
    if sql is None:
        return _take_locked(
            key, count, first, start_at, floor, reset_value, number_format_id, nowait, using
        )
    params = _counter_row(key, first, number_format_id)
    step = [count] if floor is None else [floor, count]
    params += step
    if reset_value is not None:
        params += [reset_value, start_at, *step]
    guard = _creation_guard(connection, using, key) if connection.vendor == "mysql" else None
    with guard or contextlib.nullcontext():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            counter_id, last = cursor.fetchone()
    return counter_id, last


#: MariaDB counter rows known to exist (committed): (alias, database name, key).
_known_rows: set[tuple[str, str, str]] = set()


def forget_known_rows(using: str) -> None:
    """Forget which counter rows exist on ``using`` (its tables were flushed or migrated)."""
    for ident in [i for i in _known_rows if i[0] == using]:
        _known_rows.discard(ident)


@contextlib.contextmanager
def _creation_guard(connection, using, key):
    """MariaDB: let one transaction at a time create a missing counter row.

    When several transactions upsert a counter row that does not exist yet and
    the one that inserted it rolls back, InnoDB's duplicate-key gap locks can
    deadlock the others, and a deadlock rolls back a whole transaction. So an
    upsert that may create the row first takes a named lock (GET_LOCK, outside
    any transaction), held only for that statement. Rows known to exist skip it.
    """
    ident = (using, str(connection.settings_dict["NAME"]), key.text)
    if ident in _known_rows:
        yield
        return
    name = "docnumbers:" + hashlib.sha1(key.text.encode()).hexdigest()
    connection.ensure_connection()
    # The raw cursor: named locks are not part of the transaction, and must be
    # released even when Django would refuse queries after an error.
    raw = connection.connection.cursor()
    try:
        raw.execute("SELECT GET_LOCK(%s, %s)", [name, LOCK_WAIT_SECONDS])
        (granted,) = raw.fetchone()
        if granted != 1:
            raise OperationalError(
                f"Timed out after {LOCK_WAIT_SECONDS} s waiting to create the counter "
                f"{key.text!r}; another transaction is creating it."
            )
        try:
            yield
        finally:
            raw.execute("SELECT RELEASE_LOCK(%s)", [name])
            raw.fetchall()
    finally:
        raw.close()
    transaction.on_commit(lambda: _known_rows.add(ident), using=using)


#: How long a MariaDB transaction waits for another to create the same counter row.
LOCK_WAIT_SECONDS = 50


@contextlib.contextmanager
def _no_wait(connection):
    """Make a lock conflict fail at once instead of waiting (SQLite's busy timeout)."""
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    # The raw connection: Django refuses queries in a transaction marked for rollback,
    # and the timeout must be restored even then.
    raw = connection.connection
    (previous,) = raw.execute("PRAGMA busy_timeout").fetchone()
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(previous)}")


def _advanced(current, count, floor, reset_value, start_at):
    """The counter's value after issuing ``count``: what the upsert SQL computes, in Python."""
    value = (current if floor is None else max(current, floor)) + count
    if reset_value is not None and value >= reset_value:
        value = start_at
    return value


def _take_locked(key, count, first, start_at, floor, reset_value, number_format_id, nowait, using):
    """The portable path: SELECT ... FOR UPDATE [NOWAIT], then INSERT or UPDATE.

    ``first`` is the value a new counter row starts with.
    """
    Counter = _counter_model()
    connection = connections[using]
    counters = Counter.objects.using(using)
    try:
        with _no_wait(connection) if nowait else contextlib.nullcontext():
            with transaction.atomic(using=using, savepoint=False):
                locked = counters.select_for_update(nowait=nowait).filter(key=key.text)
                row = locked.values_list("id", "value").first()
                if row is None:
                    new_row = _counter_row(key, first, number_format_id)
                    try:
                        with transaction.atomic(using=using):
                            counter = counters.create(
                                **dict(zip(_COUNTER_COLUMNS, new_row, strict=True))
                            )
                        return counter.pk, first
                    except IntegrityError:
                        # Another transaction created it first; now wait for its lock.
                        row = locked.values_list("id", "value").get()
                counter_id, value = row
                value = _advanced(value, count, floor, reset_value, start_at)
                counters.filter(pk=counter_id).update(value=value)
                return counter_id, value
    except CounterLocked:
        raise
    except OperationalError as exc:
        if nowait:
            raise CounterLocked(
                f"The counter {key.text!r} is locked by another transaction "
                "(nowait=True was asked). Retry later or call without nowait."
            ) from exc
        raise


def _find_or_make_counter_sql(connection, table) -> str:
    """PostgreSQL: a CTE ``counter(id)`` that creates the row if missing, without locking it.

    Parameters: the _counter_row values, then the key again.
    """
    qn = connection.ops.quote_name
    return (
        f"WITH made AS (INSERT INTO {table} ({', '.join(qn(n) for n in _COUNTER_COLUMNS)}) "
        f"VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT ({qn('key')}) DO NOTHING "
        f"RETURNING {qn('id')}), "
        f"counter AS (SELECT {qn('id')} FROM made UNION ALL "
        f"SELECT {qn('id')} FROM {table} WHERE {qn('key')} = %s LIMIT 1) "
    )


def ensure_counter(
    key: SequenceKey, *, start_at: int = 1, number_format_id=None, using=None
) -> int:
    """Create the counter row of ``key`` if missing, without locking it; return its id.

    Late allocation uses it: the row must exist before COMMIT, but only the
    deferred trigger increments it, so no lock is held until then.
    """
    using = _using(using)
    connection = connections[using]
    Counter = _counter_model()
    row = _counter_row(key, start_at - 1, number_format_id)
    if connection.vendor != "postgresql":
        counter, _ = Counter.objects.using(using).get_or_create(
            key=key.text, defaults=dict(zip(_COUNTER_COLUMNS[1:], row[1:], strict=True))
        )
        return counter.pk
    qn = connection.ops.quote_name
    table = qn(Counter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            _find_or_make_counter_sql(connection, table) + f"SELECT {qn('id')} FROM counter",
            [*row, key.text],
        )
        found = cursor.fetchone()
        if found is None:
            # Another transaction created it while this statement waited; its
            # snapshot predates that row, a new statement sees it.
            cursor.execute(f"SELECT {qn('id')} FROM {table} WHERE {qn('key')} = %s", [key.text])
            found = cursor.fetchone()
        return found[0]


def queue_pending(
    key: SequenceKey, entry: dict, *, start_at: int = 1, number_format_id=None, using=None
) -> None:
    """Write one late-allocation queue entry, creating its counter row if missing.

    One statement on PostgreSQL; the counter row is not locked (only the COMMIT
    trigger increments it).
    """
    from .models import PendingNumber

    using = _using(using)
    connection = connections[using]
    qn = connection.ops.quote_name
    table = qn(_counter_model()._meta.db_table)
    columns = list(entry)
    sql = _find_or_make_counter_sql(connection, table) + (
        f"INSERT INTO {qn(PendingNumber._meta.db_table)} "
        f"({qn('counter_id')}, {', '.join(qn(c) for c in columns)}) "
        f"SELECT {qn('id')}, {', '.join(['%s'] * len(columns))} FROM counter"
    )
    with connection.cursor() as cursor:
        row = _counter_row(key, start_at - 1, number_format_id)
        cursor.execute(sql, [*row, key.text, *entry.values()])
        if cursor.rowcount == 1:
            return
    # The counter row was created by another transaction while this statement
    # waited, after its snapshot was taken: look again in a new statement.
    counter_id = ensure_counter(
        key, start_at=start_at, number_format_id=number_format_id, using=using
    )
    PendingNumber.objects.using(using).create(counter_id=counter_id, **entry)


def next_value(
    key: str, *, start_at: int = 1, nowait: bool = False, using: str | None = None
) -> int:
    """Return the next value of the sequence named ``key`` (``start_at`` the first time).

    Call it inside the transaction that stores the value: a rollback gives it back.
    """
    return take(key, 1, start_at=start_at, nowait=nowait, using=using)[1]


def next_values(
    key: str, count: int, *, start_at: int = 1, nowait: bool = False, using: str | None = None
) -> range:
    """Return ``count`` contiguous values of the sequence ``key`` as a range, in one statement."""
    _check_int("count", count)
    if count < 1:
        raise ValueError(f"count must be 1 or more, not {count}.")
    last = take(key, count, start_at=start_at, nowait=nowait, using=using)[1]
    return range(last - count + 1, last + 1)


def last_value(key: str, *, using: str | None = None) -> int | None:
    """Return the last value issued (and committed, or issued in this transaction) for ``key``."""
    Counter = _counter_model()
    using = using or router.db_for_read(Counter)
    return (
        Counter.objects.using(using)
        .filter(key=_as_key(key).text)
        .values_list("value", flat=True)
        .first()
    )


def move_forward(
    key: SequenceKey, value: int, *, start_at: int = 1, number_format_id=None, using=None
) -> int:
    """Make sure the counter of ``key`` is at least ``value`` (never backwards); return it."""
    return take(
        key, 0, start_at=start_at, floor=value, number_format_id=number_format_id, using=using
    )[1]


def delete_counter(key: str, *, using: str | None = None) -> bool:
    """Delete the counter row of ``key``; return whether there was one."""
    Counter = _counter_model()
    deleted, _ = Counter.objects.using(_using(using)).filter(key=_as_key(key).text).delete()
    return bool(deleted)
