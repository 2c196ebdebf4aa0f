#!/usr/bin/env python3
"""Set up and run every test of docnumbers on one database: ``python3 runtests.py``.

The database comes from DATABASE_URL (SQLite when unset), for example
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python3 runtests.py``.
The first run creates ``.venv`` and installs the project with what the tests
need; later runs reinstall only when pyproject.toml changed. Extra arguments go
to pytest (``python3 runtests.py -k bulk``).
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"


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


def install(url: str) -> None:
    """Create .venv and install the project with the extras this run needs.

    A stamp file remembers the pyproject.toml it installed and its extras, so a
    later run installs again only when either changed.
    """
    if not PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    stamp = VENV / ".docnumbers-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamped = stamp.read_text().split() if stamp.exists() else []
    # Extras installed for the same pyproject.toml stay installed.
    have = set(stamped[1:]) if stamped[:1] == [digest] else set()
    wanted = set(extras(url))
    if wanted <= have:
        return
    needed = sorted(wanted | have)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[{','.join(needed)}]"], check=True)
    stamp.write_text(" ".join([digest, *needed]))


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    install(url)
    env = dict(os.environ, DOCNUMBERS_STRICT_TESTS="1")
    pytest = [str(PYTHON), "-m", "pytest", "-p", "no:cacheprovider"]
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
        runs.append([*pytest, "sample_erp/tests", "--ds", "sample_erp.settings"])
    status = 0
    for command in runs:
        print("+", " ".join(command[2:]), flush=True)
        status = status or subprocess.run(command, cwd=ROOT, env=env).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
