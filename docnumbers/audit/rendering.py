"""The audit's reports as a table, CSV or JSON (``manage.py docnumbers audit --format``)."""

from __future__ import annotations

import csv
import io
import json
import shlex

from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext, ngettext

from .passes import explain_url

#: How many gap ranges the table lists per sequence before it says "and N more".
TABLE_GAPS = 20


def audit_problems(reports, *, fail_on_gaps=False) -> str:
    """'2 duplicate numbers, 1 counter behind', or '' when nothing fails the audit."""
    duplicates = sum(len(r.duplicates) for r in reports)
    behind = sum(1 for r in reports if r.behind)
    gaps = sum(len(r.gaps) for r in reports) if fail_on_gaps else 0
    unnumbered = sum(r.unnumbered for r in reports)
    misfiled = sum(r.misfiled for r in reports)
    shared = len({text for r in reports for text, _ in r.shared_texts})
    out_of_order = sum(len(r.chronology_breaks) for r in reports)
    parts = []
    if out_of_order:
        parts.append(
            ngettext(
                "%(count)d number dated before the number preceding it",
                "%(count)d numbers dated before the number preceding them",
                out_of_order,
            )
            % {"count": out_of_order}
        )
    if shared:
        parts.append(
            ngettext(
                "%(count)d text stored by two document types",
                "%(count)d texts stored by two document types",
                shared,
            )
            % {"count": shared}
        )
    if misfiled:
        parts.append(
            ngettext(
                "%(count)d row outside their counter's scope or period",
                "%(count)d rows outside their counter's scope or period",
                misfiled,
            )
            % {"count": misfiled}
        )
    if unnumbered:
        parts.append(
            ngettext(
                "%(count)d row without a number", "%(count)d rows without a number", unnumbered
            )
            % {"count": unnumbered}
        )
    if duplicates:
        parts.append(
            ngettext("%(count)d duplicate number", "%(count)d duplicate numbers", duplicates)
            % {"count": duplicates}
        )
    if behind:
        parts.append(
            ngettext("%(count)d counter behind", "%(count)d counters behind", behind)
            % {"count": behind}
        )
    if gaps:
        parts.append(
            ngettext("%(count)d unexplained gap", "%(count)d unexplained gaps", gaps)
            % {"count": gaps}
        )
    return ", ".join(parts)


def _blank(value):
    return "-" if value is None else str(value)


def render_table(reports, database: str = DEFAULT_DB_ALIAS) -> str:
    """A summary table, then the findings of each sequence that has some, then totals."""
    out = io.StringIO()
    out.write(_summary_table(reports))
    for r in reports:
        lines = _findings(r, database)
        if lines:
            heading = gettext("%(sequence)s [%(part)s] key %(key)s") % {
                "sequence": r.label,
                "part": r.part,
                "key": r.key or "-",
            }
            out.write(f"\n{heading}\n")
            out.writelines(f"  {line}\n" for line in lines)
    totals = {
        "sequences": len(reports),
        "issued": sum(r.issued for r in reports),
        "missing": sum(r.missing for r in reports),
        "explained": sum(g.count for r in reports for g in r.explained),
        "duplicates": sum(len(r.duplicates) for r in reports),
        "behind": sum(1 for r in reports if r.behind),
    }
    line = gettext(
        "%(sequences)d sequence(s), %(issued)d number(s) stored, %(missing)d missing and "
        "unexplained, %(explained)d explained, %(duplicates)d duplicate(s), "
        "%(behind)d counter(s) behind."
    )
    out.write(f"\n{line % totals}\n")
    return out.getvalue()


def _summary_table(reports) -> str:
    if not reports:
        return gettext("No numbered rows and no counters.") + "\n"
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
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(w) if i < 2 or i == len(row) - 1 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip() + "\n")
    return "".join(lines)


def _findings(r, database: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The lines under one sequence: gaps, explained gaps, duplicates, a counter behind."""
    lines = []
    for found in r.chronology_breaks:
        lines.append(
            gettext("out of order: %(text)s (%(day)s) comes after %(after)s (%(after_day)s)")
            % found
        )
    if r.gaps:
        shown = ", ".join(g.text for g in r.gaps[:TABLE_GAPS])
        more = len(r.gaps) - TABLE_GAPS
        text = gettext("unexplained gaps: %(gaps)s") % {"gaps": shown}
        if more > 0:
            text += " " + gettext("... and %(count)d more (--format csv lists all)") % {
                "count": more
            }
        lines.append(text)
    if r.gaps and r.counter_id is not None and not r.unattributed:
        for g in r.gaps[:TABLE_GAPS]:
            # The admin reads its own database: elsewhere, the command that names this one.
            how = explain_url(r.counter_id, g, database)
            if how is None and database != DEFAULT_DB_ALIAS:
                how = explain_command(r, g, database)
            if how:
                lines.append(gettext("explain %(gap)s: %(url)s") % {"gap": g.text, "url": how})
    for g in r.explained:
        lines.append(
            gettext("explained gap %(gap)s: %(kind)s: %(reason)s")
            % {"gap": g.text, "kind": g.explanation.kind, "reason": g.explanation.reason}
        )
    if r.duplicates:
        shown = ", ".join(f"{n} (x{c})" for n, c in r.duplicates[:TABLE_GAPS])
        lines.append(gettext("duplicates: %(numbers)s") % {"numbers": shown})
    for text, other in r.shared_texts[:TABLE_GAPS]:
        lines.append(
            gettext("shared text: %(text)s is also %(other)s") % {"text": text, "other": other}
        )
    if r.behind:
        if r.counter_value is None:
            where = gettext("no counter")
        else:
            where = gettext("the counter is at %(value)s") % {"value": r.counter_value}
        lines.append(
            gettext(
                "counter behind: %(where)s, %(highest)s is stored "
                "(manage.py docnumbers sync --apply)"
            )
            % {"where": where, "highest": r.highest}
        )
    if r.note:
        lines.append(r.note)
    return lines


def explain_command(r, gap, database: str) -> str:
    """``manage.py docnumbers explain ... --database other``: what records why ``gap`` of
    the report ``r`` is missing, on ``database``."""
    words = ["manage.py", "docnumbers", "explain", r.label, "--number", str(gap.first)]
    if gap.last != gap.first:
        words += ["--to", str(gap.last)]
    words += ["--key", r.key, "--database", database]
    return " ".join(shlex.quote(word) for word in words) + " --reason '...'"


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


#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A text cell that a spreadsheet would run as a formula, made inert with a leading
    ``'`` as OWASP advises (``-2+3+cmd|...`` -> ``'-2+3+cmd|...``). Numbers are written
    as numbers: ``-5`` in a number column is a value, not a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def render_csv(reports, database: str = DEFAULT_DB_ALIAS) -> str:
    """One line per finding: a summary line per sequence, then gap, explained_gap,
    duplicate, counter_behind lines.

    Every text cell is quoted (a separator inside one cannot split it) and made
    inert when it would start a formula (series names, scope values, reasons are
    typed by people); number cells are bare numbers.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(CSV_COLUMNS)
    for r in reports:
        base = [r.label, r.key or "", r.part]
        value = "" if r.counter_value is None else r.counter_value

        def row(finding, first, last, count, detail="", base=base, value=value):
            cells = base + [finding, _csv(first), _csv(last), _csv(count), value, detail]
            writer.writerow([spreadsheet_safe(cell) for cell in cells])

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
        for text, other in r.shared_texts:
            row("shared_text", None, None, None, f"{text} is also {other}")
        if r.behind:
            row("counter_behind", r.counter_value, r.highest, None, f"highest stored {r.highest}")
        if r.unattributed:
            row("unattributed", r.first, r.last, r.issued, r.note)
    return out.getvalue()


def _csv(value):
    return "" if value is None else value


def render_json(reports, database: str = DEFAULT_DB_ALIAS) -> str:
    data = {
        "sequences": [r.as_dict() for r in reports],
        "problems": audit_problems(reports) or None,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


#: The --format choices and their renderers.
RENDERERS = {"table": render_table, "csv": render_csv, "json": render_json}
