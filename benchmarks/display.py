"""Loading 10,000 rows and reading every ``<field>_display`` vs reading a plain CharField.

python -m benchmarks.display [--quick] [--repeat 15] [--rows 10000]
"""

from __future__ import annotations

if __package__ in (None, ""):  # run as a file: python benchmarks/display.py
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"
    import benchmarks  # noqa: F401  (the parent package of the relative imports below)

import time

from . import harness
from .bulk import build

NAME = "display"
COLUMNS = [
    ("database", "database"),
    ("variant", "read"),
    ("seconds", "seconds"),
    ("ratio", "x plain"),
    ("queries", "queries"),
]


def parser():
    parser = harness.arguments(__doc__.split("\n\n")[0], seconds=0, repeat=15)
    parser.add_argument("--rows", type=int, default=10_000, help="rows loaded")
    return parser


def resolve(args):
    args.seconds = 1  # not used: each cell is one query and a loop
    harness.resolve(args, quick_seconds=1, quick_repeat=1)
    if not 1 <= args.rows <= 1_000_000:
        raise SystemExit("--rows must be between 1 and 1,000,000.")
    return args


def fill(alias, rows):
    """``rows`` formatted rows, and as many plain rows holding the same text."""
    from .benchapp.models import FormattedRow, TextRow

    harness.flush(alias, FormattedRow, TextRow)
    numbered = FormattedRow.objects.using(alias).bulk_create(build(FormattedRow, rows))
    plain = build(TextRow, rows)
    for source, target in zip(numbered, plain, strict=True):
        target.number_text = source.number_display
    TextRow.objects.using(alias).bulk_create(plain)


def read(alias, model, attribute):
    """Load every row and read ``attribute`` of each: (seconds, queries, texts read)."""
    with harness.QueryCount(alias) as queries:
        started = time.perf_counter()
        texts = [getattr(row, attribute) for row in model.objects.using(alias).all()]
        elapsed = time.perf_counter() - started
    return elapsed, queries.count, texts


def run(args, aliases):
    from .benchapp.models import FormattedRow, TextRow

    alias = aliases[0]
    label = harness.server_version(alias)
    fill(alias, args.rows)
    chosen = [
        ("plain CharField", TextRow, "number_text"),
        ("<field>_display", FormattedRow, "number_display"),
    ]
    for _, model, attribute in chosen:  # warm-up
        read(alias, model, attribute)
    samples = {name: [] for name, _, _ in chosen}
    texts = {}
    for repetition in range(args.repeat):
        for name, model, attribute in harness.rotated(chosen, repetition):
            seconds, queries, texts[name] = read(alias, model, attribute)
            samples[name].append({"seconds": seconds, "queries": queries})
    same = sorted(texts[chosen[0][0]]) == sorted(texts[chosen[1][0]])
    plain = samples[chosen[0][0]]
    rows = []
    for name, _, _ in chosen:
        runs = samples[name]
        ratios = [r["seconds"] / p["seconds"] for r, p in zip(runs, plain, strict=True)]
        rows.append(
            {
                "database": label,
                "variant": name,
                "seconds": harness.median([r["seconds"] for r in runs]),
                "ratio": harness.median(ratios),
                "queries": max(r["queries"] for r in runs),
            }
        )
    harness.flush(alias, FormattedRow, TextRow)
    return rows, _targets(rows, args.rows, same), samples


def _targets(rows, count, same):
    row = rows[1]
    met = row["ratio"] <= 1.2 and same
    shortfall = []
    if row["ratio"] > 1.2:
        shortfall.append(f"{row['ratio'] - 1.2:.2f}x over ({row['ratio'] / 1.2 - 1:.0%})")
    if not same:
        shortfall.append("the texts read differ")
    why = (
        "one query each, and reading the attribute costs the same; the difference is in "
        "fetching and building the instances: a numbered row has two more columns (the "
        "integer and the counter id) to fetch and set on every instance"
    )
    return [
        harness.target(
            f"(c) load {count:,} rows, read every _display: <= 1.2x plain CharField",
            "<= 1.20x",
            f"{row['ratio']:.2f}x, {row['queries']} query",
            met,
            "; ".join(shortfall),
            why,
        )
    ]


def report(rows, targets):
    harness.report("Reading the formatted number (median of repetitions)", rows, COLUMNS, targets)


def main(argv=None):
    args = resolve(parser().parse_args(argv))
    harness.run_alone(NAME, args, run, report, {"rows": args.rows, "repeat": args.repeat})


if __name__ == "__main__":
    main()
