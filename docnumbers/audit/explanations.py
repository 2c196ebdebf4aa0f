"""Why numbers are missing: ``check_gap`` and ``explain_gap`` (through
``services.record_gap``)."""

from __future__ import annotations

from django.db import router
from django.db.models import Min
from django.utils.translation import gettext

from .. import labels, services
from ..exceptions import AuditInputError
from ..issued import field_of, rows_of
from ..models import GapExplanation
from .report import field_label

# -- explanations ---------------------------------------------------------------


def check_gap(counter, first: int, last: int, *, kind: str, reason: str, using=None) -> None:
    """Raise AuditInputError unless ``first``..``last`` of ``counter`` can be explained.

    Only numbers the counter issued and no row stores can be missing: none above
    the counter's value, and, for a field's counter, none below its first value
    (the field's ``start_at``, or the lowest stored number when an import stored
    one below it: the audit reports the numbers between as missing). A counter of
    the function API (``next_value``, ``get_next_value``) does not record the
    first value it was given, so only the upper bound applies to it.

    Numbers an explanation in force already covers are refused too: two records
    would give two reasons for one number.

    Shared by explain_gap and the admin's form, so both refuse the same input.
    """

    using = using or counter._state.db or router.db_for_write(GapExplanation)
    if kind not in GapExplanation.Kind.values:
        raise AuditInputError(
            gettext("Unknown kind %(kind)s; use one of: %(kinds)s.")
            % {"kind": repr(kind), "kinds": ", ".join(GapExplanation.Kind.values)}
        )
    if not (reason or "").strip():
        raise AuditInputError(gettext("Give a reason: auditors read it."))
    if first > last:
        raise AuditInputError(
            gettext("The range %(first)s..%(last)s is empty: the first is above the last.")
            % {"first": first, "last": last}
        )
    if last > counter.value:
        raise AuditInputError(
            gettext(
                "%(counter)s has issued up to %(value)s; %(last)s was never issued, "
                "so it cannot be missing."
            )
            % {
                "counter": labels.counter_label(counter, with_sequence=True),
                "value": counter.value,
                "last": last,
            }
        )
    _check_not_stored(counter, first, last, using)
    _check_not_explained(counter, first, last, using)


def _check_not_stored(counter, first: int, last: int, using) -> None:
    """Refuse numbers below a field's first value, and numbers a row stores."""
    rows = rows_of(counter, using)
    if rows is not None:
        field = field_of(counter)
        start = field.start_at
        if first < start:
            lowest = rows.aggregate(lowest=Min(field.attname))["lowest"]
            if lowest is not None:
                start = min(start, lowest)
        if first < start:
            raise AuditInputError(_before_start(counter, start, first))
        stored = (
            rows.filter(**{f"{field.attname}__range": (first, last)})
            .order_by(field.attname)
            .values_list(field.attname, flat=True)
            .first()
        )
        if stored is not None:
            raise AuditInputError(
                gettext(
                    "%(number)s is stored in %(field)s (%(counter)s); "
                    "only missing numbers can be explained."
                )
                % {
                    "number": stored,
                    "field": field_label(field),
                    "counter": labels.counter_label(counter, with_sequence=True),
                }
            )


def _check_not_explained(counter, first: int, last: int, using) -> None:
    """Refuse numbers an explanation in force covers already: one reason per number."""
    explained = (
        GapExplanation.objects.using(using).covering(counter, first, last).order_by("first").first()
    )
    if explained is not None:
        raise AuditInputError(
            gettext(
                "%(span)s of %(counter)s is already explained (%(kind)s: %(reason)s); "
                "one explanation per number: explain only the numbers outside it."
            )
            % {
                "span": explained.span,
                "counter": labels.counter_label(counter, with_sequence=True),
                "kind": explained.get_kind_display(),
                "reason": explained.reason,
            }
        )


def _before_start(counter, start: int, first: int) -> str:
    """Why ``first`` cannot be missing from a counter whose numbers start at ``start``."""
    issued = (
        gettext("Explain numbers from %(start)s to %(value)s.")
        % {"start": start, "value": counter.value}
        if counter.value >= start
        else gettext("It has issued no number yet.")
    )
    return (
        gettext(
            "%(counter)s starts at %(start)s: %(first)s was never issued, so it cannot be missing."
        )
        % {
            "counter": labels.counter_label(counter, with_sequence=True),
            "start": start,
            "first": first,
        }
        + f" {issued}"
    )


def explain_gap(
    counter,
    first: int,
    last: int | None = None,
    *,
    kind: str = "voided",
    reason: str,
    user=None,
    using: str | None = None,
):
    """Record why the numbers ``first``..``last`` of ``counter`` are missing; return the record.

    Refuses numbers the counter never issued (see check_gap) and numbers that
    are stored (a stored number is not missing).
    """

    last = first if last is None else last
    using = using or counter._state.db or router.db_for_write(GapExplanation)
    check_gap(counter, first, last, kind=kind, reason=reason, using=using)
    return services.record_gap(
        counter, first, last, kind=kind, reason=reason.strip(), user=user, using=using
    )
