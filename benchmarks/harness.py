"""What every benchmark shares: Django setup, the databases, worker processes, tables, JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
SETTINGS = "benchmarks.settings"

#: Databases this process could not reach, alias -> reason (filled by setup()).
UNAVAILABLE: dict[str, str] = {}


# -- command line ---------------------------------------------------------------


def arguments(description: str, *, seconds: float, repeat: int) -> argparse.ArgumentParser:
    """The options every script takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a short run to check that everything works"
    )
    parser.add_argument(
        "--seconds", type=float, default=None, help=f"duration of a cell (default {seconds})"
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help=f"repetitions, median reported (default {repeat})"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="drop and recreate the benchmark databases first (only names containing 'bench')",
    )
    parser.set_defaults(default_seconds=seconds, default_repeat=repeat)
    return parser


def resolve(args, *, quick_seconds: float, quick_repeat: int = 1):
    """Fill --seconds and --repeat from --quick or the defaults."""
    if args.seconds is None:
        args.seconds = quick_seconds if args.quick else args.default_seconds
    if args.repeat is None:
        args.repeat = quick_repeat if args.quick else args.default_repeat
    if args.seconds <= 0 or args.seconds > 120:
        raise SystemExit("--seconds must be between 0 and 120.")
    if args.repeat < 1 or args.repeat > 20:
        raise SystemExit("--repeat must be between 1 and 20.")
    return args


# -- Django and the databases ---------------------------------------------------


def configure() -> None:
    """Make ``benchmarks`` importable and point Django at its settings (no setup yet)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)


def setup(*, fresh: bool = False, verbose: bool = True) -> list[str]:
    """Create the databases if missing (or anew), set Django up, migrate; return the aliases."""
    configure()
    import django
    from django.conf import settings

    ready = []
    for alias, database in settings.DATABASES.items():
        try:
            _ensure_database(database, fresh=fresh)
        except Exception as exc:  # a server that is not running: leave it out, say so
            if alias == "default":
                raise SystemExit(f"Cannot prepare the database {_where(database)}: {exc}")
            UNAVAILABLE[alias] = f"{_where(database)} unreachable: {exc}".strip()
            continue
        ready.append(alias)
    django.setup()
    from django.core.management import call_command

    for alias in ready:
        started = time.monotonic()
        call_command("migrate", database=alias, verbosity=0, interactive=False)
        if verbose:
            print(
                f"# {alias}: {_where(settings.DATABASES[alias])} migrated "
                f"in {time.monotonic() - started:.1f} s",
                flush=True,
            )
    for alias, reason in UNAVAILABLE.items():
        print(f"# {alias}: skipped ({reason})", flush=True)
    return ready


def _where(database) -> str:
    engine = database["ENGINE"].rsplit(".", 1)[-1]
    host = database.get("HOST") or "local"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"{engine} {host}{port}/{database['NAME']}"


def _ensure_database(database, *, fresh: bool) -> None:
    engine = database["ENGINE"]
    name = database["NAME"]
    if fresh and "bench" not in str(name):
        raise SystemExit(f"--fresh drops only benchmark databases; {name!r} is not one.")
    if engine == "django.db.backends.postgresql":
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            host=database.get("HOST") or None,
            port=database.get("PORT") or None,
            user=database.get("USER") or None,
            password=database.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        ) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if exists and fresh:
                connection.execute(
                    sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
                )
                exists = None
            if not exists:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    elif engine == "django.db.backends.mysql":
        import MySQLdb

        connection = MySQLdb.connect(
            host=database.get("HOST") or "127.0.0.1",
            port=int(database.get("PORT") or 3306),
            user=database.get("USER") or "root",
            passwd=database.get("PASSWORD") or "",
            connect_timeout=5,
        )
        try:
            cursor = connection.cursor()
            quoted = "`" + name.replace("`", "``") + "`"
            if fresh:
                cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
            cursor.execute(
                f"CREATE DATABASE IF NOT EXISTS {quoted} "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        finally:
            connection.close()
    elif engine == "django.db.backends.sqlite3":
        if fresh and os.path.exists(name):
            os.remove(name)
    else:
        raise SystemExit(f"The benchmarks do not know how to create a {engine} database.")


def flush(alias: str, *models) -> None:
    """Empty the tables of ``models`` (TRUNCATE where the backend has it)."""
    from django.core.management.color import no_style
    from django.db import connections

    connection = connections[alias]
    tables = [model._meta.db_table for model in models]
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=True)
    connection.ops.execute_sql_flush(statements)


def server_version(alias: str) -> str:
    from django.db import connections

    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT 'SQLite ' || sqlite_version()")
        elif connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT VERSION()")
        version = cursor.fetchone()[0]
    if connection.vendor == "postgresql":
        return f"PostgreSQL {version.split()[0]}"
    if connection.vendor == "mysql":
        return ("MariaDB " if connection.mysql_is_mariadb else "MySQL ") + version.split("-")[0]
    return version


def durability(alias: str) -> str:
    """The server settings that decide what a COMMIT waits for."""
    from django.db import connections

    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('fsync', 'synchronous_commit', 'commit_delay') ORDER BY name"
            )
            return ", ".join(f"{name}={value}" for name, value in cursor.fetchall())
        if connection.vendor == "mysql":
            variable = "tx_isolation" if connection.mysql_is_mariadb else "transaction_isolation"
            cursor.execute(f"SELECT @@innodb_flush_log_at_trx_commit, @@{variable}")
            flush, isolation = cursor.fetchone()
            return f"innodb_flush_log_at_trx_commit={flush}, isolation={isolation}"
    return ""


# -- worker processes --------------------------------------------------------------


class Workers:
    """``size`` processes (spawned, each with Django set up and its own connection to
    ``alias``) that run timed jobs together, all starting at the same instant."""

    def __init__(self, alias: str, size: int):
        context = multiprocessing.get_context("spawn")
        self.alias = alias
        self.pipes = []
        self.processes = []
        for index in range(size):
            parent, child = context.Pipe()
            process = context.Process(
                target=_serve, args=(alias, index, child), daemon=True, name=f"bench-{index}"
            )
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)
        for pipe in self.pipes:
            self._receive(pipe, 180)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _receive(self, pipe, timeout):
        if not pipe.poll(timeout):
            self.close()
            raise RuntimeError(f"A worker did not answer within {timeout:.0f} s.")
        message = pipe.recv()
        if isinstance(message, dict) and message.get("fatal"):
            self.close()
            raise RuntimeError(f"A worker failed: {message['fatal']}")
        return message

    def run(self, jobs: list[dict], seconds: float) -> list[dict]:
        """Give job i to worker i; each runs transactions for ``seconds`` from the same start."""
        if len(jobs) > len(self.pipes):
            raise ValueError(f"{len(jobs)} jobs for {len(self.pipes)} workers.")
        start = time.monotonic() + 0.25
        for pipe, job in zip(self.pipes, jobs, strict=False):
            pipe.send({**job, "start": start, "seconds": seconds})
        return [self._receive(pipe, seconds + 90) for pipe in self.pipes[: len(jobs)]]

    def close(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(None)
            except (BrokenPipeError, OSError):
                pass
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.terminate()
                process.join(5)
        self.pipes = []
        self.processes = []


def _serve(alias, index, pipe):
    """A worker's life: set Django up, then run the jobs it is sent until told to stop."""
    try:
        configure()
        import django

        django.setup()
        from django.db import connections

        from benchmarks import workloads

        connections[alias].ensure_connection()
    except Exception as exc:
        pipe.send({"fatal": repr(exc)})
        return
    pipe.send("ready")
    while True:
        job = pipe.recv()
        if job is None:
            break
        try:
            result = workloads.run_timed(alias, worker=index, **job)
        except Exception as exc:
            result = {"committed": 0, "errors": 1, "error": repr(exc)}
        pipe.send(result)
    connections.close_all()


# -- results ---------------------------------------------------------------------


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def rotated(items: list, turn: int) -> list:
    """``items`` starting at position ``turn``: each repetition begins with another variant."""
    turn %= len(items)
    return items[turn:] + items[:turn]


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A Markdown table of ``rows``; ``columns`` are (key, header) pairs."""
    cells = [[header for _, header in columns]]
    for row in rows:
        cells.append(
            [
                row.get(key) if isinstance(row.get(key), str) else fmt(row.get(key))
                for key, _ in columns
            ]
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = []
    for number, line in enumerate(cells):
        lines.append(
            "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        )
        if number == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> dict:
    """The machine, the software and the databases the numbers were measured on."""
    from django import get_version
    from django.conf import settings

    import docnumbers

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = None
    try:
        with open("/proc/meminfo") as info:
            memory = f"{int(info.readline().split()[1]) // 1024} MiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
            or None
        )
    except OSError:
        commit = None
    databases = {}
    for alias in settings.DATABASES:
        if alias in UNAVAILABLE:
            continue
        try:
            databases[alias] = f"{server_version(alias)} ({durability(alias)})"
        except Exception as exc:
            databases[alias] = f"unavailable: {exc}"
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": memory,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": get_version(),
        "docnumbers": getattr(docnumbers, "__version__", "?"),
        "commit": commit,
        "databases": databases,
    }


def describe(info: dict) -> str:
    databases = ", ".join(f"{alias}: {version}" for alias, version in info["databases"].items())
    load = info.get("load_average")
    load_text = "/".join(f"{x:.2f}" for x in load) if load else "?"
    return (
        f"{info['cpus']} x {info['cpu']}, {info['memory']}, {info['os']}; Python {info['python']}, "
        f"Django {info['django']}, docnumbers {info['docnumbers']} ({info['commit']}); "
        f"{databases}; load average at start {load_text}"
    )


def write_json(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "finished": dt.datetime.now(dt.UTC).isoformat(), **payload}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def target(name: str, wanted: str, measured, met: bool | None, shortfall: str, why: str = ""):
    """One line of the targets table."""
    return {
        "target": name,
        "wanted": wanted,
        "measured": measured if isinstance(measured, str) else fmt(measured),
        "status": "n/a" if met is None else ("met" if met else "MISSED"),
        "shortfall": "" if met else shortfall,
        "why": "" if met else why,
    }


TARGET_COLUMNS = [
    ("target", "target"),
    ("wanted", "wanted"),
    ("measured", "measured"),
    ("status", "status"),
    ("shortfall", "shortfall"),
    ("why", "why"),
]


class QueryCount:
    """Counts the statements sent on ``alias`` (cheaply: no SQL text is kept)."""

    def __init__(self, alias: str):
        from django.db import connections

        self.connection = connections[alias]
        self.count = 0

    def _wrapper(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self._context = self.connection.execute_wrapper(self._wrapper)
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)


def report(title, rows, columns, targets):
    """Print one benchmark's table and its targets, in Markdown."""
    print()
    print(f"## {title}")
    print()
    print(table(rows, columns))
    print()
    print(table(targets, TARGET_COLUMNS))


def run_alone(name, args, run, report, arguments):
    """Run one benchmark on its own: set up, measure, print, write its JSON."""
    aliases = setup(fresh=args.fresh)
    info = machine()
    rows, targets, samples = run(args, aliases)
    report(rows, targets)
    write_json(
        name,
        {
            "machine": info,
            "arguments": arguments,
            "rows": rows,
            "targets": targets,
            "samples": samples,
        },
    )
