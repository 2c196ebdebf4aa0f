"""What the admin does to numbers: upcoming numbers, starting a period ahead, the
never-reissue check, recording skipped numbers."""

from __future__ import annotations

import datetime as dt

from django.db import router, transaction
from django.utils.translation import gettext

from . import allocation, clock, formatting, issued, labels, numbering, registry
from .keys import SequenceKey, scope_from_values, sequence_label
from .models import Counter, GapExplanation

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


def number_text(counter, value) -> str:
    """``value`` as it reads (or read) in ``counter``'s period."""
    if counter.number_format is None:
        return str(value)
    return counter.number_format.example(day_of_period(counter.period), value)


def last_issued_parts(counter, document=None) -> tuple[str, str]:
    """``("INV-2026-0005", "(counter at 9, nothing stored above 5)")``: the stored text
    of the highest document numbered from ``counter`` (``issued.highest_document``), and
    what the counter says when that is less. Never the counter's value rendered again
    with today's format: the format may have changed since, and that text was never
    issued. A counter of the function API shows its value: its numbers are stored by
    the caller."""
    field = issued.field_of(counter)
    if field is None:
        start = start_at_for(counter.number_format.code) if counter.number_format else None
        if start is not None and counter.value < start:
            return gettext("none yet"), ""
        return number_text(counter, counter.value), ""
    if document is None:
        if counter.value < field.start_at:
            return gettext("none yet"), ""
        return gettext("none yet"), gettext("(counter at %(value)s, nothing stored)") % {
            "value": counter.value
        }
    top, text = document
    if top < counter.value:
        return text, gettext("(counter at %(value)s, nothing stored above %(top)s)") % {
            "value": counter.value,
            "top": top,
        }
    return text, ""


def last_issued_text(counter, document=None) -> str:
    """``INV-2026-0005 (counter at 9, nothing stored above 5)``."""
    return " ".join(part for part in last_issued_parts(counter, document) if part)


def sequence_rows(series, user) -> list[dict]:
    """The counters of ``series``, one row per period and scope, newest period first."""
    rows = []
    counters = (
        Counter.objects.using(series._state.db)
        .filter(number_format=series)
        .select_related("number_format")
        .order_by("-period", "scope", "pk")
    )
    may_move = user.has_perm("docnumbers.view_counter") and user.has_perm(
        "docnumbers.set_next_value"
    )
    for counter in counters[:200]:
        document = issued.highest_document(counter)
        rows.append(
            {
                "counter": counter,
                "period": labels.period_label(counter.period) or "-",
                "scope": labels.scope_label(counter.sequence, counter.scope, counter._state.db),
                "document": labels.sequence_label(counter.sequence),
                "last": last_issued_text(counter, document),
                "next": number_text(counter, counter.next_value),
                "highest": document[0] if document else None,
                "may_move": may_move,
            }
        )
    return rows


def start_period(request, series, form, resets) -> str:
    """Create the counter ``form`` describes and move it to the first number; return the
    history message, or '' after adding the refusal to ``form``."""
    data = form.cleaned_data
    field = form.sequence_fields[data["sequence"]]
    try:
        period = series.as_format().period(data["day"]) if resets else ""
    except formatting.TemplateError as exc:  # a fiscal year before year 1
        form.add_error("day", exc.message)
        return ""
    if resets:
        problem = past_or_implausible(series, field, data["day"])
        if problem:
            form.add_error("day", problem)
            return ""
    scope = ()
    if field.unique_with:
        targets = [field.model._meta.get_field(name) for name in field.unique_with]
        scope = scope_from_values(targets, form.scope_values(field))
    key = SequenceKey(sequence_label(field.model, field.name), series.pk, scope, period)
    using = router.db_for_write(Counter)
    if Counter.objects.using(using).filter(key=key.text).exists():
        form.add_error(
            "day" if resets else "next_value",
            gettext("This sequence has started already: set its next number in the list."),
        )
        return ""
    first, start = data["next_value"], field.start_at
    reason = data["reason"].strip()
    if first != start and not reason:
        form.add_error(
            "reason",
            gettext("The usual first number is %(start)s; say why this one starts at %(first)s.")
            % {"start": start, "first": first},
        )
        return ""
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
                user=request.user,
                expected=start - 1,
                using=using,
            )
            if first > start:
                record_skipped(counter_id, start, first - 1, reason, request.user, using)
    counter = Counter.objects.using(using).select_related("number_format").get(pk=counter_id)
    return gettext("Started %(sequence)s at %(number)s.") % {
        "sequence": labels.counter_label(counter),
        "number": number_text(counter, first),
    } + (gettext(" Reason: %(reason)s") % {"reason": reason} if reason else "")


def past_or_implausible(series, field, day) -> str:
    """Why ``day``'s period cannot be started ahead of time, or '': a period that has
    begun already is started by its first document, and a date outside
    ``DOCNUMBERS_DATE_RANGE`` numbers nothing."""
    problem = numbering.date_problem(field, day)
    if problem:
        return problem
    fmt = series.as_format()
    today = numbering.today()
    if day < today and fmt.period(day) != fmt.period(today):
        return gettext(
            "%(period)s is over: only the current period (%(current)s) or a later one can be "
            "started ahead of time."
        ) % {
            "period": labels.period_label(fmt.period(day)),
            "current": labels.period_label(fmt.period(today)),
        }
    return ""


def record_skipped(counter_id, first, last, reason, user, using) -> None:
    """The numbers a move skipped, as an explained gap: the audit lists them as explained."""
    GapExplanation.objects.using(using).create(
        counter_id=counter_id,
        first=first,
        last=last,
        kind=GapExplanation.Kind.SKIPPED,
        reason=reason,
        created_by=user,
    )


def day_of_period(period: str) -> dt.date:
    """A day inside the period named by ``period`` (today for '' and unknown texts)."""
    return formatting.parse_period(period) or clock.today()
