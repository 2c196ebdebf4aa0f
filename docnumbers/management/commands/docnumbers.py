"""``manage.py docnumbers audit|sync|explain``: find gaps, repair counters, record why.

Exit status: 0 when all is well, 1 when the audit finds a duplicate or a counter
behind (or unexplained gaps with --fail-on-gaps), 2 for bad input, 130 when
interrupted (nothing is left half-changed: sync runs in one transaction).
"""

from __future__ import annotations

import csv
import io
import json
import shutil

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, transaction

from docnumbers import audit as audit_mod
from docnumbers.audit import AuditInputError

#: How many gap ranges the table lists per sequence before it says "and N more".
TABLE_GAPS = 20


class Progress:
    """A bar on a terminal (rewritten with \\r), plain ``n/N`` lines otherwise."""

    def __init__(self, stream, verb: str, enabled: bool = True):
        self.stream = stream
        self.verb = verb
        self.enabled = enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.drawn = False

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.enabled:
            return
        if not self.tty:
            self.stream.write(f"{self.verb} {done}/{total} {label}\n")
            self.stream.flush()
            return
        width = max(10, min(30, shutil.get_terminal_size().columns - 60))
        filled = width * done // max(total, 1)
        text = f"\r{self.verb} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}"
        self.stream.write(text[: shutil.get_terminal_size().columns - 1].ljust(self.drawn or 0))
        self.drawn = len(text)
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()


class Command(BaseCommand):
    help = (
        "Audit document numbers (gaps, duplicates, counters behind), sync counters, explain gaps."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="{audit,sync,explain}")
        actions.required = True

        def common(sub):
            sub.add_argument(
                "--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default)."
            )
            sub.add_argument(
                "--no-progress", action="store_true", help="Do not report progress on stderr."
            )

        audit = actions.add_parser(
            "audit",
            help="Report, per sequence: count, first and last number, gaps, duplicates, "
            "counters behind.",
        )
        audit.add_argument("targets", nargs="*", metavar="app_label.Model[.field]")
        audit.add_argument(
            "--since", metavar="YYYY-MM-DD", help="Only rows whose date_field is on or after it."
        )
        audit.add_argument("--format", default="table", help="table (default), csv or json.")
        audit.add_argument(
            "--fail-on-gaps",
            action="store_true",
            help="Also exit with status 1 when a gap is unexplained.",
        )
        common(audit)

        sync = actions.add_parser(
            "sync", help="Move counters forward to the highest stored number (after imports)."
        )
        sync.add_argument("targets", nargs="*", metavar="app_label.Model[.field]")
        sync.add_argument(
            "--apply", action="store_true", help="Change the counters (default: only show)."
        )
        common(sync)

        explain = actions.add_parser("explain", help="Record why numbers are missing.")
        explain.add_argument("target", metavar="app_label.Model.field")
        explain.add_argument("--number", required=True, help="The first missing number.")
        explain.add_argument("--to", help="The last missing number (default: --number).")
        explain.add_argument(
            "--kind", default="voided", help="voided (default), cancelled, skipped or other."
        )
        explain.add_argument("--reason", required=True, help="Why they are missing.")
        explain.add_argument(
            "--key", help="The counter key (as the audit shows it) when the field has several."
        )
        explain.add_argument("--period", help="Pick the counter of this period, e.g. 2026.")
        common(explain)

    def handle(self, *args, action, **options):
        progress = Progress(
            self.stderr._out,
            action,
            enabled=options["verbosity"] > 0 and not options["no_progress"],
        )
        try:
            return getattr(self, f"handle_{action}")(progress=progress, **options)
        except AuditInputError as exc:
            raise CommandError(str(exc), returncode=2)
        except KeyboardInterrupt:
            progress.close()
            raise CommandError(
                f"Interrupted; nothing was changed{'' if action == 'audit' else ' (rolled back)'}.",
                returncode=130,
            )
        finally:
            progress.close()

    # -- audit --------------------------------------------------------------------

    def handle_audit(self, *, targets, since, format, fail_on_gaps, database, progress, **_):
        if format not in ("table", "csv", "json"):
            raise AuditInputError(f"Unknown format {format!r}; use table, csv or json.")
        fields = audit_mod.resolve_targets(targets)
        day = audit_mod.parse_date(since) if since else None
        reports = audit_mod.audit(fields, since=day, using=database, progress=progress)
        progress.close()
        render = {"table": render_table, "csv": render_csv, "json": render_json}[format]
        self.stdout.write(render(reports), ending="")
        problems = audit_problems(reports, fail_on_gaps=fail_on_gaps)
        if problems:
            raise CommandError(f"docnumbers audit found {problems}.", returncode=1)

    # -- sync ---------------------------------------------------------------------

    def handle_sync(self, *, targets, apply, database, progress, **_):
        fields = audit_mod.resolve_targets(targets)
        reports = audit_mod.audit(fields, using=database, progress=progress, details=False)
        moves = audit_mod.plan_moves(reports)
        links = audit_mod.plan_links(reports)
        lost = [r for r in reports if r.unattributed and r.key is None]
        if apply and (moves or links):
            # One transaction: an interruption leaves no counter moved and no row linked.
            with transaction.atomic(using=database):
                if moves:
                    moves = audit_mod.apply_moves(moves, using=database, progress=progress)
                links = audit_mod.apply_links(links, using=database)
        progress.close()
        if not moves:
            self.stdout.write("All counters are at or above the highest stored number.")
        for move in moves:
            old = "no counter" if move.old is None else move.old
            verb = "moved" if apply else "would move"
            self.stdout.write(
                f"{move.label}  {move.key}: {verb} {old} -> {move.new} (next number {move.new + 1})"
            )
        if moves and not apply:
            self.stdout.write(
                f"{len(moves)} counter(s) behind. Run again with --apply to move them forward."
            )
        elif moves:
            self.stdout.write(f"{len(moves)} counter(s) moved forward.")
        self._report_links(links, apply)
        for report in lost:
            self.stderr.write(f"{report.label}: {report.issued} {report.note}.")

    def _report_links(self, links, apply):
        """What sync did (or would do) with rows loaded without their counter."""
        for link in links:
            if not apply:
                self.stdout.write(
                    f"{link.label}  {link.key}: would link {len(link.row_ids)} row(s) "
                    "loaded without their counter"
                )
                continue
            self.stdout.write(f"{link.label}  {link.key}: linked {link.linked} row(s)")
            if link.duplicates:
                self.stderr.write(
                    f"{link.label}: {link.duplicates} row(s) left without a counter: their "
                    f"number is already stored under {link.key} (docnumbers audit)."
                )
        if links and not apply:
            rows = sum(len(link.row_ids) for link in links)
            self.stdout.write(
                f"{rows} row(s) without their counter. Run again with --apply to link them."
            )
        elif links:
            rows = sum(link.linked for link in links)
            self.stdout.write(f"{rows} row(s) linked to their counter.")

    # -- explain ------------------------------------------------------------------

    def handle_explain(self, *, target, number, to, kind, reason, key, period, database, **_):
        from docnumbers.keys import sequence_label
        from docnumbers.models import Counter

        fields = audit_mod.resolve_targets([target])
        if len(fields) != 1:
            raise AuditInputError(f"{target} has several AutoSequenceFields; name one.")
        field = fields[0]
        first, last = _int(number, "--number"), _int(to, "--to") if to else None
        counters = Counter.objects.using(database).filter(
            sequence=sequence_label(field.model, field.name)
        )
        if key:
            counters = counters.filter(key=key)
        if period:
            counters = counters.filter(period=period)
        found = list(counters.order_by("key")[:6])
        if not found:
            raise AuditInputError(
                f"No counter of {audit_mod.field_label(field)} matches; "
                "`manage.py docnumbers audit` lists the keys."
            )
        if len(found) > 1:
            shown = ", ".join(c.key for c in found[:5])
            raise AuditInputError(
                f"{audit_mod.field_label(field)} has several counters ({shown}, ...); "
                "pick one with --key or --period."
            )
        record = audit_mod.explain_gap(
            found[0], first, last, kind=kind, reason=reason, using=database
        )
        self.stdout.write(f"Recorded: {record}.")


def _int(text, option):
    try:
        return int(text)
    except (TypeError, ValueError):
        raise AuditInputError(f"{option} wants a whole number, not {text!r}.")


def audit_problems(reports, *, fail_on_gaps=False) -> str:
    """'2 duplicate numbers, 1 counter behind', or '' when nothing fails the audit."""
    duplicates = sum(len(r.duplicates) for r in reports)
    behind = sum(1 for r in reports if r.behind)
    gaps = sum(len(r.gaps) for r in reports) if fail_on_gaps else 0
    parts = []
    if duplicates:
        parts.append(f"{duplicates} duplicate number{'s' * (duplicates != 1)}")
    if behind:
        parts.append(f"{behind} counter{'s' * (behind != 1)} behind")
    if gaps:
        parts.append(f"{gaps} unexplained gap{'s' * (gaps != 1)}")
    return ", ".join(parts)


# -- rendering ---------------------------------------------------------------------


def _blank(value):
    return "-" if value is None else str(value)


def render_table(reports) -> str:
    """A summary table, then the findings of each sequence that has some."""
    head = ("SEQUENCE", "PART", "ISSUED", "FIRST", "LAST", "COUNTER", "MISSING", "EXPLAINED")
    rows = [head + ("DUPLICATES", "STATUS")]
    for r in reports:
        rows.append(
            (
                r.label,
                r.part,
                str(r.issued),
                _blank(r.first),
                _blank(r.last),
                _blank(r.counter_value),
                str(r.missing),
                str(sum(g.count for g in r.explained)),
                str(len(r.duplicates)),
                r.status,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) + 2)]
    out = io.StringIO()
    if not reports:
        out.write("No numbered rows and no counters.\n")
    else:
        for row in rows:
            cells = [
                cell.ljust(w) if i < 2 or i == len(row) - 1 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
            out.write("  ".join(cells).rstrip() + "\n")
    for r in reports:
        lines = []
        if r.gaps:
            shown = ", ".join(g.text for g in r.gaps[:TABLE_GAPS])
            more = len(r.gaps) - TABLE_GAPS
            lines.append(
                f"unexplained gaps: {shown}"
                + (f" ... and {more} more (--format csv lists all)" if more > 0 else "")
            )
        for g in r.explained:
            lines.append(f"explained gap {g.text}: {g.explanation.kind}: {g.explanation.reason}")
        if r.duplicates:
            lines.append(
                "duplicates: " + ", ".join(f"{n} (x{c})" for n, c in r.duplicates[:TABLE_GAPS])
            )
        if r.behind:
            where = (
                "no counter" if r.counter_value is None else f"the counter is at {r.counter_value}"
            )
            lines.append(
                f"counter behind: {where}, {r.highest} is stored "
                "(manage.py docnumbers sync --apply)"
            )
        if r.note:
            lines.append(r.note)
        if lines:
            out.write(f"\n{r.label} [{r.part}] key {r.key or '-'}\n")
            out.writelines(f"  {line}\n" for line in lines)
    totals = {
        "sequences": len(reports),
        "issued": sum(r.issued for r in reports),
        "missing": sum(r.missing for r in reports),
        "explained": sum(g.count for r in reports for g in r.explained),
        "duplicates": sum(len(r.duplicates) for r in reports),
        "behind": sum(1 for r in reports if r.behind),
    }
    out.write(
        "\n{sequences} sequence(s), {issued} number(s) stored, {missing} missing and "
        "unexplained, {explained} explained, {duplicates} duplicate(s), "
        "{behind} counter(s) behind.\n".format(**totals)
    )
    return out.getvalue()


CSV_COLUMNS = [
    "sequence",
    "key",
    "part",
    "finding",
    "first",
    "last",
    "count",
    "counter_value",
    "detail",
]


def render_csv(reports) -> str:
    """One line per finding: a summary line per sequence, then gap, explained_gap,
    duplicate, counter_behind lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in reports:
        base = [r.label, r.key or "", r.part]
        value = "" if r.counter_value is None else r.counter_value

        def row(finding, first, last, count, detail="", base=base, value=value):
            writer.writerow(base + [finding, _csv(first), _csv(last), _csv(count), value, detail])

        row("summary", r.first, r.last, r.issued, r.status)
        for g in r.gaps:
            row("gap", g.first, g.last, g.count)
        for g in r.explained:
            row(
                "explained_gap",
                g.first,
                g.last,
                g.count,
                f"{g.explanation.kind}: {g.explanation.reason}",
            )
        for number, count in r.duplicates:
            row("duplicate", number, number, count)
        if r.behind:
            row("counter_behind", r.counter_value, r.highest, None, f"highest stored {r.highest}")
        if r.unattributed:
            row("unattributed", r.first, r.last, r.issued, r.note)
    return out.getvalue()


def _csv(value):
    return "" if value is None else value


def render_json(reports) -> str:
    data = {
        "sequences": [r.as_dict() for r in reports],
        "problems": audit_problems(reports) or None,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
