#!/usr/bin/env python3
"""Start the docnumbers demo in one command, from a fresh clone:

    python3 sample_erp/run.py

It creates ``.venv`` at the repository root if missing, installs what is missing
into it, migrates the database (SQLite in ``sample_erp/db.sqlite3``, or
``DATABASE_URL``), loads the demo data, resets the demo login and starts the
development server on 127.0.0.1:8000. Running it again changes nothing but the
login's password, which it sets back to the demo one. Standard library only:
it runs before anything is installed.

    python3 sample_erp/run.py --address 127.0.0.1:8765 --language fr

serves it on another port, in French (or ``de``, ``es``, ``en``).
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
MANAGE = ROOT / "sample_erp" / "manage.py"
ADDRESS = "127.0.0.1:8000"
LANGUAGES = ["en", "fr", "de", "es"]


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


def database_extras(url: str) -> tuple[list[str], str]:
    """The pyproject extras and the driver module that DATABASE_URL needs."""
    scheme = url.split(":", 1)[0].lower() if url else ""
    if scheme.startswith(("postgres", "pgsql")):
        return ["postgres"], "psycopg"
    if scheme.startswith(("mysql", "mariadb")):
        return ["mysql"], "MySQLdb"
    return [], ""


def ensure_venv() -> Path:
    python = venv_python()
    if not python.exists():
        say(f"Creating the virtual environment {VENV}")
        result = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
        if result.returncode != 0:
            sys.exit(
                "Could not create the virtual environment. On Debian or Ubuntu, install "
                "the venv module first: sudo apt install python3-venv"
            )
    return python


def ensure_requirements(python: Path) -> None:
    """Install the project and the database driver, unless they already import."""
    extras, driver = database_extras(os.environ.get("DATABASE_URL", ""))
    modules = ["django", "adminsortable2", "dj_database_url", "docnumbers"] + (
        [driver] if driver else []
    )
    probe = subprocess.run(
        [str(python), "-c", f"import {', '.join(modules)}"],
        cwd=VENV,  # not the repository root, so that docnumbers must be installed
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if probe.returncode == 0:
        say("Requirements already installed")
        return
    target = f"{ROOT}[{','.join(extras)}]" if extras else str(ROOT)
    say(f"Installing docnumbers and the demo's requirements into {VENV}")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", target,
         "dj-database-url>=2.1"],
        check=True,
    )  # fmt: skip


def manage(python: Path, *args: str) -> None:
    subprocess.run([str(python), str(MANAGE), *args], check=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--no-server", action="store_true", help="prepare everything, do not start the server"
    )
    parser.add_argument(
        "--address",
        default=ADDRESS,
        help=f"where the server listens, host:port or port (default {ADDRESS})",
    )
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        help="show the demo and its admin in this language, whatever the browser asks "
        "(default: the browser's language)",
    )
    options = parser.parse_args(argv)
    if options.language:
        os.environ["SAMPLE_ERP_LANGUAGE"] = options.language
    if sys.version_info < (3, 11):  # noqa: UP036 (run by whatever python3 is installed)
        sys.exit("The demo needs Python 3.11 or newer.")

    python = ensure_venv()
    ensure_requirements(python)
    say(f"Database: {os.environ.get('DATABASE_URL') or ROOT / 'sample_erp' / 'db.sqlite3'}")
    manage(python, "migrate", "--noinput", "-v", "0")
    say("Loading the demo data")
    manage(python, "load_demo_data")
    address = options.address if ":" in options.address else f"127.0.0.1:{options.address}"
    url = f"http://{address}/"
    manage(python, "demo_user", "--url", f"{url}admin/")
    if options.no_server:
        language = f"SAMPLE_ERP_LANGUAGE={options.language} " if options.language else ""
        say(f"Ready. Start the server with: {language}{python} {MANAGE} runserver {address}")
        return
    say(f"Starting the server: public pages at {url}, admin at {url}admin/ (Ctrl+C to stop)")
    command = [str(python), str(MANAGE), "runserver", address]
    if os.name == "nt":
        sys.exit(subprocess.call(command))
    os.execv(str(python), command)


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as exc:
        sys.exit(f"Failed: {' '.join(map(str, exc.cmd))} (exit status {exc.returncode})")
    except KeyboardInterrupt:
        sys.exit(130)
