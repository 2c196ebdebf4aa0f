"""Time ``manage.py docnumbers audit`` on 1,000,000 numbered rows (PostgreSQL).

    .venv/bin/python benchmarks/audit_1m.py [--rows 1000000] [--books 4]

Creates (or reuses) the database ``docnumbers_bench_audit`` (AUDIT_BENCH_URL to
change it), fills ``Ledger`` with generate_series (no ORM), deletes a few known
ranges, moves one counter behind, then times the audit and checks that it found
exactly those ranges. Prints a table and writes benchmarks/audit/result.json.
The target is under 10 seconds for 1,000,000 rows.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET_SECONDS = 10.0


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--books", type=int, default=4)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.audit.settings")
    url = os.environ.get(
        "AUDIT_BENCH_URL", "postgres://postgres@127.0.0.1:5432/docnumbers_bench_audit"
    )
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connection

    from benchmarks.audit.models import Ledger
    from docnumbers.keys import SequenceKey, scope_from_values, sequence_label
    from docnumbers.models import Counter

    call_command("migrate", run_syncdb=True, verbosity=0)
    per_book = args.rows // args.books + 30  # the 103 deleted numbers are made up for
    table = Ledger._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        cursor.execute(f"DELETE FROM {Counter._meta.db_table}")
        cursor.execute(
            f"INSERT INTO {table} (book, number) "
            "SELECT b, n FROM generate_series(1, %s) b, generate_series(1, %s) n",
            [args.books, per_book],
        )
        # Known holes: one single number, one range, the first and the last of book 1.
        holes = {1: [(1, 1), (500, 500), (10_000, 10_099), (per_book, per_book)]}  # 103
        for first, last in holes[1]:
            cursor.execute(
                f"DELETE FROM {table} WHERE book = 1 AND number BETWEEN %s AND %s", [first, last]
            )
        cursor.execute(f"VACUUM ANALYZE {table}")
    field = Ledger._meta.get_field("number")
    scope_field = Ledger._meta.get_field("book")
    for book in range(1, args.books + 1):
        key = SequenceKey(
            sequence=sequence_label(Ledger, "number"),
            scope=scope_from_values([scope_field], [book]),
        )
        # Book 2's counter is behind (as after an import): the audit must say so.
        value = per_book - 5 if book == 2 else per_book
        Counter.objects.create(
            key=key.text,
            value=value,
            sequence=key.sequence,
            scope=key.scope_text,
        )
    filled = time.perf_counter() - started

    out = io.StringIO()
    started = time.perf_counter()
    try:
        call_command(
            "docnumbers", "audit", "audit_bench.Ledger", "--format", "json", "--no-progress",
            stdout=out,
        )  # fmt: skip
        status = 0
    except CommandError as exc:
        status = exc.returncode
    audit_seconds = time.perf_counter() - started

    rows = Ledger.objects.count()
    report = {r["scope"]["book"]: r for r in json.loads(out.getvalue())["sequences"]}
    found = [(g["first"], g["last"]) for g in report["1"]["gaps"]]
    ok = (
        found == holes[1]
        and status == 1
        and report["2"]["counter_behind"]
        and all(not report[str(b)]["gaps"] for b in range(2, args.books + 1))
        and field.name == "number"
    )
    result = {
        "backend": connection.vendor,
        "server": connection.cursor().connection.info.server_version,
        "rows": rows,
        "sequences": args.books,
        "fill_seconds": round(filled, 2),
        "audit_seconds": round(audit_seconds, 2),
        "target_seconds": TARGET_SECONDS,
        "findings_correct": ok,
        "cpus": os.cpu_count(),
    }
    print(f"{'rows':>10}  {'sequences':>9}  {'audit (s)':>9}  {'target':>6}  findings")
    print(
        f"{rows:>10,}  {args.books:>9}  {audit_seconds:>9.2f}  {TARGET_SECONDS:>6.0f}  "
        f"{'correct' if ok else 'WRONG: ' + repr(found)}"
    )
    (ROOT / "benchmarks" / "audit" / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if ok and audit_seconds < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
