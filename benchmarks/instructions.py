"""Client instructions per transaction, counted by valgrind: a figure that hardly moves.

Throughput on a shared 2-core machine moves by 0.1x between runs; the instructions the
client executes for the same transaction move by about 1 % (the tables grow), 0.1 % with
one hash seed, which this sets. For each variant this runs the issue-14 transaction (the
invoice through the ORM, its 5 lines in one bulk_create, COMMIT) under ``valgrind
--tool=callgrind`` twice, ``--transactions`` times and not at all (after the same
warm-up), and prints the difference divided by the count: what one transaction costs
the client (Django, the driver, docnumbers), the server's work left out.

    python -m benchmarks.instructions [--transactions 200] [--variants "a,b"]

Needs valgrind (Debian's package) and PostgreSQL; about 2 minutes on two cores.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from . import harness
from .profile_save import VARIANTS, transactions

WARM_UP = 20
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=200, help="per variant (>= 10)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    parser.add_argument("--run", nargs=2, metavar=("VARIANT", "COUNT"), help=argparse.SUPPRESS)
    return parser


def run(variant: str, count: int) -> None:
    """The transactions themselves (what valgrind counts)."""
    os.environ.setdefault("BENCH_MARIADB_URL", "off")
    harness.setup(verbose=False)
    transactions(variant, WARM_UP + count)


def counted(variant: str, count: int) -> int:
    """Instructions valgrind counted for a process running ``count`` transactions."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--run",
        variant,
        str(count),
    ]
    # One hash seed for every process: dictionaries then grow alike in each.
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        command, cwd=harness.ROOT, env=environment, capture_output=True, text=True
    )
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{variant}: valgrind failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv=None):
    args = parser().parse_args(argv)
    if args.run:
        run(args.run[0], int(args.run[1]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("benchmarks.instructions needs valgrind (apt-get install valgrind).")
    if args.transactions < 10:
        raise SystemExit("--transactions must be at least 10.")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"Unknown variants: {', '.join(unknown)}; choose from {VARIANTS}.")
    os.environ.setdefault("BENCH_MARIADB_URL", "off")
    harness.setup(verbose=True)  # migrated once, before the counted processes
    jobs = [(v, n) for v in variants for n in (0, args.transactions)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        totals = dict(zip(jobs, pool.map(lambda job: counted(*job), jobs), strict=True))
    per = {v: (totals[v, args.transactions] - totals[v, 0]) / args.transactions for v in variants}
    base = per[variants[0]]
    print(f"\n## Client instructions per transaction ({args.transactions} transactions)\n")
    print(f"| variant | instructions | vs {variants[0]} |\n|---|---|---|")
    for variant in variants:
        print(f"| {variant} | {per[variant] / 1e6:.3f} M | {per[variant] / base:.3f}x |")


if __name__ == "__main__":
    main()
