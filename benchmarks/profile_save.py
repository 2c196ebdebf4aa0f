"""Where a transaction's client time goes: one process, no other writers, no sleep.

Runs the issue-14 transaction (the invoice through the ORM, its 5 lines in one
bulk_create, COMMIT) of each variant in turn, and prints:

- client CPU per transaction (``time.process_time``; best of the rounds, the
  variants interleaved), and the difference to nextval;
- with ``--profile``, what each variant spends beyond nextval, function by
  function (cProfile, wall time per transaction, so server waits show as
  ``psycopg ... wait``), and docnumbers' own functions.

    python -m benchmarks.profile_save [--transactions 1000] [--rounds 5] [--profile]
"""

from __future__ import annotations

if __package__ in (None, ""):  # run as a file: python benchmarks/profile_save.py
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"
    import benchmarks  # noqa: F401  (the parent package of the relative imports below)

import argparse
import cProfile
import os
import pstats
import time

from . import harness

VARIANTS = [
    "nextval",
    "counter in the INSERT",
    "hand-written plain trigger",
    "hand-written trigger",
    "docnumbers default",
    "docnumbers late",
    "docnumbers late formatted",
]


def parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=1000, help="per round and variant")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best is reported")
    parser.add_argument("--profile", action="store_true", help="also print cProfile differences")
    parser.add_argument("--top", type=int, default=15, help="rows of each profile table")
    return parser


def transactions(variant: str, count: int) -> None:
    from django.db import transaction

    from . import workloads

    body = workloads.VARIANTS[variant][0]
    workloads.LINE_MODE["mode"] = "bulk"
    for _ in range(count):
        with transaction.atomic():
            body("default", 0, None)


def cpu_per_transaction(variants, count, rounds) -> dict[str, float]:
    best = dict.fromkeys(variants, float("inf"))
    for turn in range(rounds):
        for variant in harness.rotated(list(variants), turn):
            started = time.process_time()
            transactions(variant, count)
            spent = (time.process_time() - started) / count * 1000
            best[variant] = min(best[variant], spent)
    return best


def profile(variant: str, count: int) -> dict[str, tuple[float, float]]:
    """function -> (calls, own seconds), per transaction."""
    profiler = cProfile.Profile()
    profiler.enable()
    transactions(variant, count)
    profiler.disable()
    found = {}
    for (filename, line, function), values in pstats.Stats(profiler).stats.items():
        where = filename.split("site-packages/")[-1].removeprefix(f"{harness.ROOT}/")
        name = f"{where}:{line}({function})"
        found[name] = (values[1] / count, values[2] / count)
    return found


def main(argv=None):
    args = parser().parse_args(argv)
    os.environ.setdefault("BENCH_MARIADB_URL", "off")
    aliases = harness.setup()
    from django.db import connections

    if connections[aliases[0]].vendor != "postgresql":
        raise SystemExit("profile_save measures PostgreSQL variants: point DATABASE_URL at one.")
    transactions("nextval", 50)
    for variant in VARIANTS:  # warm: plans, caches, connections
        transactions(variant, 50)
    best = cpu_per_transaction(VARIANTS, args.transactions, args.rounds)
    print(f"\n## Client CPU per transaction (best of {args.rounds} x {args.transactions})\n")
    print("| variant | CPU ms/tx | vs nextval |\n|---|---|---|")
    for variant in VARIANTS:
        delta = best[variant] - best["nextval"]
        print(f"| {variant} | {best[variant]:.3f} | {delta * 1000:+.0f} us |")
    if not args.profile:
        return
    base = profile("nextval", args.transactions)
    for variant in VARIANTS[1:]:
        found = profile(variant, args.transactions)
        rows = []
        for name in set(found) | set(base):
            calls, own = found.get(name, (0, 0))
            base_calls, base_own = base.get(name, (0, 0))
            rows.append((own - base_own, calls - base_calls, name))
        rows.sort(reverse=True)
        total = sum(r[0] for r in rows)
        print(f"\n## {variant}: beyond nextval, {total * 1e6:+.0f} us/tx (profiled wall time)\n")
        print("| us/tx | calls/tx | function |\n|---|---|---|")
        for own, calls, name in rows[: args.top]:
            print(f"| {own * 1e6:+.1f} | {calls:+.1f} | `{name}` |")
        mine = [(own, calls, name) for name, (calls, own) in found.items()]
        ours = sorted((row for row in mine if row[2].startswith("docnumbers/")), reverse=True)
        total = sum(own for own, _, _ in ours)
        print(f"\ndocnumbers' own functions: {total * 1e6:.0f} us/tx (profiled), the largest:\n")
        print("| us/tx | calls/tx | function |\n|---|---|---|")
        for own, calls, name in ours[: args.top]:
            print(f"| {own * 1e6:.1f} | {calls:.1f} | `{name}` |")


if __name__ == "__main__":
    main()
