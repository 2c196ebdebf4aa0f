"""The only code that moves counter rows: issuing numbers, and audited moves by hand.

Every number comes from one statement that creates or advances the counter row
of its key and returns the new value, under the row lock of the caller's
transaction (the statements are in ``backends``). Where the backend has none, and
for ``nowait``, the ORM path locks the row with ``select_for_update``.

``move_counter`` is the one way to set a counter to a value by hand (the
admin's "set next value", ``docnumbers sync``): under the row lock, recorded as
a CounterChange with who, when, old, new, reason and source.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

from django.db import DataError, IntegrityError, OperationalError, connections, router, transaction
from django.db.models import BigIntegerField, ProtectedError
from django.db.models.expressions import Expression

from . import backends, registry
from .exceptions import CounterLocked, CounterMoveRefused, CounterOverflow
from .formatting import is_int
from .keys import SequenceKey, key_text, parse_scope, scope_text, shorten

#: Counter values are 64-bit signed integers on every backend.
MIN_VALUE = -(2**63)
MAX_VALUE = 2**63 - 1


def _counter_model():
    # Inner import because models cannot be imported before their application.
    from .models import Counter

    return Counter


def _using(using):
    return using or router.db_for_write(_counter_model())


def _as_key(key, *, reading: bool = False) -> SequenceKey:
    if isinstance(key, SequenceKey):
        return key
    if not isinstance(key, str) or not key:
        raise TypeError(f"A sequence key must be a non-empty string, not {key!r}.")
    head = key.split("#", 1)[0].split("|", 1)[0].split("@", 1)[0]
    field = None if reading else registry.by_sequence_label().get(head)
    if field is not None:
        raise ValueError(
            f"{key!r} names the counters of {field.model._meta.label}.{field.name}; the "
            "function API would issue or delete that field's numbers outside it. Choose "
            "another name for this sequence."
        )
    return SequenceKey(sequence=key)


def check_int(name: str, value) -> None:
    """Raise TypeError unless ``value`` is an int (bools and floats are refused)."""
    if not is_int(value):
        raise TypeError(f"{name} must be an int, not {value!r}.")


def check_range(name: str, value: int, key=None) -> None:
    """Raise CounterOverflow unless ``value`` fits a 64-bit signed integer."""
    if not MIN_VALUE <= value <= MAX_VALUE:
        where = f" of {key.text!r}" if key is not None else ""
        raise CounterOverflow(
            f"{name}{where} would be {value}, outside the 64-bit range "
            f"{MIN_VALUE}..{MAX_VALUE} of every counter. Start a new sequence "
            "(another key, series or start_at) instead."
        )


def _new_row(key: SequenceKey, value: int, number_format_id) -> list:
    """The values of a new counter row, in ``backends.base.COUNTER_COLUMNS`` order."""
    # The sequence column holds 255 characters, like the key: a longer name of the
    # function API is kept as its head and a digest, as the key is.
    return [key.text, value, shorten(key.sequence), key.scope_text, key.period, number_format_id]


def _advanced(current, count, floor, reset_value, start_at):
    """The counter's value after issuing ``count``: what the counter SQL computes, in Python."""
    value = (current if floor is None else max(current, floor)) + count
    if reset_value is not None and value >= reset_value:
        value = start_at
    return value


def _statement_params(count, floor, reset_value, start_at):
    """The purpose (see ``backends.base``) and its parameters after the new row's values."""
    if reset_value is not None:
        return "issue_wrapping", [reset_value - count, start_at, count]
    if floor is not None:
        return "issue_above", [MAX_VALUE - count, floor, count, floor + count]
    return "issue", [MAX_VALUE - count, count]


def _check_request(key, count, start_at, floor, reset_value) -> None:
    """TypeError, ValueError or CounterOverflow for what ``take`` cannot serve."""
    check_int("count", count)
    check_int("start_at", start_at)
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}.")
    if reset_value is not None:
        check_int("reset_value", reset_value)
        check_range("reset_value", reset_value, key)
    if floor is not None:
        check_int("floor", floor)
        check_range("The number", floor, key)
        check_range("The counter", floor + count, key)


def _is_overflow(exc: Exception) -> bool:
    text = str(exc).lower()
    return "out of range" in text or ("value" in text and "null" in text)


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
    """Advance the counter of ``key`` by ``count``; return ``(counter id, last value)``.

    Issues ``last - count + 1 .. last``. ``floor`` first raises the counter to at
    least that value (explicit numbers); ``reset_value`` wraps to ``start_at``
    (``count == 1``). Leaving the 64-bit range raises CounterOverflow.
    """
    key = _as_key(key)
    _check_request(key, count, start_at, floor, reset_value)
    first = _advanced(start_at - 1, count, floor, reset_value, start_at)
    check_range("The counter", first, key)
    using = _using(using)
    connection = connections[using]
    ops = backends.ops(connection)
    if nowait or ops.counter_statement("issue") is None:
        return _take_with_orm(
            key,
            count,
            first=first,
            start_at=start_at,
            floor=floor,
            reset_value=reset_value,
            number_format_id=number_format_id,
            nowait=nowait,
            using=using,
        )
    purpose, step = _statement_params(count, floor, reset_value, start_at)
    params = _new_row(key, first, number_format_id) + step
    try:
        with connection.cursor() as cursor:
            return ops.take(cursor, purpose, key.text, step, params)
    except (IntegrityError, DataError) as exc:
        if _is_overflow(exc):
            raise CounterOverflow(
                f"The counter {key.text!r} is at the end of the 64-bit range and cannot issue "
                f"{count} more number(s). Start a new sequence instead."
            ) from exc
        raise


#: (alias, database name) -> whether the next-value function of the initial migration is there.
_in_insert: dict = {}
#: The output field of that expression (made once: a Field costs to build).
_NUMBER = BigIntegerField()


class NextValue(Expression):
    """``docnumbers_next_value(...)`` in an INSERT: the number of a plain field.

    Not a RawSQL: that one resolves every column of the model's parents whose name
    appears in its text ("number" is in "docnumbers_next_value"), a join that the
    INSERT of a multi-table child refuses (FieldError). It reads no column. (#18)
    """

    def __init__(self, params):
        super().__init__(output_field=_NUMBER)
        self.params = list(params)

    def as_sql(self, compiler, connection):
        return backends.ops(connection).next_value_sql(), self.params


def in_insert(key: SequenceKey, start_at: int, using: str):
    """The next value of ``key`` as an expression for the INSERT that stores it, or None.

    PostgreSQL (docnumbers' initial migration): the INSERT calls ``docnumbers_next_value``, which
    moves the counter row as ``take`` does and keeps it locked until COMMIT, and
    returns the number with the row: one statement per save instead of two. Past
    the 64-bit range the INSERT fails with a DataError naming the counter.
    None elsewhere, or while the function is missing: use ``take``.
    """
    connection = connections[using]
    ops = backends.ops(connection)
    if not ops.can_number_in_insert:
        return None
    ident = (using, connection.settings_dict["NAME"])
    present = _in_insert.get(ident)
    if present is None:
        with connection.cursor() as cursor:
            cursor.execute(ops.has_next_value_sql())
            present = _in_insert[ident] = bool(cursor.fetchone()[0])
    if not present:
        return None
    check_int("start_at", start_at)
    check_range("The counter", start_at, key)
    params = [key.text, shorten(key.sequence), key.scope_text, start_at]
    return NextValue(params)


def forget_functions() -> None:
    """Look for the initial migration's function again (after a migrate)."""
    _in_insert.clear()


def _take_with_orm(
    key, count, *, first, start_at, floor, reset_value, number_format_id, nowait, using
):
    """The portable path: SELECT ... FOR UPDATE [NOWAIT], then INSERT or UPDATE.

    ``first`` is the value a new counter row starts with.
    """
    connection = connections[using]
    no_wait = backends.ops(connection).no_wait(connection) if nowait else contextlib.nullcontext()
    try:
        with no_wait:
            with transaction.atomic(using=using, savepoint=False):
                row = _locked_row(key, first, number_format_id, nowait=nowait, using=using)
                if row is None:
                    return _counter_model().objects.using(using).get(key=key.text).pk, first
                counter_id, value = row
                value = _advanced(value, count, floor, reset_value, start_at)
                check_range("The counter", value, key)
                _counter_model().objects.using(using).filter(pk=counter_id).update(value=value)
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


def _locked_row(key, first, number_format_id, *, nowait, using):
    """``(id, value)`` of the locked counter row of ``key``; None when this call created it."""
    counters = _counter_model().objects.using(using)
    locked = counters.select_for_update(nowait=nowait).filter(key=key.text)
    row = locked.values_list("id", "value").first()
    if row is not None:
        return row
    values = _new_row(key, first, number_format_id)
    try:
        with transaction.atomic(using=using):
            counters.create(
                key=values[0],
                value=values[1],
                sequence=values[2],
                scope=values[3],
                period=values[4],
                number_format_id=values[5],
            )
        return None
    except IntegrityError:
        # Another transaction created it first; now wait for its lock.
        return locked.values_list("id", "value").get()


def loaded_value(counter_id, key_text: str, value: int, using: str) -> int:
    """The value a counter row that ``loaddata`` writes raw keeps: never below the value
    its row holds here already (loading an older dump again must not reissue numbers)."""
    held = (
        _counter_model()
        ._default_manager.using(using)
        .filter(pk=counter_id, key=key_text)
        .values_list("value", flat=True)
        .first()
    )
    return value if held is None or held <= value else held


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
    check_int("count", count)
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
        .filter(key=_as_key(key, reading=True).text)
        .values_list("value", flat=True)
        .first()
    )


def delete_counter(key: str, *, using: str | None = None) -> bool:
    """Delete the counter row of ``key``; return whether there was one."""
    Counter = _counter_model()
    counters = Counter.objects.using(_using(using)).filter(key=_as_key(key).text)
    try:
        deleted, _ = counters.delete()
    except ProtectedError as exc:
        raise ProtectedError(
            f"The sequence {key!r} cannot be deleted: its counter has a recorded history "
            "(counter changes, gap explanations), which auditors rely on and docnumbers "
            "never deletes. Keep it, or start a new sequence under another name.",
            exc.protected_objects,
        ) from None
    return bool(deleted)


def has_counters(sequence: str, scope_field: str | None = None, *, using="default") -> bool:
    """Whether counters of ``sequence`` exist (with ``scope_field`` in their scope, when
    given); False while docnumbers' tables are not there yet (a fresh database)."""
    Counter = _counter_model()
    if not router.allow_migrate_model(using, Counter):
        return False
    connection = connections[using]
    if Counter._meta.db_table not in connection.introspection.table_names():
        return False
    counters = Counter.objects.using(using).filter(sequence=sequence)
    if scope_field is not None:
        name = json.dumps(scope_field, ensure_ascii=False)  # as scope_text writes it
        counters = counters.filter(scope__contains=f"{name}:")
    return counters.exists()


def rename_sequence(old: str, new: str, scope_names=None, *, using: str | None = None) -> int:
    """Give the counters of the sequence ``old`` the name ``new`` (a model or field renamed),
    and their scopes the field names ``scope_names`` maps to (a ``unique_with`` field
    renamed); their keys follow, their values do not move. Returns how many moved.

    Without it a renamed model or field would count again from its start and issue numbers
    that its rows hold already (``operations.RenameCounters``).
    """
    Counter = _counter_model()
    using = _using(using)
    names = dict(scope_names or {})
    moved = list(Counter.objects.using(using).filter(sequence=old).order_by("pk"))
    for counter in moved:
        scope = parse_scope(counter.scope)
        counter.scope = scope_text(tuple((names.get(k, k), v) for k, v in scope.items()))
        counter.sequence = new
        counter.key = key_text(new, counter.number_format_id, counter.scope, counter.period)
    taken = Counter.objects.using(using).filter(key__in=[c.key for c in moved])
    taken = taken.exclude(pk__in=[c.pk for c in moved]).values_list("key", flat=True)
    if taken:
        raise IntegrityError(
            f"The counters of {old!r} cannot take the name {new!r}: counters of that name "
            f"exist already ({', '.join(sorted(taken)[:3])}). Numbers were issued under the "
            "new name before this migration ran; compare both with `manage.py docnumbers "
            "audit` and keep one."
        )
    Counter.objects.using(using).bulk_update(moved, ["sequence", "scope", "key"])
    return len(moved)


def move_counter(
    counter,
    value: int,
    *,
    reason: str,
    source: str,
    user=None,
    expected: int | None = None,
    forward_only: bool = False,
    check: Callable | None = None,
    withdraw_gaps: bool = False,
    using: str | None = None,
):
    """Set the last issued value of ``counter`` (a Counter or its id) to ``value``; log it.

    Runs under the counter's row lock, in one transaction with its CounterChange
    (who, when, old, new, reason, source). ``expected`` is the value the caller
    saw: if the counter moved meanwhile, CounterMoveRefused. ``check(locked)``
    may refuse with CounterMoveRefused (the admin refuses to reissue numbers).
    ``forward_only`` leaves a counter already at or above ``value`` alone.

    A move back over numbers a GapExplanation covers is refused, unless
    ``withdraw_gaps``: the same transaction then marks them withdrawn (kept).

    Returns the CounterChange, or None when nothing moved.
    """
    from .models import CounterChange

    check_int("value", value)
    check_range("The counter", value)
    Counter = _counter_model()
    counter_id = counter.pk if isinstance(counter, Counter) else counter
    using = using or (counter._state.db if isinstance(counter, Counter) else None)
    using = _using(using)
    with transaction.atomic(using=using):
        locked = Counter.objects.using(using).select_for_update().get(pk=counter_id)
        old = locked.value
        if expected is not None and old != expected:
            raise CounterMoveRefused(
                f"The counter moved from {expected} to {old} meanwhile; "
                "check the new value and try again."
            )
        if old == value or (forward_only and old >= value):
            return None
        if check is not None:
            check(locked)
        explained = _explained_numbers(counter_id, value, old, withdraw_gaps, using)
        Counter.objects.using(using).filter(pk=counter_id).update(value=value)
        locked.value = value
        change = CounterChange.objects.using(using).create(
            counter=locked,
            old_value=old,
            new_value=value,
            reason=reason,
            source=source,
            changed_by=user,
            changed_by_name=user.get_username() if user is not None else "",
        )
        _withdraw(explained, change, using)
        return change


def _explained_numbers(counter_id, value: int, old: int, withdraw: bool, using) -> list:
    """The explanations in force that a move from ``old`` back to ``value`` makes untrue;
    CounterMoveRefused if there are some and ``withdraw`` is not given."""
    from .models import GapExplanation

    if value >= old:
        return []
    covering = GapExplanation.objects.using(using).covering(counter_id, value + 1, old)
    explained = list(covering.order_by("first", "pk"))
    if explained and not withdraw:
        raise CounterMoveRefused(_explained_message(explained, value), field="withdraw_gaps")
    return explained


def _withdraw(explained: list, change, using) -> None:
    """Mark ``explained`` withdrawn by ``change``: kept for the history, out of the audit."""
    if explained:
        rows = type(explained[0])._base_manager.using(using)
        rows.filter(pk__in=[e.pk for e in explained]).update(
            withdrawn_at=change.changed_at, withdrawn_by_change=change
        )


def _explained_message(explained, value: int) -> str:
    """Why a move back is refused: the explanations it would make untrue, named."""
    from django.utils.translation import gettext

    records = "; ".join(
        gettext("%(span)s: %(kind)s (%(reason)s)")
        % {"span": e.span, "kind": e.get_kind_display(), "reason": e.reason}
        for e in explained
    )
    return gettext(
        "Numbers from %(first)s on would be issued again, but they are explained as "
        "missing: %(records)s. Withdraw these explanations with this move (they stay in "
        "the history), or choose a next number above them."
    ) % {"first": value + 1, "records": records}
