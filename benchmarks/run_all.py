"""Run every benchmark, print its tables and the targets, write benchmarks/results/<name>.json.

    python -m benchmarks.run_all            # the full run (about 10 minutes)
    python -m benchmarks.run_all --quick    # a short run to check that everything works

The benchmark databases (names containing "bench") are dropped and created anew
first, unless --keep-db is given.
"""

from __future__ import annotations

if __package__ in (None, ""):  # run as a file: python benchmarks/run_all.py
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"
    import benchmarks  # noqa: F401  (the parent package of the relative imports below)

import argparse
import time

from . import bulk, display, harness, scopes, throughput

BENCHMARKS = {
    "throughput": throughput,
    "bulk": bulk,
    "display": display,
    "scopes": scopes,
}


def parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about 2 minutes)")
    parser.add_argument("--seconds", type=float, help="duration of a throughput/scopes cell")
    parser.add_argument("--repeat", type=int, help="repetitions of every cell")
    parser.add_argument("--k", help="writers per throughput cell on PostgreSQL (default 1,8,32)")
    parser.add_argument("--w", help="ms of other work per transaction (default 0,2)")
    parser.add_argument("--variants", help="throughput variants (default all four)")
    parser.add_argument("--mariadb-k", help="writers per cell on MariaDB (default 8; 'off')")
    parser.add_argument(
        "--only", help="a comma-separated subset of: " + ", ".join(BENCHMARKS), default=None
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="reuse the benchmark databases as they are"
    )
    return parser


def _forwarded(args, name):
    """The options of run_all that benchmark ``name`` understands, as its command line."""
    argv = []
    if args.quick:
        argv.append("--quick")
    if args.repeat is not None:
        argv += ["--repeat", str(args.repeat)]
    if name in ("throughput", "scopes") and args.seconds is not None:
        argv += ["--seconds", str(args.seconds)]
    if name == "throughput":
        for option in ("k", "w", "mariadb_k", "variants"):
            value = getattr(args, option)
            if value is not None:
                argv += [f"--{option.replace('_', '-')}", value]
    return argv


def main(argv=None):
    args = parser().parse_args(argv)
    names = list(BENCHMARKS) if not args.only else [n.strip() for n in args.only.split(",")]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"Unknown benchmark(s): {', '.join(unknown)}.")
    chosen = {}
    for name in names:  # every command line checked before anything runs
        module = BENCHMARKS[name]
        chosen[name] = module.resolve(module.parser().parse_args(_forwarded(args, name)))
    started = time.monotonic()
    aliases = harness.setup(fresh=not args.keep_db)
    info = harness.machine()
    print(f"# machine: {harness.describe(info)}", flush=True)
    reports, all_targets = [], []
    for name, options in chosen.items():
        module = BENCHMARKS[name]
        print(f"\n# {name} ...", flush=True)
        begun = time.monotonic()
        rows, targets, samples = module.run(options, aliases)
        elapsed = time.monotonic() - begun
        arguments = {k: v for k, v in vars(options).items() if not k.startswith("default_")}
        path = harness.write_json(
            name,
            {
                "machine": info,
                "arguments": arguments,
                "elapsed_seconds": round(elapsed, 1),
                "rows": rows,
                "targets": targets,
                "samples": samples,
            },
        )
        print(f"# {name}: {elapsed:.0f} s, written to {path.relative_to(harness.ROOT)}")
        reports.append((module, rows, targets))
        all_targets += targets
    print(f"\n# Results ({time.monotonic() - started:.0f} s in all)")
    print(f"# machine: {harness.describe(info)}")
    for module, rows, targets in reports:
        module.report(rows, targets)
    print("\n## Targets\n")
    print(harness.table(all_targets, harness.TARGET_COLUMNS))
    harness.write_json(
        "summary",
        {
            "machine": info,
            "elapsed_seconds": round(time.monotonic() - started, 1),
            "targets": all_targets,
        },
    )


if __name__ == "__main__":
    main()
