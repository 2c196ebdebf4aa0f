"""bulk_create of 10,000 numbered rows vs the same bulk_create of rows without a number column.

python -m benchmarks.bulk [--quick] [--repeat 9] [--rows 10000]
"""

from __future__ import annotations

if __package__ in (None, ""):  # run as a file: python benchmarks/bulk.py
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"
    import benchmarks  # noqa: F401  (the parent package of the relative imports below)

import datetime as dt
import time
from decimal import Decimal

from . import harness

NAME = "bulk"
DAY = dt.date(2026, 1, 15)
COLUMNS = [
    ("database", "database"),
    ("variant", "rows"),
    ("seconds", "seconds"),
    ("ratio", "x plain"),
    ("ratio_hand", "x same columns by hand"),
    ("queries", "queries"),
    ("duplicates", "dups"),
    ("gaps", "gaps"),
]


def parser():
    parser = harness.arguments(__doc__.split("\n\n")[0], seconds=0, repeat=9)
    parser.add_argument("--rows", type=int, default=10_000, help="rows per bulk_create")
    return parser


def resolve(args):
    args.seconds = 1  # not used: each cell is one bulk_create
    harness.resolve(args, quick_seconds=1, quick_repeat=1)
    if not 1 <= args.rows <= 1_000_000:
        raise SystemExit("--rows must be between 1 and 1,000,000.")
    return args


def variants():
    from .benchapp.models import (
        CountedRow,
        FormattedRow,
        HandFormattedRow,
        HandNumberedRow,
        PlainRow,
    )

    return [
        ("plain (no number column)", PlainRow),
        ("unique number set by hand", HandNumberedRow),
        ("formatted columns set by hand", HandFormattedRow),
        ("docnumbers number", CountedRow),
        ("docnumbers number + format", FormattedRow),
    ]


#: Each variant's floor: the same columns and constraints, filled by the caller.
FLOOR = {
    "docnumbers number": "unique number set by hand",
    "docnumbers number + format": "formatted columns set by hand",
}


def build(model, rows):
    objects = [
        model(customer=f"Customer {i % 100}", issued_on=DAY, amount=Decimal("12.50"))
        for i in range(rows)
    ]
    if model._meta.model_name == "handnumberedrow":
        for number, instance in enumerate(objects, start=1):
            instance.number = number
    if model._meta.model_name == "handformattedrow":
        from docnumbers import allocation

        counter_id, _ = allocation.take("bench.hand-formatted", 0)
        for number, instance in enumerate(objects, start=1):
            instance.number = number
            instance.number_display = f"R-{DAY.year}-{number:06d}"
            instance.number_counter_id = counter_id
    return objects


def measure(alias, model, rows):
    """One bulk_create of ``rows`` new objects in a transaction: (seconds, queries, check)."""
    from django.db import transaction

    harness.flush(alias, model)
    objects = build(model, rows)
    with harness.QueryCount(alias) as queries:
        started = time.perf_counter()
        with transaction.atomic(using=alias):
            model.objects.using(alias).bulk_create(objects)
        elapsed = time.perf_counter() - started
    return elapsed, queries.count, numbers_check(alias, model)


def numbers_check(alias, model):
    """Duplicates and gaps among the numbers just stored (none for the plain rows)."""
    from django.db.models import Count, Max, Min

    if not any(f.name == "number" for f in model._meta.fields):
        return {"duplicates": None, "gaps": None}
    stats = model.objects.using(alias).aggregate(
        rows=Count("pk"),
        distinct=Count("number", distinct=True),
        low=Min("number"),
        high=Max("number"),
    )
    return {
        "duplicates": stats["rows"] - stats["distinct"],
        "gaps": (stats["high"] - stats["low"] + 1) - stats["distinct"],
    }


def run(args, aliases):
    alias = aliases[0]
    label = harness.server_version(alias)
    chosen = variants()
    for _, model in chosen:  # warm-up: the first statement of a kind pays for caches
        measure(alias, model, min(args.rows, 500))
    samples = {name: [] for name, _ in chosen}
    for repetition in range(args.repeat):
        for name, model in harness.rotated(chosen, repetition):
            seconds, queries, checked = measure(alias, model, args.rows)
            samples[name].append({"seconds": seconds, "queries": queries, **checked})
    plain = samples[chosen[0][0]]
    rows = []
    for name, _ in chosen:
        runs = samples[name]
        hand = samples[FLOOR.get(name, name)]
        ratios = [r["seconds"] / p["seconds"] for r, p in zip(runs, plain, strict=True)]
        ratios_hand = [r["seconds"] / h["seconds"] for r, h in zip(runs, hand, strict=True)]
        numbered = runs[0]["duplicates"] is not None
        rows.append(
            {
                "database": label,
                "variant": name,
                "seconds": harness.median([r["seconds"] for r in runs]),
                "ratio": harness.median(ratios),
                "ratio_hand": harness.median(ratios_hand),
                "queries": max(r["queries"] for r in runs),
                "duplicates": sum(r["duplicates"] for r in runs) if numbered else None,
                "gaps": sum(r["gaps"] for r in runs) if numbered else None,
            }
        )
        print(harness.table([rows[-1]], COLUMNS).splitlines()[-1], flush=True)
    for _, model in chosen:
        harness.flush(alias, model)
    return rows, _targets(rows, args.rows), samples


def _targets(rows, count):
    """Issue 14: <= 1.2x a batch without a number column (plain field), <= 1.4x formatted."""
    by_name = {row["variant"]: row for row in rows}
    targets = []
    for row in rows:
        if row["variant"] not in FLOOR:
            continue
        floor = by_name[FLOOR[row["variant"]]]
        wanted = 1.4 if "format" in row["variant"] else 1.2
        name = f"(b) bulk_create {count:,} rows, {row['variant']}: <= {wanted:.2f}x plain"
        met = row["ratio"] <= wanted
        why = (
            f"the same columns and unique constraints filled by hand ({floor['variant']}) "
            f"already cost {floor['ratio']:.2f}x plain; docnumbers is {row['ratio_hand']:.2f}x "
            "that (numbering the batch in Python and recording each number, one counter "
            "statement per key)"
        )
        targets.append(
            harness.target(
                name,
                f"<= {wanted:.2f}x",
                f"{row['ratio']:.2f}x, {row['queries']} queries",
                met,
                ""
                if met
                else f"{row['ratio'] - wanted:.2f}x over ({row['ratio'] / wanted - 1:.0%})",
                "" if met else why,
            )
        )
    return targets


def report(rows, targets):
    harness.report("bulk_create (median of repetitions)", rows, COLUMNS, targets)


def main(argv=None):
    args = resolve(parser().parse_args(argv))
    harness.run_alone(NAME, args, run, report, {"rows": args.rows, "repeat": args.repeat})


if __name__ == "__main__":
    main()
