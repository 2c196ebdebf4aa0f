"""``manage.py docnumbers audit|sync|explain|triggers``: find gaps, repair counters, record
why; write the migrations of late fields' COMMIT triggers.

Exit status: 0 when all is well, 1 when the audit finds a duplicate or a counter
behind (or unexplained gaps with --fail-on-gaps), 2 for bad input, 130 when
interrupted (nothing is left half-changed: sync runs in one transaction).
"""

from __future__ import annotations

import argparse
import shutil

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils.translation import gettext, gettext_lazy

from docnumbers import audit as audit_mod
from docnumbers.audit.rendering import (  # noqa: F401 (public names of this command)
    CSV_COLUMNS,
    RENDERERS,
    TABLE_GAPS,
    audit_problems,
    render_csv,
    render_json,
    render_table,
    spreadsheet_safe,
)
from docnumbers.checks import checks_but_triggers
from docnumbers.exceptions import AuditInputError
from docnumbers.keys import sequence_label
from docnumbers.models import Counter, GapExplanation


class Progress:
    """A bar on a terminal (rewritten with \\r), plain ``n/N`` lines otherwise.

    ``stream`` is the command's ``self.stderr`` (an OutputWrapper): the text is
    written as is, without the error style a terminal would give it.
    """

    def __init__(self, stream, verb: str, enabled: bool = True):
        self.stream = stream
        self.verb = verb
        self.enabled = enabled
        self.tty = enabled and stream.isatty()
        self.drawn = False

    def _write(self, text: str, ending: str) -> None:
        self.stream.write(text, style_func=_plain, ending=ending)
        self.stream.flush()

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.enabled:
            return
        if not self.tty:
            self._write(f"{self.verb} {done}/{total} {label}", ending="\n")
            return
        width = max(10, min(30, shutil.get_terminal_size().columns - 60))
        filled = width * done // max(total, 1)
        text = f"\r{self.verb} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}"
        self._write(text[: shutil.get_terminal_size().columns - 1].ljust(self.drawn or 0), "")
        self.drawn = len(text)

    def close(self) -> None:
        if self.tty and self.drawn:
            self._write("\r" + " " * self.drawn + "\r", ending="")
            self.drawn = False


def _plain(text: str) -> str:
    return text


class ArgumentParser(CommandParser):
    """Bad arguments are bad input like any other: one line naming the problem, status 2.

    From the command line: ``manage.py docnumbers explain: error: ...`` on stderr
    (no usage block; ``--help`` shows it); from ``call_command``: a CommandError
    whose ``returncode`` is 2.
    """

    def error(self, message):
        if self.called_from_command_line:
            self.exit(2, f"{self.prog}: error: {message}\n")
        raise CommandError(f"Error: {message}", returncode=2)


def whole_number(text: str) -> int:
    """argparse ``type`` of --number and --to."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            gettext("wants a whole number, not %(text)s") % {"text": repr(text)}
        )


class Command(BaseCommand):
    help = gettext_lazy(
        "Audit document numbers (gaps, duplicates, counters behind), sync counters, explain gaps."
    )

    def check(self, *args, tags=None, **kwargs):
        # Every check but docnumbers.E011, which ``triggers`` writes the migrations for.
        return super().check(*args, tags=tags or checks_but_triggers(), **kwargs)

    def add_arguments(self, parser):
        actions = parser.add_subparsers(
            dest="action", metavar="{audit,sync,explain,triggers}", parser_class=ArgumentParser
        )
        actions.required = True
        for add in (_add_audit, _add_sync, _add_explain, _add_triggers):
            sub = add(actions)
            sub.add_argument(
                "--database",
                default=DEFAULT_DB_ALIAS,
                help=gettext("Database alias (default: default)."),
            )
            sub.add_argument(
                "--no-progress",
                action="store_true",
                help=gettext("Do not report progress on stderr."),
            )

    def handle(self, *args, action, **options):
        database = options.get("database", DEFAULT_DB_ALIAS)
        if database not in connections:  # call_command(database=...) skips argparse
            raise CommandError(
                gettext("Unknown database %(database)s; the databases are %(names)s.")
                % {"database": repr(database), "names": ", ".join(connections)},
                returncode=2,
            )
        progress = Progress(
            self.stderr,
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
                gettext("Interrupted; nothing was changed.")
                if action == "audit"
                else gettext("Interrupted; nothing was changed (rolled back)."),
                returncode=130,
            )
        finally:
            progress.close()

    # -- triggers -------------------------------------------------------------------

    def handle_triggers(self, *, app_labels, dry_run, check, **_):
        from docnumbers import triggers

        written = triggers.write_migrations(app_labels, dry_run=dry_run or check)
        for path, operations in written:
            names = ", ".join(op.describe() for op in operations)
            self.stdout.write(f"{'Would write' if dry_run or check else 'Wrote'} {path}: {names}")
        if not written:
            self.stdout.write("Every late field's trigger is in its migrations.")
        elif check:
            raise CommandError("Late-numbering triggers are missing from migrations.", returncode=1)

    # -- audit --------------------------------------------------------------------

    def handle_audit(self, *, targets, since, format, fail_on_gaps, database, progress, **_):
        if format not in RENDERERS:  # call_command(format=...) skips argparse's choices
            raise AuditInputError(
                gettext("Unknown format %(format)s; use table, csv or json.")
                % {"format": repr(format)}
            )
        fields = audit_mod.resolve_targets(targets)
        day = audit_mod.parse_date(since) if since else None
        reports = audit_mod.audit(fields, since=day, using=database, progress=progress)
        progress.close()
        self.stdout.write(RENDERERS[format](reports, database=database), ending="")
        problems = audit_problems(reports, fail_on_gaps=fail_on_gaps)
        if problems:
            raise CommandError(
                gettext("docnumbers audit found %(problems)s.") % {"problems": problems},
                returncode=1,
            )

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
            self.stdout.write(gettext("All counters are at or above the highest stored number."))
        for move in moves:
            values = {
                "old": gettext("no counter") if move.old is None else move.old,
                "new": move.new,
                "next": move.new + 1,
            }
            if apply:
                text = gettext("moved %(old)s -> %(new)s (next number %(next)s)") % values
            else:
                text = gettext("would move %(old)s -> %(new)s (next number %(next)s)") % values
            self.stdout.write(f"{move.label}  {move.key}: {text}")
        if moves and not apply:
            self.stdout.write(
                gettext("%(count)d counter(s) behind. Run again with --apply to move them forward.")
                % {"count": len(moves)}
            )
        elif moves:
            self.stdout.write(
                gettext("%(count)d counter(s) moved forward.") % {"count": len(moves)}
            )
        self._report_links(links, apply)
        for report in lost:
            self.stderr.write(f"{report.label}: {report.issued} {report.note}.")

    def _report_links(self, links, apply):
        """What sync did (or would do) with rows loaded without their counter."""
        for link in links:
            if not apply:
                text = gettext("would link %(count)d row(s) loaded without their counter") % {
                    "count": len(link.row_ids)
                }
                self.stdout.write(f"{link.label}  {link.key}: {text}")
                continue
            text = gettext("linked %(count)d row(s)") % {"count": link.linked}
            self.stdout.write(f"{link.label}  {link.key}: {text}")
            if link.duplicates:
                text = gettext(
                    "%(count)d row(s) left without a counter: their number is already "
                    "stored under %(key)s (docnumbers audit)."
                ) % {"count": link.duplicates, "key": link.key}
                self.stderr.write(f"{link.label}: {text}")
        if links and not apply:
            rows = sum(len(link.row_ids) for link in links)
            self.stdout.write(
                gettext(
                    "%(count)d row(s) without their counter. Run again with --apply to link them."
                )
                % {"count": rows}
            )
        elif links:
            rows = sum(link.linked for link in links)
            self.stdout.write(
                gettext("%(count)d row(s) linked to their counter.") % {"count": rows}
            )

    # -- explain ------------------------------------------------------------------

    def handle_explain(self, *, target, number, to, kind, reason, key, period, database, **_):
        fields = audit_mod.resolve_targets([target])
        if len(fields) != 1:
            raise AuditInputError(
                gettext("%(target)s has several AutoSequenceFields; name one.") % {"target": target}
            )
        field = fields[0]
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
                gettext(
                    "No counter of %(field)s matches; `manage.py docnumbers audit` lists the keys."
                )
                % {"field": audit_mod.field_label(field)}
            )
        if len(found) > 1:
            shown = ", ".join(c.key for c in found[:5])
            raise AuditInputError(
                gettext(
                    "%(field)s has several counters (%(keys)s, ...); "
                    "pick one with --key or --period."
                )
                % {"field": audit_mod.field_label(field), "keys": shown}
            )
        record = audit_mod.explain_gap(
            found[0], number, to, kind=kind, reason=reason, using=database
        )
        self.stdout.write(gettext("Recorded: %(record)s.") % {"record": record})


def _add_audit(actions):
    audit = actions.add_parser(
        "audit",
        help=gettext(
            "Report, per sequence: count, first and last number, gaps, duplicates, counters behind."
        ),
    )
    audit.add_argument("targets", nargs="*", metavar="app_label.Model[.field]")
    audit.add_argument(
        "--since",
        metavar="YYYY-MM-DD",
        help=gettext("Only rows whose date_field is on or after it."),
    )
    audit.add_argument(
        "--format",
        default="table",
        choices=list(RENDERERS),
        help=gettext("table (default), csv or json."),
    )
    audit.add_argument(
        "--fail-on-gaps",
        action="store_true",
        help=gettext("Also exit with status 1 when a gap is unexplained."),
    )
    return audit


def _add_sync(actions):
    sync = actions.add_parser(
        "sync", help=gettext("Move counters forward to the highest stored number (after imports).")
    )
    sync.add_argument("targets", nargs="*", metavar="app_label.Model[.field]")
    sync.add_argument(
        "--apply", action="store_true", help=gettext("Change the counters (default: only show).")
    )
    return sync


def _add_triggers(actions):
    triggers = actions.add_parser(
        "triggers",
        help="Write the migrations that install late fields' COMMIT triggers (PostgreSQL).",
    )
    triggers.add_argument("app_labels", nargs="*", metavar="app_label")
    triggers.add_argument("--dry-run", action="store_true", help="Only say what would be written.")
    triggers.add_argument(
        "--check", action="store_true", help="Exit with status 1 when a migration is missing."
    )
    return triggers


def _add_explain(actions):
    explain = actions.add_parser("explain", help=gettext("Record why numbers are missing."))
    explain.add_argument("target", metavar="app_label.Model.field")
    explain.add_argument(
        "--number", required=True, type=whole_number, help=gettext("The first missing number.")
    )
    explain.add_argument(
        "--to", type=whole_number, help=gettext("The last missing number (default: --number).")
    )
    kinds = GapExplanation.Kind.values
    explain.add_argument(
        "--kind",
        default=GapExplanation.Kind.VOIDED.value,
        choices=kinds,
        help=gettext("%(kinds)s or %(last)s (default: voided).")
        % {"kinds": ", ".join(kinds[:-1]), "last": kinds[-1]},
    )
    explain.add_argument("--reason", required=True, help=gettext("Why they are missing."))
    explain.add_argument(
        "--key", help=gettext("The counter key (as the audit shows it) when the field has several.")
    )
    explain.add_argument("--period", help=gettext("Pick the counter of this period, e.g. 2026."))
    return explain
