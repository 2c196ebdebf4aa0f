"""The audit behind ``manage.py docnumbers``: what was issued, what is missing, what is wrong.

Gaps, duplicates and counts are computed by the database (``LAG() OVER``,
``GROUP BY``), one pass per field, so a million rows never travel to Python.
Everything here reads, except ``apply_moves`` (moves counters forward, in one
transaction), ``apply_links`` and ``explain_gap`` (records why numbers are missing).

``report`` (what a report holds, the targets), ``passes`` (the audit), ``sync``
(moves and links), ``explanations`` (``check_gap``, ``explain_gap``) and
``rendering`` (table, CSV, JSON); their public names are importable from here.
"""

from ..exceptions import AuditInputError
from .explanations import check_gap, explain_gap
from .passes import SHARED_TEXTS_SHOWN, audit, explain_url, split_gap
from .report import (
    CounterMove,
    Gap,
    Progress,
    RowLink,
    SequenceReport,
    field_label,
    parse_date,
    resolve_targets,
)
from .sync import apply_links, apply_moves, plan_links, plan_moves

__all__ = [
    "SHARED_TEXTS_SHOWN",
    "AuditInputError",
    "CounterMove",
    "Gap",
    "Progress",
    "RowLink",
    "SequenceReport",
    "apply_links",
    "apply_moves",
    "audit",
    "check_gap",
    "explain_gap",
    "explain_url",
    "field_label",
    "parse_date",
    "plan_links",
    "plan_moves",
    "resolve_targets",
    "split_gap",
]
