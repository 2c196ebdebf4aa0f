"""Migrations that migrate: every model shape (#11).

Each stage runs ``tests.shapes.harness`` in a process of its own (models cannot
be swapped inside one), on a database of its own on the server DATABASE_URL
names, with the shapes app's migrations written to a temporary package:
``makemigrations`` then ``migrate`` exactly as a project runs them, no hand edits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shapes import MARKER

ROOT = Path(__file__).resolve().parent.parent
#: Seconds one stage may take (a fresh database and every migration on MariaDB included).
TIMEOUT = 300


class Harness:
    """Runs stages of the shapes app on one database, in one migrations package."""

    def __init__(self, directory: Path):
        self.directory = directory
        package = directory / "shapes_migrations"
        package.mkdir()
        (package / "__init__.py").write_text("")

    def run(self, stage: str, *actions: str) -> dict:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.shapes.settings",
            "SHAPES_DIR": str(self.directory),
            "SHAPES_MIGRATIONS": "shapes_migrations",
            "SHAPES_STAGE": stage,
        }
        process = subprocess.run(
            [sys.executable, "-m", "tests.shapes.harness", *actions],
            cwd=ROOT,
            env=env,
            # A question from makemigrations reads an empty stdin and fails at once.
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        lines = [line for line in process.stdout.splitlines() if line.startswith(MARKER)]
        assert lines, f"the harness printed no result:\n{process.stdout}\n{process.stderr}"
        result = json.loads(lines[-1][len(MARKER) :])
        result["stderr"] = process.stderr
        return result

    def destroy(self) -> None:
        self.run("before", "destroy")


def ok(result: dict) -> dict:
    assert result["error"] is None, f"{result['error']}\n{result['stderr']}"
    return result


# -- Every shape, numbered from its creation ----------------------------------------------


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    harness = Harness(tmp_path_factory.mktemp("shapes"))
    actions = ["create_db", "makemigrations", "operations", "migrate", "fill_full"]
    return ok(harness.run("full", *actions, "check_clean", "destroy"))


def test_every_shape_gets_each_constraint_once_in_its_migration(shapes):
    (initial,) = [ops for name, ops in shapes["operations"].items() if name == "0001_initial"]
    constraints = [op for op in initial if op.startswith("AddConstraint")]
    # Two per formatted model (bill, document, latebill, quote, receipt), one for scoped:
    # the proxy, the abstract base, the MTI child and the lines model add none.
    assert sorted(constraints) == sorted(
        [f"AddConstraint {m}" for m in ("bill", "document", "latebill", "quote", "receipt")] * 2
        + ["AddConstraint scoped"]
    )


def test_every_shape_migrates_with_its_unique_constraints_in_the_database(shapes):
    formatted = ["number_counter_id,number", "number_display"]
    assert shapes["fill_full"]["unique"] == {
        "shapes_bill": formatted,
        "shapes_billline": [],
        "shapes_branch": [],
        "shapes_contract": [],
        "shapes_document": formatted,
        "shapes_latebill": formatted,
        "shapes_plain": ["number"],
        "shapes_quote": formatted,
        "shapes_receipt": formatted,
        "shapes_scoped": ["branch_id,number"],
    }
    assert shapes["fill_full"]["refused"] == {"display": True, "scoped": True, "plain": True}


def test_every_shape_numbers_its_rows(shapes):
    filled = shapes["fill_full"]
    assert filled["plain"] == [1, 2]
    assert filled["scoped"] == [1, 1, 2]
    # The proxy shares its concrete model's sequence.
    assert filled["bills"] == ["B-2025-0001", "B-2026-0001", "B-2026-0002"]
    assert filled["lines"] == 1
    assert filled["quotes"] == ["Q-001", "QX-001", "Q-002"]
    assert filled["receipts"] == ["R-001", "R-002"]
    # The multi-table child is numbered by its parent's field, in the parent's sequence.
    assert filled["documents"] == ["D-001", "D-002"]
    assert filled["late"] == ["L-2025-0001", "L-2026-0001"]


def test_every_shape_leaves_makemigrations_check_clean(shapes):
    assert shapes["check_clean"] is True
    assert shapes["destroy"] is True
