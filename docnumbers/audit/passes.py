"""The audit itself: one database pass per field (``audit``), shared texts, gap
explanations on the report, ``explain_url``, ``split_gap``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from urllib.parse import urlencode

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction
from django.db.models import Max, Min
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .. import backends, chronology, labels
from ..collisions import text_fields
from ..days import local_date
from ..exceptions import TemplateError
from ..fields import AutoSequenceField
from ..formatting import Reset, period_contains
from ..keys import SequenceKey, parse_scope, scope_from_values, sequence_label
from ..models import Counter, GapExplanation, NumberFormat
from .report import Gap, Progress, SequenceReport, field_label, resolve_targets

# -- the audit --------------------------------------------------------------------


def audit(
    fields: Iterable[AutoSequenceField] | None = None,
    *,
    since: dt.date | None = None,
    using: str | None = None,
    progress: Progress | None = None,
    details: bool = True,
) -> list[SequenceReport]:
    """Audit the sequences of ``fields`` (all registered fields by default).

    ``since`` keeps the rows whose ``date_field`` is on or after that day (fields
    without a date_field are audited whole). ``details=False`` skips the gap and
    duplicate pass (what ``sync`` needs). The reads run in one snapshot where the
    backend allows it.
    """
    fields = list(fields) if fields is not None else resolve_targets()
    steps = [(f, p) for f in fields for p in (("summary", "gaps") if details else ("summary",))]

    using = using or router.db_for_read(Counter)
    reports: list[SequenceReport] = []
    with _snapshot(using):
        state = {}
        for done, (field, step) in enumerate(steps, 1):
            if step == "summary":
                state[field] = _Pass(field, using, since)
                reports += state[field].summary()
            else:
                state.pop(field).gaps()
            if progress is not None:
                progress(done, len(steps), f"{field_label(field)} ({step})")
        if details:
            _explain(reports, using)
            reports += _shared_texts(fields, reports, using)
    return reports


def _snapshot(using):
    """A read-only, repeatable-read transaction on PostgreSQL: every pass sees the same rows."""
    connection = connections[using]
    atomic = transaction.atomic(using=using)
    statement = backends.ops(connection).snapshot_sql()
    if statement is None or connection.in_atomic_block:
        return atomic

    class _Snapshot:
        def __enter__(self):
            atomic.__enter__()
            with connection.cursor() as cursor:
                cursor.execute(statement)

        def __exit__(self, *exc):
            return atomic.__exit__(*exc)

    return _Snapshot()


class _Pass:
    """The SQL of one field: a summary per group, then gaps and duplicates per group."""

    def __init__(self, field: AutoSequenceField, using: str, since: dt.date | None):
        self.field = field
        self.using = using
        self.connection = connections[using]
        self.model = field.model
        self.label = field_label(field)
        self.sequence = sequence_label(field.model, field.name)
        self.formatted = field.format_code is not None
        meta = self.model._meta
        if self.formatted:
            self.group_fields = [meta.get_field(field.counter_name)]
        else:
            self.group_fields = [meta.get_field(n) for n in field.unique_with]
        self.date_field = meta.get_field(field.date_field) if field.date_field else None
        self.since = self._since_param(since) if self.date_field is not None else None
        self.groups: dict[tuple, SequenceReport] = {}

    def _since_param(self, since):
        if since is None:
            return None
        value = since
        if isinstance(self.date_field, models.DateTimeField):
            value = dt.datetime.combine(since, dt.time.min)
            if settings.USE_TZ:
                value = timezone.make_aware(value)
        return self.date_field.get_db_prep_value(value, self.connection, prepared=False)

    def _sql_parts(self) -> dict:
        """What ``backends`` builds the pass's queries from (names unquoted)."""
        return {
            "table": self.model._meta.db_table,
            "group_columns": [f.column for f in self.group_fields],
            "number": self.field.column,
            "where": self.formatted,
            "day": self.date_field.column if self.since is not None else None,
        }

    def summary(self) -> list[SequenceReport]:
        """One report per group of rows (counter, or scope), plus counters with no rows."""
        rows = self._summary_rows()
        known = self._counters({row[0] for row in rows} if self.formatted else set())
        by_key = {c.key: c for c in known.values()}
        seen = set()
        reports = []
        for row in rows:
            report = self._report(row, known, by_key)
            if report is None:
                continue
            if report.counter_id is not None:
                seen.add(report.counter_id)
            if self.since is not None and not report.issued and not report.behind:
                continue
            reports.append(report)
        reports.sort(key=lambda r: (r.key or "", r.first or 0))
        unattributed = self._unattributed(by_key) if self.formatted else []
        unattributed += self._unnumbered()
        if self.formatted:
            self._misfiled(reports, known)
        if self.field.chronological and self.formatted and self.date_field is not None:
            _chronology(self.field, reports, self.using)
        seen |= {r.counter_id for r in unattributed}
        if self.since is None:
            # Counters whose rows are all gone: every number they issued is missing.
            for counter in known.values():
                if counter.pk in seen or counter.sequence != self.sequence:
                    continue
                report = SequenceReport(label=self.label, key=None, start_at=self.field.start_at)
                _describe(report, counter)
                if counter.value >= self.field.start_at:
                    report.gaps.append(Gap(self.field.start_at, counter.value))
                reports.append(report)
        return reports + unattributed

    def _summary_rows(self) -> list[tuple]:
        """Per group: its columns, COUNT, MIN, MAX (and the same inside ``since``)."""
        sql = backends.ops(self.connection).audit_summary_sql(**self._sql_parts())
        params = [self.since] * 3 if self.since is not None else []
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _counters(self, counter_ids: set) -> dict:
        """The counters of this sequence by id, plus those the rows point to."""
        counters = Counter.objects.using(self.using).select_related("number_format")
        known = {c.pk: c for c in counters.filter(sequence=self.sequence)}
        missing = counter_ids - set(known)
        if missing:
            known.update({c.pk: c for c in counters.filter(pk__in=missing)})
        return known

    def _report(self, row, known, by_key) -> SequenceReport | None:
        """The report of one summary row (None for an empty group); remembered for ``gaps``."""
        n = len(self.group_fields)
        group, (count, low, high) = tuple(row[:n]), row[n : n + 3]
        if not count:
            return None
        report = SequenceReport(label=self.label, key=None, start_at=self.field.start_at)
        report.highest = high
        if self.since is not None:
            count, w_low, w_high = row[n + 3 : n + 6]
            report.issued, report.first, report.last = count, w_low, w_high
            # The gap before the first number belongs to the window only if it starts there.
            report.first_ever = low if w_low == low else None
        else:
            report.issued, report.first, report.last = count, low, high
            report.first_ever = low
        if self.formatted:
            counter = known.get(group[0])
        else:
            key = SequenceKey(
                sequence=self.sequence, scope=scope_from_values(self.group_fields, group)
            )
            report.sequence_key = key
            report.key = key.text
            report.scope = dict(key.scope)
            counter = by_key.get(key.text)
        if counter is not None:
            _describe(report, counter)
        if self.since is None or report.issued or report.behind:
            self.groups[group] = report
        return report

    def gaps(self) -> None:
        """Fill in the gaps and duplicates of the reports ``summary`` made."""
        sql = backends.ops(self.connection).audit_gaps_sql(**self._sql_parts())
        params = [self.since] if self.since is not None else []
        n = len(self.group_fields)
        duplicates = defaultdict(lambda: defaultdict(lambda: 1))
        found = defaultdict(list)
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            while chunk := cursor.fetchmany(5000):
                for row in chunk:
                    group, value, previous = tuple(row[:n]), row[n], row[n + 1]
                    if value == previous:
                        duplicates[group][value] += 1
                    else:
                        found[group].append(Gap(previous + 1, value - 1))
        for group, report in self.groups.items():
            gaps = sorted(found.get(group, ()), key=lambda g: g.first)
            if report.first_ever is not None and report.first_ever > report.start_at:
                gaps.insert(0, Gap(report.start_at, report.first_ever - 1))
            value, high = report.counter_value, report.highest
            if value is not None and high is not None and value > high:
                gaps.append(Gap(max(high + 1, report.start_at), value))
            report.gaps = gaps
            report.duplicates = sorted(duplicates.get(group, {}).items())

    def _misfiled(self, reports, known) -> None:
        """Mark the reports whose rows' scope or date left their counter's (one query).

        ``save()`` refuses such a change (NumberFrozen); an UPDATE past docnumbers
        does not, and the number then lies about its customer or its year.
        """
        field, meta = self.field, self.model._meta
        scope_fields = [meta.get_field(n) for n in field.unique_with]
        counter = f"{field.counter_name}_id"
        groups = self.model._default_manager.using(self.using).filter(
            **{f"{counter}__isnull": False, f"{field.attname}__isnull": False}
        )
        groups = groups.values(counter, *(f.attname for f in scope_fields)).order_by()
        extra = {"rows": models.Count("pk")}
        if self.date_field is not None:
            extra.update(first=Min(self.date_field.attname), last=Max(self.date_field.attname))
        by_counter = {r.counter_id: r for r in reports if r.counter_id is not None}
        for group in groups.annotate(**extra):
            row = known.get(group[counter])
            report = by_counter.get(group[counter])
            if row is None or report is None:
                continue
            scope = dict(scope_from_values(scope_fields, [group[f.attname] for f in scope_fields]))
            days = [local_date(group[k]) for k in ("first", "last") if group.get(k) is not None]
            if scope != parse_scope(row.scope) or not all(
                period_contains(row.period, d) for d in days
            ):
                report.misfiled += group["rows"]
        for report in by_counter.values():
            if report.misfiled:
                report.note = gettext(
                    "%(count)d row(s) no longer match this counter's scope or period "
                    "(changed past docnumbers): restore them, or docnumbers.renumber() them"
                ) % {"count": report.misfiled}

    def _unnumbered(self) -> list[SequenceReport]:
        """Rows with no number at all: a report of their own, which fails the audit."""
        rows = self.model._default_manager.using(self.using).filter(
            **{f"{self.field.attname}__isnull": True}
        )
        drafts = []
        if self.field.issue_when is not None:
            drafts = _drafts(self.field, self.label, rows)
            rows = rows.filter(self.field.issue_when)
        count = rows.count()
        if not count:
            return drafts
        pk_name = self.model._meta.pk.attname
        sample = list(rows.order_by(pk_name).values_list(pk_name, flat=True)[:5])
        return [
            SequenceReport(
                label=self.label,
                key=None,
                start_at=self.field.start_at,
                unnumbered=count,
                note=gettext(
                    "%(count)d row(s) stored without a number (primary keys %(keys)s): "
                    "saved past docnumbers"
                )
                % {"count": count, "keys": f"{sample}{', ...' if count > len(sample) else ''}"},
            )
        ]

    def _unattributed(self, by_key) -> list[SequenceReport]:
        """Rows with a number but no counter: attribute them by recomputing their key."""
        field = self.field
        rows = field.model._default_manager.using(self.using).filter(
            **{f"{field.counter_name}__isnull": True, f"{field.attname}__isnull": False}
        )
        if not rows.exists():
            return []
        groups, lost = self._attribute(rows)
        reports = []
        for key, (count, low, high, series_id, ids) in sorted(
            groups.items(), key=lambda i: i[0].text
        ):
            report = SequenceReport(
                label=self.label,
                key=key.text,
                start_at=field.start_at,
                issued=count,
                first=low,
                last=high,
                highest=high,
                unattributed=True,
                scope=dict(key.scope),
                period=key.period,
                series=series_id,
                sequence_key=key,
                number_format_id=series_id,
                field=field,
                row_ids=ids,
                note=gettext(
                    "rows without %(column)s (loaded raw); not checked for gaps "
                    "until docnumbers sync --apply links them"
                )
                % {"column": field.counter_name},
            )
            counter = by_key.get(key.text)
            if counter is not None:
                _describe(report, counter)
            reports.append(report)
        if lost:
            reports.append(
                SequenceReport(
                    label=self.label,
                    key=None,
                    start_at=field.start_at,
                    issued=len(lost),
                    first=min(lost),
                    last=max(lost),
                    unattributed=True,
                    note=gettext(
                        "rows without %(column)s whose series or date is unknown; "
                        "set their counter by hand"
                    )
                    % {"column": field.counter_name},
                )
            )
        return reports

    def _attribute(self, rows):
        """Rows by recomputed key, as [count, lowest, highest, series id, row pks]; and the
        numbers of rows whose series or period cannot be known."""
        field, meta = self.field, self.model._meta
        scope_fields = [meta.get_field(n) for n in field.unique_with]
        series_attname = meta.get_field(field.series_field).attname if field.series_field else None
        columns = ["pk", field.attname, *(f.attname for f in scope_fields)]
        columns += [
            series_attname or field.attname,
            self.date_field.attname if self.date_field else field.attname,
        ]
        formats = NumberFormat.objects.using(self.using)
        series_of = {None: formats.series_of(field.format_code).first()}
        groups, lost = {}, []
        for row in rows.values_list(*columns).iterator(chunk_size=2000):
            pk, number, scope_values = row[0], row[1], row[2 : 2 + len(scope_fields)]
            series_id = row[-2] if series_attname else None
            if series_id not in series_of:
                series_of[series_id] = formats.filter(pk=series_id).first()
            chosen = series_of[series_id]
            day = local_date(row[-1]) if self.date_field else None
            period = _period_of(chosen, day)
            if period is None:
                lost.append(number)
                continue
            key = SequenceKey(
                sequence=self.sequence,
                series=chosen.pk,
                scope=scope_from_values(scope_fields, scope_values),
                period=period,
            )
            entry = groups.setdefault(key, [0, number, number, chosen.pk, []])
            entry[0] += 1
            entry[1], entry[2] = min(entry[1], number), max(entry[2], number)
            entry[4].append(pk)
        return groups, lost


def _period_of(series, day) -> str | None:
    """The period ``series`` gives ``day``; None when it cannot be known (no series, no
    date for a format that resets, a fiscal year outside the calendar)."""
    if series is None or (day is None and series.reset != Reset.NEVER):
        return None
    if day is None:
        return ""
    try:
        return series.as_format().period(day)
    except TemplateError:
        return None


def _describe(report: SequenceReport, counter) -> None:
    report.key = counter.key
    report.counter_id = counter.pk
    report.counter_value = counter.value
    report.period = counter.period
    report.series = counter.number_format_id
    report.number_format_id = counter.number_format_id
    if counter.scope and not report.scope:
        report.scope = parse_scope(counter.scope)
    report.human_part = labels.counter_label(counter)


def _explain(reports: list[SequenceReport], using: str) -> None:
    """Split every gap into the parts a GapExplanation covers and the parts none does."""

    ids = {r.counter_id for r in reports if r.counter_id is not None and r.gaps}
    if not ids:
        return
    by_counter = defaultdict(list)
    explanations = GapExplanation.objects.using(using).in_force()  # withdrawn ones are history
    for explanation in explanations.filter(counter_id__in=ids):
        by_counter[explanation.counter_id].append(explanation)
    for report in reports:
        records = sorted(by_counter.get(report.counter_id, ()), key=lambda e: e.first)
        if not records or report.unattributed:
            continue
        open_, explained = [], []
        for gap in report.gaps:
            for part in split_gap(gap.first, gap.last, records):
                (explained if part.explanation is not None else open_).append(part)
        report.gaps, report.explained = open_, explained


#: At most this many shared texts are looked up and reported per audit.
SHARED_TEXTS_SHOWN = 1000


def _shared_texts(fields, reports: list[SequenceReport], using: str) -> list[SequenceReport]:
    """Mark the reports whose texts another numbered field stores too (one text, one
    document, across the project); return reports for rows no report covers.

    One query over every formatted field (``GROUP BY`` text ``HAVING`` more than one
    field), then one per audited field for the few texts found.
    """
    everywhere = text_fields(using)
    audited = [f for f in fields if f in everywhere]
    if len(everywhere) < 2 or not audited:
        return []
    columns = []
    for field in everywhere:
        meta = field.model._meta
        column = (meta.db_table, meta.get_field(field.display_name).column)
        if column not in columns:
            columns.append(column)
    if len(columns) < 2:
        return []
    connection = connections[using]
    sql = backends.ops(connection).shared_texts_sql(columns)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        shared = [row[0] for row in cursor.fetchmany(SHARED_TEXTS_SHOWN)]
    if not shared:
        return []
    return _mark_shared(shared, everywhere, audited, reports, using)


def _mark_shared(shared, everywhere, audited, reports, using) -> list[SequenceReport]:
    """Attach each shared text to the report of the counter that numbered its row."""
    holders = defaultdict(list)  # text -> [(field, counter id)]
    for field in everywhere:
        rows = field.model._base_manager.using(using).filter(
            **{f"{field.display_name}__in": shared}
        )
        for text, counter_id in rows.order_by("pk").values_list(
            field.display_name, f"{field.counter_name}_id"
        ):
            holders[text].append((field, counter_id))
    by_counter = {r.counter_id: r for r in reports if r.counter_id is not None}
    extra: dict = {}
    for text in shared:
        for field, counter_id in holders.get(text, ()):
            if field not in audited:
                continue
            others = sorted(
                {
                    labels.document_label(other.model, text)
                    for other, _ in holders[text]
                    if other is not field
                }
            )
            report = by_counter.get(counter_id)
            if report is None or report.field not in (None, field):
                report = extra.get(field)
                if report is None:
                    report = extra[field] = SequenceReport(
                        label=field_label(field), key=None, start_at=field.start_at
                    )
            for other in others:
                report.shared_texts.append((text, other))
    for report in [*by_counter.values(), *extra.values()]:
        if report.shared_texts:
            _note_shared(report)
    return list(extra.values())


def _note_shared(report: SequenceReport) -> None:
    """The report's note says which text another document type stores too, and what to do."""
    note = gettext(
        "%(count)d text(s) also stored by another document type (%(first)s "
        "is also %(other)s): one text must name one document; renumber one "
        "of them (docnumbers.renumber())"
    ) % {
        "count": len({t for t, _ in report.shared_texts}),
        "first": report.shared_texts[0][0],
        "other": report.shared_texts[0][1],
    }
    report.note = f"{report.note} {note}" if report.note else note


def explain_url(counter_id: int, gap: Gap, using: str = DEFAULT_DB_ALIAS) -> str | None:
    """The admin page that explains ``gap``, counter and numbers filled in (None without
    the admin).

    None too when the counter is on a database the admin does not read (``using``
    is not the one the router gives counters and gap explanations): there the same
    id is another sequence's counter, and the link would explain the wrong one.
    """
    if using != router.db_for_read(Counter) or using != router.db_for_write(GapExplanation):
        return None
    try:
        add = reverse("admin:docnumbers_gapexplanation_add")
    except NoReverseMatch:
        return None
    return f"{add}?{urlencode({'counter': counter_id, 'first': gap.first, 'last': gap.last})}"


def split_gap(first: int, last: int, records) -> list[Gap]:
    """``first``..``last`` cut into parts, each with the record covering it (or None)."""
    parts, cursor = [], first
    for record in sorted(records, key=lambda e: e.first):
        low, high = max(record.first, cursor), min(record.last, last)
        if low > high:
            continue
        if low > cursor:
            parts.append(Gap(cursor, low - 1))
        parts.append(Gap(low, high, record))
        cursor = high + 1
        if cursor > last:
            break
    if cursor <= last:
        parts.append(Gap(cursor, last))
    return parts


def _drafts(field, label, rows) -> list[SequenceReport]:
    """Drafts (``issue_when`` false, no number): counted on their own, never a failure."""
    count = rows.exclude(field.issue_when).count()
    if not count:
        return []
    note = ngettext(
        "%(count)d draft without a number: numbered when it is issued",
        "%(count)d drafts without a number: numbered when they are issued",
        count,
    ) % {"count": count}
    report = SequenceReport(label=label, key=None, start_at=field.start_at, drafts=count)
    report.human_part, report.note = gettext("drafts"), note
    return [report]


def _chronology(field, reports, using) -> None:
    """Attach the stored chronology breaks of a chronological field to their counter's report."""
    by_counter = {r.counter_id: r for r in reports if r.counter_id is not None}
    for found in chronology.breaks(field, using):
        report = by_counter.get(found["counter_id"])
        if report is not None:
            report.chronology_breaks.append(found)
