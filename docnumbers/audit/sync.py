"""``manage.py docnumbers sync``: counters moved forward, rows linked to their counter."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from django.db import router, transaction

from .. import allocation
from ..models import Counter
from .report import CounterMove, Progress, RowLink, SequenceReport

# -- sync -----------------------------------------------------------------------


def plan_moves(reports: Iterable[SequenceReport]) -> list[CounterMove]:
    """The counters that are behind the highest stored number, and where they should go."""
    moves: dict[str, CounterMove] = {}
    for report in reports:
        if not report.behind:
            continue
        move = moves.get(report.key)
        if move is None:
            moves[report.key] = CounterMove(
                label=report.label,
                key=report.key,
                old=report.counter_value,
                new=report.highest,
                counter_id=report.counter_id,
                sequence_key=report.sequence_key,
                start_at=report.start_at,
                number_format_id=report.number_format_id,
            )
        else:
            move.new = max(move.new, report.highest)
            move.sequence_key = move.sequence_key or report.sequence_key
    return sorted(moves.values(), key=lambda m: m.key)


def apply_moves(
    moves: list[CounterMove],
    *,
    using: str | None = None,
    user=None,
    progress: Progress | None = None,
) -> list[CounterMove]:
    """Move the counters forward, all in one transaction (never backwards); log each change.

    Returns the moves made, with ``old`` as found under the row lock. An
    interruption rolls every change back.
    """

    using = using or router.db_for_write(Counter)
    made = []
    with transaction.atomic(using=using):
        for done, move in enumerate(moves, 1):
            counter_id = move.counter_id
            if counter_id is None and move.sequence_key is not None:
                # No counter row yet (rows imported raw): make it at its first value.
                counter_id = allocation.take(
                    move.sequence_key,
                    0,
                    start_at=move.start_at,
                    number_format_id=move.number_format_id,
                    using=using,
                )[0]
            if counter_id is not None:
                change = allocation.move_counter(
                    counter_id,
                    move.new,
                    reason=f"docnumbers sync: {move.new} is the highest number stored.",
                    source="sync",
                    user=user,
                    forward_only=True,
                    using=using,
                )
                if change is not None:
                    made.append(
                        dataclasses.replace(move, old=change.old_value, counter_id=counter_id)
                    )
            if progress is not None:
                progress(done, len(moves), move.key)
    return made


def plan_links(reports: Iterable[SequenceReport]) -> list[RowLink]:
    """The rows loaded without ``<name>_counter`` whose key is known: ``sync`` links them."""
    return [
        RowLink(
            label=r.label,
            key=r.key,
            field=r.field,
            row_ids=r.row_ids,
            sequence_key=r.sequence_key,
            start_at=r.start_at,
            number_format_id=r.number_format_id,
        )
        for r in reports
        if r.unattributed and r.sequence_key is not None and r.row_ids
    ]


def apply_links(links: list[RowLink], *, using: str | None = None) -> list[RowLink]:
    """Set ``<name>_counter`` of each link's rows to the counter of its key, in one transaction.

    The counter is created if missing (at its first value; ``apply_moves`` moves it).
    A row whose number that counter already holds in another row stays unlinked
    (counted in ``duplicates``): the unique constraint on (counter, number) would
    refuse it, and the audit keeps listing it as unattributed.
    """
    using = using or router.db_for_write(Counter)
    with transaction.atomic(using=using):
        for link in links:
            counter_id = allocation.take(
                link.sequence_key,
                0,
                start_at=link.start_at,
                number_format_id=link.number_format_id,
                using=using,
            )[0]
            for start in range(0, len(link.row_ids), 1000):
                _link_rows(link, link.row_ids[start : start + 1000], counter_id, using)
    return links


def _link_rows(link: RowLink, ids: list, counter_id: int, using: str) -> None:
    field = link.field
    rows = field.model._default_manager.using(using)
    loose = dict(
        rows.filter(pk__in=ids, **{f"{field.counter_name}__isnull": True}).values_list(
            "pk", field.attname
        )
    )
    held = set(
        rows.filter(
            **{field.counter_name: counter_id, f"{field.attname}__in": set(loose.values())}
        ).values_list(field.attname, flat=True)
    )
    free = []
    for pk, number in sorted(loose.items()):
        if number in held:
            link.duplicates += 1
        else:
            held.add(number)
            free.append(pk)
    link.linked += rows.filter(pk__in=free).update(**{field.counter_name: counter_id})
