#!/usr/bin/env python3
"""Set up and run every test of docnumbers on one database: ``python3 runtests.py``.

The database comes from DATABASE_URL (SQLite when unset), for example
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python3 runtests.py``.
The first run creates ``.venv`` and installs the project with what the tests
need; later runs reinstall only when pyproject.toml changed. Extra arguments go
to pytest (``python3 runtests.py -k bulk``).

DOCNUMBERS_DJANGO picks the Django release series, for example
``DOCNUMBERS_DJANGO=4.2 python3 runtests.py``: the run then uses its own
``.venv-django4.2`` with ``Django~=4.2.0``. Unset, ``.venv`` gets the newest
Django that pyproject.toml allows.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def django_series() -> str:
    """The Django release series DOCNUMBERS_DJANGO asks for ("4.2"), or "" for the newest."""
    series = os.environ.get("DOCNUMBERS_DJANGO", "").strip()
    if series and not re.fullmatch(r"\d+\.\d+", series):
        sys.exit(f"runtests: DOCNUMBERS_DJANGO={series!r}: give a release series such as 4.2.")
    return series


def venv(series: str) -> Path:
    """Each Django series has its own virtualenv, so switching does not reinstall."""
    return ROOT / (f".venv-django{series}" if series else ".venv")


def chromium() -> str | None:
    """The Chromium the browser tests drive (Debian's package), if installed."""
    return shutil.which(os.environ.get("DOCNUMBERS_CHROMIUM", "/usr/bin/chromium"))


def extras(url: str) -> list[str]:
    wanted = ["test"]
    if url.startswith(("postgres", "pgsql")):
        wanted.append("postgres")
    elif url.startswith(("mysql", "mariadb")):
        wanted.append("mysql")
    if not url and chromium():
        wanted.append("browser")
    return wanted


def install(url: str, series: str) -> Path:
    """Create the virtualenv of this Django series and install the project with the
    extras this run needs; return its Python.

    A stamp file remembers the pyproject.toml it installed, the Django series and
    the extras, so a later run installs again only when one of them changed.
    """
    env = venv(series)
    python = env / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    stamp = env / ".docnumbers-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    django = f"django={series or 'newest'}"
    stamped = stamp.read_text().split() if stamp.exists() else []
    # Extras installed for the same pyproject.toml and Django series stay installed.
    have = set(stamped[2:]) if stamped[:2] == [digest, django] else set()
    wanted = set(extras(url))
    if wanted <= have:
        return python
    needed = sorted(wanted | have)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    pin = [f"Django~={series}.0"] if series else []
    subprocess.run([*pip, "-e", f"{ROOT}[{','.join(needed)}]", *pin], check=True)
    stamp.write_text(" ".join([digest, django, *needed]))
    return python


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    series = django_series()
    python = install(url, series)
    env = dict(os.environ, DOCNUMBERS_STRICT_TESTS="1")
    pytest = [str(python), "-m", "pytest", "-p", "no:cacheprovider"]
    # The browser tests run once, with SQLite, where Chromium is installed.
    browser = not url and chromium()
    if not url and not browser:
        if os.environ.get("DOCNUMBERS_REQUIRE_BROWSER") == "1":
            print("runtests: Chromium is missing (apt-get install chromium).", file=sys.stderr)
            return 1
        print(
            "runtests: no Chromium found: the browser tests are left out of this run "
            "(apt-get install chromium to include them).",
            flush=True,
        )
    runs = [
        [*pytest, "tests", *([] if browser else ["-m", "not browser"]), *sys.argv[1:]],
    ]
    if (ROOT / "sample_erp" / "tests").is_dir() and not sys.argv[1:]:
        runs.append(
            [
                *[*pytest, "sample_erp/tests", "--ds", "sample_erp.settings"],
                *([] if browser else ["-m", "not browser"]),
            ]
        )
    status = 0
    for command in runs:
        print("+", " ".join(command[2:]), flush=True)
        # Every run runs, so that one failure does not hide another.
        status = subprocess.run(command, cwd=ROOT, env=env).returncode or status
    return status


if __name__ == "__main__":
    sys.exit(main())
