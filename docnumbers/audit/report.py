"""What the audit reports: gaps, sequence reports, planned moves and links; the
audit's targets (``resolve_targets``, ``field_label``, ``parse_date``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable

from django.apps import apps
from django.utils.translation import gettext

from .. import registry
from ..exceptions import AuditInputError
from ..fields import AutoSequenceField, sequence_fields
from ..keys import SequenceKey

#: ``progress(done, total, label)``, called after each database pass.
Progress = Callable[[int, int, str], None]


@dataclasses.dataclass
class Gap:
    """The missing numbers ``first``..``last``; ``explanation`` is set when one covers them."""

    first: int
    last: int
    explanation: object | None = None

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    @property
    def text(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


@dataclasses.dataclass
class SequenceReport:
    """The audit of one sequence: a counter key and the rows numbered from it."""

    label: str
    key: str | None
    start_at: int
    counter_id: int | None = None
    counter_value: int | None = None
    scope: dict = dataclasses.field(default_factory=dict)
    period: str = ""
    series: int | None = None
    issued: int = 0
    first: int | None = None
    last: int | None = None
    #: The highest number stored in any row of the sequence, whatever --since says.
    highest: int | None = None
    gaps: list[Gap] = dataclasses.field(default_factory=list)
    explained: list[Gap] = dataclasses.field(default_factory=list)
    duplicates: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    #: The lowest number ever stored, when the gap before it belongs to this report.
    first_ever: int | None = dataclasses.field(default=None, repr=False)
    #: Rows whose ``<name>_counter`` is NULL (loaded raw, e.g. by loaddata).
    unattributed: bool = False
    #: Rows stored without a number (written past docnumbers, or a late number lost).
    unnumbered: int = 0
    #: Rows whose scope or date no longer belongs to the counter that numbered them.
    misfiled: int = 0
    #: Drafts: rows whose ``issue_when`` is false, rightly without a number (#21).
    drafts: int = 0
    #: Numbers dated before the number preceding them (a chronological series, #21).
    chronology_breaks: list[dict] = dataclasses.field(default_factory=list)
    #: ``(text, "quote Q-0001")``: texts of this sequence that another numbered field
    #: stores too (one text must name one document).
    shared_texts: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    note: str = ""
    sequence_key: SequenceKey | None = dataclasses.field(default=None, repr=False)
    number_format_id: int | None = dataclasses.field(default=None, repr=False)
    #: Series, scope and period as people name them (``Export · ACME Ltd · 2026``).
    human_part: str = dataclasses.field(default="", repr=False)
    #: Unattributed rows: the field, and the primary keys of the rows of this key.
    field: AutoSequenceField | None = dataclasses.field(default=None, repr=False)
    row_ids: list = dataclasses.field(default_factory=list, repr=False)

    @property
    def behind(self) -> bool:
        """The counter would issue a number that is already stored."""
        if self.highest is None or self.key is None:
            return False
        return self.counter_value is None or self.counter_value < self.highest

    @property
    def missing(self) -> int:
        return sum(g.count for g in self.gaps)

    @property
    def status(self) -> str:
        if self.unnumbered:
            return "unnumbered"
        if self.misfiled:
            return "misfiled"
        if self.chronology_breaks:
            return "out of order"
        if self.shared_texts:
            return "shared text"
        if self.duplicates:
            return "duplicates"
        if self.behind:
            return "counter behind"
        if self.unattributed:
            return "unattributed"
        if self.gaps:
            return "gaps"
        if self.drafts:
            return "drafts"
        return "ok"

    @property
    def part(self) -> str:
        """Which part of the field's numbers this is, for people: series, scope, period."""
        if self.human_part:
            return self.human_part + (" (unattributed rows)" if self.unattributed else "")
        bits = [f"{k}={'-' if v is None else v}" for k, v in self.scope.items()]
        if self.series is not None:
            bits.insert(0, f"series {self.series}")
        if self.period:
            bits.append(self.period)
        if self.unattributed:
            bits.append("(unattributed rows)")
        return " ".join(bits) or "all"

    def as_dict(self) -> dict:
        def gap(g):
            data = {"first": g.first, "last": g.last, "count": g.count}
            if g.explanation is not None:
                data.update(
                    kind=g.explanation.kind,
                    reason=g.explanation.reason,
                    explanation_id=g.explanation.pk,
                )
            return data

        return {
            "sequence": self.label,
            "key": self.key,
            "counter_id": self.counter_id,
            "counter_value": self.counter_value,
            "start_at": self.start_at,
            "series": self.series,
            "scope": self.scope,
            "period": self.period,
            "issued": self.issued,
            "first": self.first,
            "last": self.last,
            "highest": self.highest,
            "gaps": [gap(g) for g in self.gaps],
            "explained_gaps": [gap(g) for g in self.explained],
            "duplicates": [{"number": n, "count": c} for n, c in self.duplicates],
            "counter_behind": self.behind,
            "unattributed": self.unattributed,
            "unnumbered": self.unnumbered,
            "misfiled": self.misfiled,
            "drafts": self.drafts,
            "chronology_breaks": self.chronology_breaks,
            "shared_texts": [{"text": t, "also": also} for t, also in self.shared_texts],
            "note": self.note,
            "status": self.status,
        }


@dataclasses.dataclass
class CounterMove:
    """A counter that ``sync`` moves forward: from ``old`` (None: no row yet) to ``new``."""

    label: str
    key: str
    old: int | None
    new: int
    counter_id: int | None = None
    sequence_key: SequenceKey | None = dataclasses.field(default=None, repr=False)
    start_at: int = 1
    number_format_id: int | None = None


@dataclasses.dataclass
class RowLink:
    """Rows without ``<name>_counter`` that ``sync`` links to the counter of their key."""

    label: str
    key: str
    field: AutoSequenceField = dataclasses.field(repr=False)
    row_ids: list = dataclasses.field(repr=False)
    sequence_key: SequenceKey = dataclasses.field(repr=False)
    start_at: int = 1
    number_format_id: int | None = None
    #: After ``apply_links``: rows linked, and rows left unlinked because their
    #: number is already stored under that counter (a duplicate; sync names them).
    linked: int = 0
    duplicates: int = 0


# -- targets --------------------------------------------------------------------


def resolve_targets(targets: Iterable[str] = ()) -> list[AutoSequenceField]:
    """The fields named by ``app_label.Model[.field]`` texts (all fields when none)."""
    targets = list(targets)
    if not targets:
        return sorted(registry.fields(), key=field_label)
    found = []
    for target in targets:
        parts = target.split(".")
        if len(parts) not in (2, 3) or not all(parts):
            raise AuditInputError(
                gettext(
                    "%(target)s is not app_label.Model or app_label.Model.field "
                    "(for example billing.Invoice.number)."
                )
                % {"target": repr(target)}
            )
        try:
            model = apps.get_model(parts[0], parts[1])
        except (LookupError, ValueError):
            raise AuditInputError(
                gettext("Unknown model %(model)s (from %(target)s).")
                % {"model": f"{parts[0]}.{parts[1]}", "target": repr(target)}
            )
        if len(parts) == 2:
            fields = sequence_fields(model)
            if not fields:
                raise AuditInputError(
                    gettext("%(model)s has no AutoSequenceField.") % {"model": model._meta.label}
                )
        else:
            try:
                field = model._meta.get_field(parts[2])
            except Exception:
                raise AuditInputError(
                    gettext("%(model)s has no field %(field)s.")
                    % {"model": model._meta.label, "field": repr(parts[2])}
                )
            if not isinstance(field, AutoSequenceField):
                raise AuditInputError(
                    gettext("%(field)s is a %(type)s, not an AutoSequenceField.")
                    % {"field": f"{model._meta.label}.{parts[2]}", "type": type(field).__name__}
                )
            fields = [field]
        found += [f for f in fields if f not in found]
    return found


def field_label(field) -> str:
    return f"{field.model._meta.label}.{field.name}"


def parse_date(text: str) -> dt.date:
    """A YYYY-MM-DD date, or AuditInputError."""
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise AuditInputError(
            gettext("%(text)s is not a date; write YYYY-MM-DD (for example 2026-01-01).")
            % {"text": repr(text)}
        )
