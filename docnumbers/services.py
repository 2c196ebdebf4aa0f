"""What the admin does to numbers, without a request or a form: upcoming numbers,
starting a period ahead of time, the never-reissue check of a counter move, and the one
function that records an explained gap (``record_gap``: the admin, ``renumber`` and the
audit's ``explain_gap`` all go through it).

Refusals raise ``CounterMoveRefused`` whose ``field`` names the input concerned, so
that a form can show them in the right place. ``models`` is imported inside functions:
``renumbering`` imports this module before the app registry is ready.
"""

from __future__ import annotations

import datetime as dt

from django.db import router, transaction
from django.utils.translation import gettext

from . import allocation, clock, days, formatting, issued, labels, registry
from .exceptions import CounterMoveRefused
from .keys import SequenceKey, scope_from_values, sequence_label

PREVIEW_COUNT = 3


def start_at_for(code: str) -> int:
    """The first value of the fields that use ``code`` (1 when none declares another)."""
    for field in registry.fields_of_code(code):
        return field.start_at
    return 1


def upcoming_numbers(
    fmt: formatting.Format, day: dt.date, number_format=None, count: int = PREVIEW_COUNT
) -> list[str]:
    """The next ``count`` numbers ``fmt`` issues on ``day``, rendered by ``formatting``.

    They continue the counter of ``number_format`` for the period of ``day`` (the
    scope-less one); without one they start at the field's ``start_at``.
    """
    from .models import Counter

    first = start_at_for(fmt.code)
    if number_format is not None and number_format.pk is not None:
        counter = (
            Counter.objects.using(number_format._state.db)
            .filter(number_format=number_format, period=fmt.period(day), scope="")
            .order_by("pk")
            .first()
        )
        if counter is not None:
            first = counter.value + 1
    return [fmt.render(day, number) for number in range(first, first + count)]


def past_or_implausible(series, field, day) -> str:
    """Why ``day``'s period cannot be started ahead of time, or '': a period that has
    begun already is started by its first document, and a date outside
    ``DOCNUMBERS_DATE_RANGE`` numbers nothing."""
    problem = days.date_problem(field, day)
    if problem:
        return problem
    fmt = series.as_format()
    today = clock.today()
    if day < today and fmt.period(day) != fmt.period(today):
        return gettext(
            "%(period)s is over: only the current period (%(current)s) or a later one can be "
            "started ahead of time."
        ) % {
            "period": labels.period_label(fmt.period(day)),
            "current": labels.period_label(fmt.period(today)),
        }
    return ""


def start_period(series, field, day, first, reason, scope_values, user, resets, using=None):
    """Create the counter of ``field`` for ``day``'s period (or, without resets, its only
    one) in ``series`` and move it so that its first number is ``first``; return it.

    Refuses (``CounterMoveRefused``) a period that is over or implausible, a sequence
    that has started already, and a first number other than the field's ``start_at``
    without a reason. The numbers a later first number skips are recorded as a gap.
    """
    from .models import Counter

    try:
        period = series.as_format().period(day) if resets else ""
    except formatting.TemplateError as exc:  # a fiscal year before year 1
        raise CounterMoveRefused(exc.message, field="day")
    if resets:
        problem = past_or_implausible(series, field, day)
        if problem:
            raise CounterMoveRefused(problem, field="day")
    scope = ()
    if field.unique_with:
        targets = [field.model._meta.get_field(name) for name in field.unique_with]
        scope = scope_from_values(targets, scope_values)
    key = SequenceKey(sequence_label(field.model, field.name), series.pk, scope, period)
    using = using or router.db_for_write(Counter)
    if Counter.objects.using(using).filter(key=key.text).exists():
        raise CounterMoveRefused(
            gettext("This sequence has started already: set its next number in the list."),
            field="day" if resets else "next_value",
        )
    start = field.start_at
    reason = reason.strip()
    if first != start and not reason:
        raise CounterMoveRefused(
            gettext("The usual first number is %(start)s; say why this one starts at %(first)s.")
            % {"start": start, "first": first},
            field="reason",
        )
    with transaction.atomic(using=using):
        counter_id, _ = allocation.take(
            key, 0, start_at=start, number_format_id=series.pk, using=using
        )
        if first != start:
            allocation.move_counter(
                counter_id,
                first - 1,
                reason=reason,
                source="admin",
                user=user,
                expected=start - 1,
                using=using,
            )
            if first > start:
                record_skipped(counter_id, start, first - 1, reason, user, using)
    return Counter.objects.using(using).select_related("number_format").get(pk=counter_id)


def lowest_next(counter, top):
    """The lowest next value of ``counter`` that issues no number a second time, ``top``
    being the highest number stored (``issued.highest_issued``)."""
    if top is not None:
        return top + 1
    if issued.rows_of(counter) is None:
        # A counter of the function API: the numbers it gave live in the caller's
        # data, which we cannot read, so it never moves back.
        return counter.value + 1
    field = issued.field_of(counter)
    return field.start_at if field is not None else counter.value + 1


def reason_needed(old, new) -> str:
    """What a move from ``old`` to ``new`` without a reason is told."""
    if new > old:
        return gettext(
            "This skips the numbers %(first)s to %(last)s; say why in the reason "
            "(they are recorded as an explained gap)."
        ) % {"first": old + 1, "last": new}
    return gettext(
        "This moves the counter back and gives out %(first)s to %(last)s "
        "again; say why in the reason."
    ) % {"first": new + 1, "last": old}


def move_check(new, reason, using):
    """``move_counter``'s check for a move by hand to the last value ``new``: no number
    issued again (the never-reissue check), a reason for every move."""

    def check(locked):
        lowest = lowest_next(locked, issued.highest_issued(locked, using))
        if new + 1 < lowest:
            raise CounterMoveRefused(
                gettext(
                    "%(value)s would issue a number that already exists; "
                    "the next value must be at least %(lowest)s."
                )
                % {"value": new + 1, "lowest": lowest},
                field="next_value",
            )
        if not reason:
            raise CounterMoveRefused(reason_needed(locked.value, new), field="reason")

    return check


def move_by_hand(counter, new, *, reason, user, expected, withdraw_gaps=False, using=None):
    """Move ``counter`` to the last value ``new`` (``allocation.move_counter``, checked by
    ``move_check``) and record the numbers it skips as an explained gap; return the
    ``CounterChange``, or None when the counter is there already. Call it inside a
    transaction on ``using``; refusals raise ``CounterMoveRefused``."""
    reason = reason.strip()
    change = allocation.move_counter(
        counter,
        new,
        reason=reason,
        source="admin",
        user=user,
        expected=expected,
        check=move_check(new, reason, using),
        withdraw_gaps=withdraw_gaps,
        using=using,
    )
    if change is not None and change.new_value > change.old_value:
        # The skipped numbers were never given out on purpose: say so to the audit.
        record_skipped(
            change.counter_id, change.old_value + 1, change.new_value, reason, user, using
        )
    return change


def record_skipped(counter_id, first, last, reason, user, using) -> None:
    """The numbers a move skipped, as an explained gap: the audit lists them as explained."""
    from .models import GapExplanation

    record_gap(
        counter_id,
        first,
        last,
        kind=GapExplanation.Kind.SKIPPED,
        reason=reason,
        user=user,
        using=using,
    )


def record_gap(counter, first, last, *, kind, reason, user=None, using=None):
    """Create the ``GapExplanation`` of ``counter`` (a Counter or its id) for the numbers
    ``first``..``last``; return it. The one place such a row is created: checks belong to
    the caller (``audit.check_gap``, a counter move, a renumbering)."""
    from .models import GapExplanation

    target = {"counter_id": counter} if isinstance(counter, int) else {"counter": counter}
    return GapExplanation.objects.using(using).create(
        **target, first=first, last=last, kind=kind, reason=reason, created_by=user
    )
