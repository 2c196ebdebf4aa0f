"""Concurrent throughput: K writers, each transaction one invoice + 5 lines + W ms of other work.

Compares, in the same run and interleaved, four ways of numbering the invoice:
a database sequence (nextval, the ceiling, gaps allowed), a hand-written counter
taken at insert time (what django-sequences and a pre_save field do), docnumbers
with its defaults and docnumbers with late allocation. After every cell the
table is checked for duplicate numbers and for gaps.

    python -m benchmarks.throughput [--quick] [--seconds 4] [--repeat 3] [--k 1,8,32] [--w 0,2]
"""

from __future__ import annotations

if __package__ in (None, ""):  # run as a file: python benchmarks/throughput.py
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"
    import benchmarks  # noqa: F401  (the parent package of the relative imports below)

from . import harness

NAME = "throughput"
VARIANTS = [
    "nextval",
    "insert-time counter",
    "counter in the INSERT",
    "docnumbers default",
    "docnumbers late",
    "docnumbers late formatted",
    "hand-written trigger",
    "hand-written plain trigger",
]
#: The hand-written variants' CounterRow names.
COUNTER_ROWS = {
    "insert-time counter": "invoice",  # workloads.COUNTER_NAME
    "counter in the INSERT": "in-insert",
    "hand-written trigger": "hand-trigger",
    "hand-written plain trigger": "hand-plain",
}
COLUMNS = [
    ("database", "database"),
    ("k", "K"),
    ("work_ms", "W ms"),
    ("variant", "variant"),
    ("tps", "tx/s"),
    ("ratio", "x nextval"),
    ("statements", "stmts/tx"),
    ("cpu_ms", "client CPU ms/tx"),
    ("duplicates", "dups"),
    ("gaps", "gaps"),
    ("unnumbered", "unnumbered"),
    ("errors", "errors"),
    ("note", "note"),
]


def parser():
    parser = harness.arguments(__doc__.split("\n\n")[0], seconds=4, repeat=3)
    parser.add_argument("--k", default=None, help="writers per cell (default 1,8,32)")
    parser.add_argument("--w", default=None, help="ms of other work per transaction (default 0,2)")
    parser.add_argument(
        "--variants",
        default=None,
        help="a comma-separated subset of: " + ", ".join(VARIANTS) + " (nextval is always run)",
    )
    parser.add_argument(
        "--lines",
        default="each",
        choices=["each", "bulk"],
        help="write the 5 lines one INSERT each (default) or in one bulk_create (issue 14)",
    )
    parser.add_argument(
        "--mariadb-k",
        default=None,
        help="writers per cell on MariaDB (default 8; 'off' to skip MariaDB)",
    )
    return parser


def _numbers(text, default):
    return [int(part) for part in (text or default).split(",") if part.strip()]


def resolve(args):
    harness.resolve(args, quick_seconds=1.5)
    args.k_list = _numbers(args.k, "1,8" if args.quick else "1,8,32")
    args.w_list = _numbers(args.w, "0,2")
    mariadb = args.mariadb_k or "8"
    args.mariadb_k_list = [] if mariadb == "off" else _numbers(mariadb, "8")
    if any(k < 1 or k > 64 for k in args.k_list + args.mariadb_k_list):
        raise SystemExit("K must be between 1 and 64.")
    chosen = [v.strip() for v in (args.variants or ",".join(VARIANTS)).split(",") if v.strip()]
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"Unknown variant(s): {', '.join(unknown)}.")
    args.variant_list = [v for v in VARIANTS if v == "nextval" or v in chosen]
    if any(w < 0 or w > 1000 for w in args.w_list):
        raise SystemExit("W must be between 0 and 1000 ms.")
    return args


# -- what was issued, what was stored ------------------------------------------------


def issued(alias, variant):
    """The counter's total before or after a cell (None for nextval, which has none)."""
    from django.db.models import Sum

    from docnumbers.keys import sequence_label
    from docnumbers.models import Counter

    from .benchapp.models import CounterRow
    from .workloads import VARIANTS as BODIES

    if variant == "nextval":
        return None
    if variant in COUNTER_ROWS:
        name = COUNTER_ROWS[variant]
        return (
            CounterRow.objects.using(alias)
            .filter(name=name)
            .values_list("value", flat=True)
            .first()
            or 0
        )
    model = BODIES[variant][1]
    total = (
        Counter.objects.using(alias)
        .filter(sequence=sequence_label(model, "number"))
        .aggregate(total=Sum("value"))["total"]
    )
    return total or 0


def prepare(alias, variant):
    """Empty the variant's tables (its counter keeps counting) and make sure its counter exists."""
    from .benchapp.models import CounterRow
    from .workloads import VARIANTS as BODIES

    _, invoice, line = BODIES[variant]
    harness.flush(alias, line, invoice)
    if variant in COUNTER_ROWS:
        CounterRow.objects.using(alias).get_or_create(name=COUNTER_ROWS[variant])


def check(alias, variant, before, after, scope_column=None):
    """Duplicates, gaps and rows without a number in the variant's table after a cell."""
    from django.db import connections

    from .workloads import VARIANTS as BODIES

    connection = connections[alias]
    qn = connection.ops.quote_name
    table = qn(BODIES[variant][1]._meta.db_table)
    number = qn("number")
    group = f" GROUP BY {qn(scope_column)}" if scope_column else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COUNT({number}), COUNT(DISTINCT {number}), "
            f"MIN({number}), MAX({number}) FROM {table}{group}"
        )
        groups = cursor.fetchall()
    rows = sum(g[0] for g in groups)
    numbered = sum(g[1] for g in groups)
    distinct = sum(g[2] for g in groups)
    if before is None:  # a sequence: the holes between its smallest and largest number
        gaps = sum((g[4] - g[3] + 1) - g[2] for g in groups if g[3] is not None)
    else:  # a counter: every value it issued in the cell must be in the table, once
        gaps = (after - before) - distinct
    return {
        "rows": rows,
        "duplicates": numbered - distinct,
        "gaps": gaps,
        "unnumbered": rows - numbered,
    }


def cell(workers, alias, variant, jobs, seconds, scope_column=None):
    """Run one cell: empty the table, run ``jobs`` together, check what they stored."""
    prepare(alias, variant)
    before = issued(alias, variant)
    outcomes = workers.run(jobs, seconds)
    after = issued(alias, variant)
    result = check(alias, variant, before, after, scope_column)
    committed = sum(o["committed"] for o in outcomes)
    result.update(
        committed=committed,
        tps=committed / seconds,
        cpu_ms=1000 * sum(o.get("cpu", 0) for o in outcomes) / max(committed, 1),
        errors=sum(o["errors"] for o in outcomes),
        error=next((o["error"] for o in outcomes if o.get("error")), None),
    )
    return result


# -- the benchmark ------------------------------------------------------------------


def warm_up(workers, alias, variants, k, seconds=0.5):
    """A short unmeasured cell per variant: connections, caches and counters ready."""
    for variant in variants:
        cell(workers, alias, variant, [{"variant": variant, "work_ms": 0}] * k, seconds)


def statements(alias, variant, lines="each"):
    """The statements one transaction of ``variant`` sends (BEGIN and COMMIT not counted)."""
    from django.db import transaction

    from .workloads import LINE_MODE
    from .workloads import VARIANTS as BODIES

    LINE_MODE["mode"] = lines
    prepare(alias, variant)
    with transaction.atomic(using=alias):  # once unmeasured: what a process keeps is kept
        BODIES[variant][0](alias, 0, "branch-0")
    with harness.QueryCount(alias) as queries:
        with transaction.atomic(using=alias):
            BODIES[variant][0](alias, 0, "branch-0")
    return queries.count


def run(args, aliases):
    """Measure every cell on every database; return (rows, targets, raw data)."""
    from django.db import connections

    from .workloads import available

    rows, raw = [], []
    for alias in aliases:
        vendor = connections[alias].vendor
        if vendor == "sqlite":
            print(f"# {alias}: SQLite has one writer at a time; throughput skipped.")
            continue
        k_list = args.k_list if alias == "default" else args.mariadb_k_list
        if not k_list:
            continue
        label = harness.server_version(alias)
        runnable = [v for v in args.variant_list if available(v, vendor) is None]
        counts = {variant: statements(alias, variant, args.lines) for variant in runnable}
        with harness.Workers(alias, max(k_list)) as workers:
            warm_up(workers, alias, runnable, max(k_list))
            for k in k_list:
                for work_ms in args.w_list:
                    samples = {variant: [] for variant in runnable}
                    for repetition in range(args.repeat):
                        for variant in harness.rotated(runnable, repetition):
                            job = {"variant": variant, "work_ms": work_ms, "lines": args.lines}
                            jobs = [job] * k
                            result = cell(workers, alias, variant, jobs, args.seconds)
                            samples[variant].append(result)
                            raw.append(
                                {
                                    "database": label,
                                    "k": k,
                                    "work_ms": work_ms,
                                    "variant": variant,
                                    "repetition": repetition,
                                    **result,
                                }
                            )
                    summary = _summarize(label, k, work_ms, samples, vendor, args.variant_list)
                    for row in summary:
                        row["statements"] = counts.get(row["variant"])
                    rows += summary
                    for row in summary:
                        print(harness.table([row], COLUMNS).splitlines()[-1], flush=True)
    return rows, _targets(rows), raw


def _summarize(label, k, work_ms, samples, vendor, variants):
    from .workloads import available

    ceiling = samples.get("nextval", [])
    rows = []
    for variant in variants:
        base = {"database": label, "k": k, "work_ms": work_ms, "variant": variant}
        if variant not in samples:
            rows.append({**base, "note": available(variant, vendor)})
            continue
        runs = samples[variant]
        ratios = [
            run["tps"] / top["tps"] for run, top in zip(runs, ceiling, strict=False) if top["tps"]
        ]
        note = ""
        if variant == "nextval":
            note = "ceiling, gaps allowed"
        elif variant == "docnumbers late" and vendor != "postgresql":
            note = "falls back to save time here"
        errors = sum(run["errors"] for run in runs)
        if errors:
            note = (note + "; " if note else "") + next(r["error"] for r in runs if r["error"])
        rows.append(
            {
                **base,
                "tps": harness.median([run["tps"] for run in runs]),
                "cpu_ms": harness.median([run.get("cpu_ms", 0) for run in runs]),
                "ratio": harness.median(ratios),
                "duplicates": sum(run["duplicates"] for run in runs),
                "gaps": sum(run["gaps"] for run in runs),
                "unnumbered": sum(run["unnumbered"] for run in runs),
                "errors": errors,
                "note": note,
            }
        )
    return rows


#: Issue 14's targets: (variant, K, W ms, wanted ratio to nextval).
TARGETS = [
    ("docnumbers late", 8, 2, 1.0),
    ("docnumbers late formatted", 8, 2, 0.95),
    ("docnumbers default", 1, 2, 0.95),
]


def _targets(rows):
    targets = []
    for variant, k, work_ms, wanted in TARGETS:
        name = f"(a) K={k}, W={work_ms}, PostgreSQL: {variant} >= {wanted:.2f}x nextval, clean"
        cells = [
            r
            for r in rows
            if r["database"].startswith("PostgreSQL")
            and (r["k"], r["work_ms"], r["variant"]) == (k, work_ms, variant)
        ]
        if not cells or cells[0].get("ratio") is None:
            note = cells[0].get("note") if cells else f"cell K={k}, W={work_ms} not run"
            targets.append(harness.target(name, f">= {wanted:.2f}x", note or "-", None, ""))
            continue
        row = cells[0]
        clean = row["duplicates"] == 0 and row["gaps"] == 0 and row["unnumbered"] == 0
        measured = (
            f"{row['ratio']:.2f}x, {row['duplicates']} dups, {row['gaps']} gaps, "
            f"{row['unnumbered']} unnumbered"
        )
        shortfall = []
        if row["ratio"] < wanted:
            shortfall.append(
                f"{wanted - row['ratio']:.2f}x below ({(1 - row['ratio'] / wanted):.0%})"
            )
        if not clean:
            shortfall.append("numbers not clean")
        met = row["ratio"] >= wanted and clean
        why = "" if met else "; ".join(_why_slow(rows, row))
        targets.append(
            harness.target(name, f">= {wanted:.2f}x", measured, met, "; ".join(shortfall), why)
        )
    return targets


def _why_slow(rows, row):
    """What this run's measurements say about a cell below its target (nothing assumed)."""

    def find(variant):
        for r in rows:
            if (r["database"], r["k"], r["work_ms"], r["variant"]) == (
                row["database"],
                row["k"],
                row["work_ms"],
                variant,
            ):
                return r
        return {}

    reasons = []
    base = find("nextval")
    reference = find("hand-written trigger")
    if reference.get("tps") and row.get("tps"):
        reasons.append(
            f"the hand-written trigger (static SQL, no ORM work) reached "
            f"{reference['ratio']:.2f}x in the same cell; this variant is "
            f"{row['tps'] / reference['tps']:.2f}x of it"
        )
    cpu, base_cpu = row.get("cpu_ms"), base.get("cpu_ms")
    if cpu and base_cpu:
        reasons.append(
            f"client CPU {cpu:.2f} ms per transaction against {base_cpu:.2f} ms for nextval "
            f"({cpu / base_cpu - 1:+.0%}; python -m benchmarks.profile_save shows where)"
        )
    statements, base_statements = row.get("statements"), base.get("statements")
    if statements and base_statements and statements > base_statements:
        reasons.append(
            f"{statements} statements per transaction against {base_statements}: "
            "the counter statement is a round trip more, and its lock lasts to COMMIT"
        )
    ceiling, alone = base.get("tps"), None
    for r in rows:
        if (r["database"], r["k"], r["work_ms"], r["variant"]) == (
            row["database"],
            1,
            0,
            "nextval",
        ):
            alone = r.get("tps")
    if ceiling and alone and row["k"] > 1:
        # K writers that each sleep W ms per transaction, on idle CPUs, would reach this:
        idle = row["k"] / (row["work_ms"] / 1000 + 1 / alone)
        if ceiling < 0.6 * idle:
            reasons.append(
                f"CPU-bound: nextval reached {ceiling / idle:.0%} of what {row['k']} writers "
                "would on free CPUs, so throughput follows CPU per transaction"
            )
    return reasons


def main(argv=None):
    args = resolve(parser().parse_args(argv))
    harness.run_alone(NAME, args, run, report, _arguments(args))


def _arguments(args):
    return {
        "seconds": args.seconds,
        "repeat": args.repeat,
        "k": args.k_list,
        "w": args.w_list,
        "mariadb_k": args.mariadb_k_list,
        "variants": args.variant_list,
    }


def report(rows, targets):
    harness.report(
        "Throughput (median of repetitions; ratio = median of per-repetition ratios)",
        rows,
        COLUMNS,
        targets,
    )


if __name__ == "__main__":
    main()
