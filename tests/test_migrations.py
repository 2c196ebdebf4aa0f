"""Migrations that migrate: every model shape, and adding numbers to tables with rows (#11).

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
from django.db.migrations.loader import MigrationLoader

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


def migration(result: dict, prefix: str) -> tuple[list[str], list[list[str]]]:
    """The operations and dependencies of the one migration whose name starts with ``prefix``."""
    (name,) = [n for n in result["operations"] if n.startswith(prefix) and ":" not in n]
    return result["operations"][name], result["operations"][name + ":dependencies"]


def docnumbers_leaf() -> list[str]:
    return list(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("docnumbers")[0])


# -- Every shape, numbered from its creation ----------------------------------------------


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """Every shape created: makemigrations, migrate, rows; then changed: the same again."""
    harness = Harness(tmp_path_factory.mktemp("shapes"))
    try:
        actions = ["create_db", "makemigrations", "operations", "migrate", "fill_full"]
        result = ok(harness.run("full", *actions, "check_clean"))
        changed = ok(
            harness.run(
                "changed", "makemigrations", "operations", "migrate", "fill_changed", "check_clean"
            )
        )
    finally:
        harness.destroy()
    return {**result, "changed": changed}


def test_every_shape_gets_each_constraint_once_in_its_migration(shapes):
    initial, _ = migration(shapes, "0001_")
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
    assert shapes["changed"]["check_clean"] is True


def test_a_later_migration_of_numbered_models_keeps_numbers_and_constraints(shapes):
    changed = shapes["changed"]
    second, _ = migration(changed, "0002_")
    assert sorted(second) == sorted(
        [
            "AddField bill.note",
            "AddField scoped.kind",
            "AlterField document.number",
            "AlterField scoped.number",
            "RemoveConstraint scoped.shapes_scoped_branch_number_uniq",
            "AddConstraint scoped",
            "AlterField latebill.number",
            "InstallLateNumbering latebill",
        ]
    )
    filled = changed["fill_changed"]
    assert filled["bills"] == ["B-2025-0001", "B-2026-0001", "B-2026-0002"]
    assert filled["bill"] == "B-2026-0003"
    assert filled["scoped"] == [1, 1, 2]
    assert filled["scoped_kind"] == 1
    assert filled["document"] == "D-003"
    assert filled["unique"]["shapes_scoped"] == ["branch_id,kind,number"]
    assert filled["unique"]["shapes_bill"] == ["number_counter_id,number", "number_display"]


def test_makemigrations_writes_a_late_fields_trigger_and_a_new_one_when_it_changes(shapes):
    """No second command: the trigger's SQL is frozen in the migration with the model (#14)."""
    initial, dependencies = migration(shapes, "0001_")
    # After the columns it reads, in the migration that creates the model.
    assert initial.count("InstallLateNumbering latebill") == 1
    assert initial.index("InstallLateNumbering latebill") > initial.index("CreateModel LateBill")
    assert docnumbers_leaf() in dependencies
    installed = True if shapes["vendor"] == "postgresql" else None
    assert shapes["fill_full"]["late_trigger"] == {"current": True, "installed": installed}
    # start_at changed: the next migration alters the field and installs the new trigger,
    # which numbers a new year's first bill from 10.
    changed = shapes["changed"]["fill_changed"]
    assert changed["late_trigger"] == {"current": True, "installed": installed}
    assert changed["late"] == "L-2027-0010"


def test_a_late_models_table_and_column_move_with_its_trigger_both_ways(tmp_path):
    """A late model's db_table and db_column changed, then unapplied: saves work (#18)."""
    harness = Harness(tmp_path)
    try:
        full = ok(harness.run("full", "create_db", "makemigrations", "migrate", "late_state"))
        renamed = ok(
            harness.run("renamed", "makemigrations", "operations", "migrate", "late_state")
        )
        back = ok(harness.run("full", "migrate_back", "late_state"))
    finally:
        harness.destroy()
    second, _ = migration(renamed, "0002_")
    assert "AlterModelTable latebill" in second
    # The unique constraints named after the old table are dropped after the new ones exist
    # (MariaDB refuses to drop the index the counter's foreign key uses otherwise).
    adds = [i for i, op in enumerate(second) if op.startswith("AddConstraint")]
    removes = [i for i, op in enumerate(second) if op.startswith("RemoveConstraint")]
    assert adds and removes and max(adds) < min(removes), second
    assert "AlterField latebill.number" in second
    assert second[-1] == "InstallLateNumbering latebill"
    assert [full["late_state"]["late"], renamed["late_state"]["late"]] == [
        "L-2026-0001",
        "L-2026-0002",
    ]
    assert back["late_state"]["late"] == "L-2026-0003"
    if full["vendor"] != "postgresql":
        assert renamed["late_state"]["triggers"] is None
        return
    # Exactly the trigger (and function) the model needs, whichever way it moved.
    old = ["shapes_latebill", "docnumbers_late_shapes_latebill_number"]
    new = ["shapes_late_bills", "docnumbers_late_shapes_late_bills_bill_number"]
    assert full["late_state"]["triggers"] == [old]
    assert renamed["late_state"]["triggers"] == [new]
    assert renamed["late_state"]["functions"] == [new[1]]
    assert back["late_state"]["triggers"] == [old]
    assert back["late_state"]["functions"] == [old[1]]


def test_renamed_models_and_fields_keep_counting_both_ways(tmp_path):
    """The late model's class, a plain and a formatted numbered field and a scope field
    renamed (makemigrations asks, the developer says yes), then unapplied: every counter
    follows, so no number is issued twice and none starts again."""
    harness = Harness(tmp_path)
    try:
        forward = ("create_db", "makemigrations", "migrate", "fill_full", "late_state")
        full = ok(harness.run("full", *forward))
        moved = ok(
            harness.run(
                "remodeled",
                "makemigrations_renaming",
                "operations",
                "migrate",
                "next_numbers",
                "late_state",
                "check_clean",
            )
        )
        back = ok(harness.run("full", "migrate_back", "next_numbers", "late_state"))
    finally:
        harness.destroy()
    assert "LateBill" in moved["makemigrations_renaming"]  # it asked, and was told yes
    second, dependencies = migration(moved, "0002_")
    # The old trigger goes first, the counters follow each rename at once, the new trigger
    # comes last (the unique constraints, named after table and field, change between).
    assert second[0] == "RemoveLateNumbering latebill"
    for rename in (
        "RenameModel LateBill",
        "RenameField plain.number",
        "RenameField scoped.branch",
        "RenameField bill.number",
    ):
        assert second[second.index(rename) + 1] == "RenameCounters", (rename, second)
    assert second[-1] == "InstallLateNumbering latenote"
    assert docnumbers_leaf() in dependencies
    assert moved["check_clean"] is True
    assert full["fill_full"]["plain"] == [1, 2]
    assert full["fill_full"]["scoped"] == [1, 1, 2]
    assert full["fill_full"]["bills"][-1] == "B-2026-0002"
    assert [moved["next_numbers"], back["next_numbers"]] == [
        {"plain": 3, "scoped": 3, "bill": "B-2026-0003"},
        {"plain": 4, "scoped": 4, "bill": "B-2026-0004"},
    ]
    # fill_full issued L-2026-0001.
    assert [s["late_state"]["late"] for s in (full, moved, back)] == [
        "L-2026-0002",
        "L-2026-0003",
        "L-2026-0004",
    ]
    if full["vendor"] != "postgresql":
        assert moved["late_state"]["triggers"] is None
        return
    old = ["shapes_latebill", "docnumbers_late_shapes_latebill_number"]
    new = ["shapes_latenote", "docnumbers_late_shapes_latenote_number"]
    assert [held(s["late_state"]) for s in (full, moved, back)] == [
        {"triggers": [old], "functions": [old[1]]},
        {"triggers": [new], "functions": [new[1]]},
        {"triggers": [old], "functions": [old[1]]},
    ]


def test_a_rename_without_renamecounters_is_stopped_before_anything_migrates(tmp_path):
    """Django's own makemigrations (told yes to its rename questions) writes the renames
    without RenameCounters: migrate refuses before any migration runs, and names the fix."""
    harness = Harness(tmp_path)
    try:
        ok(harness.run("full", "create_db", "makemigrations", "migrate", "fill_full"))
        refused = harness.run("remodeled", "makemigrations_django_renaming", "migrate")
        after = ok(harness.run("full", "next_numbers"))
    finally:
        harness.destroy()
    assert refused["makemigrations_django_renaming"] is not None
    assert refused["error"]["action"] == "migrate", refused["error"]
    message = refused["error"]["message"]
    assert "does not move them" in message
    assert "docnumbers.operations.RenameCounters(old='shapes." in message
    # Nothing ran: the models as they were keep counting where they were.
    assert after["next_numbers"] == {"plain": 3, "scoped": 3, "bill": "B-2026-0003"}


#: What PostgreSQL holds for a late LateBill.number, and without one.
LATE_TRIGGER = {
    "triggers": [["shapes_latebill", "docnumbers_late_shapes_latebill_number"]],
    "functions": ["docnumbers_late_shapes_latebill_number"],
}
NO_TRIGGER = {"triggers": [], "functions": []}


def held(state: dict) -> dict:
    """The late triggers and functions in a ``late_state`` or ``late_triggers`` result."""
    return {key: state[key] for key in ("triggers", "functions")}


def test_late_triggers_follow_the_model_through_its_migrations_both_ways(tmp_path):
    """unique_with and the date field changed, late dropped, late again, the model deleted,
    then each unapplied: exactly the triggers the model needs at every step (#19)."""
    harness = Harness(tmp_path)
    forward = ("makemigrations", "operations", "migrate")
    try:
        full = ok(harness.run("full", "create_db", *forward, "late_state", "check_clean"))
        rescoped = ok(harness.run("rescoped", *forward, "late_state", "check_clean"))
        unlate = ok(harness.run("unlate", *forward, "late_state", "check_clean"))
        relate = ok(harness.run("rescoped", *forward, "late_state", "check_clean"))
        gone = ok(harness.run("gone", *forward, "late_triggers", "check_clean"))
        # Unapplied one at a time, each run with the models of the migration it goes back
        # to; then to the first. A bill in branch "a" only: the unique number_display the
        # first migration restores must hold for the rows these steps add.
        back_relate = ok(harness.run("rescoped", "migrate_back_one", "late_state_a"))
        back_unlate = ok(harness.run("unlate", "migrate_back_one", "late_state_a"))
        back = ok(harness.run("full", "migrate_back", "late_state"))
    finally:
        harness.destroy()
    # The trigger operations each migration got: an install after the model's changes, a
    # removal first (unapplied last, it finds the table and columns its trigger names).
    assert migration(full, "0001_")[0][-1] == "InstallLateNumbering latebill"
    assert migration(gone, "0002_")[0] == [
        "RemoveConstraint latebill.shapes_latebill_number_display_uniq",
        "AddField latebill.branch",
        "AddField latebill.due_on",
        "AlterField latebill.number",
        "AddConstraint latebill",
        "InstallLateNumbering latebill",
    ]
    assert migration(gone, "0003_")[0] == [
        "RemoveLateNumbering latebill",
        "AlterField latebill.number",
    ]
    assert migration(gone, "0004_")[0] == [
        "AlterField latebill.number",
        "InstallLateNumbering latebill",
    ]
    assert migration(gone, "0005_")[0] == ["RemoveLateNumbering latebill", "DeleteModel LateBill"]
    for prefix in ("0002_", "0003_", "0004_", "0005_"):
        assert docnumbers_leaf() in migration(gone, prefix)[1], prefix
    steps = [full, rescoped, unlate, relate, gone]
    assert [step["check_clean"] for step in steps] == [True] * 5
    # Per branch and dated by due_on once rescoped; the counters continue whether the
    # trigger or the save numbers, and after each step back.
    assert [(s["late_state"]["late"], s["late_state"]["late_b"]) for s in steps[:4]] == [
        ("L-2026-0001", None),
        ("L-2027-0001", "L-2027-0001"),
        ("L-2027-0002", "L-2027-0002"),
        ("L-2027-0003", "L-2027-0003"),
    ]
    assert [
        back_relate["late_state_a"]["late"],
        back_unlate["late_state_a"]["late"],
        back["late_state"]["late"],
    ] == ["L-2027-0004", "L-2027-0005", "L-2026-0002"]
    states = [
        full["late_state"],
        rescoped["late_state"],
        unlate["late_state"],
        relate["late_state"],
        gone["late_triggers"],
        back_relate["late_state_a"],
        back_unlate["late_state_a"],
        back["late_state"],
    ]
    if full["vendor"] != "postgresql":
        # Numbered at save time: no trigger to look at.
        assert [held(state) for state in states] == [{"triggers": None, "functions": None}] * 8
        return
    # One trigger and its function while the field is late, named after table and column;
    # none once it is not late or gone, and again exactly one when that is unapplied.
    assert [held(state) for state in states] == [
        LATE_TRIGGER,
        LATE_TRIGGER,
        NO_TRIGGER,
        LATE_TRIGGER,
        NO_TRIGGER,
        LATE_TRIGGER,
        NO_TRIGGER,
        LATE_TRIGGER,
    ]


def test_a_deleted_late_fields_trigger_goes_first_and_comes_back_last(tmp_path):
    """The late field deleted from its model, then unapplied (#19)."""
    harness = Harness(tmp_path)
    try:
        full = ok(harness.run("full", "create_db", "makemigrations", "migrate", "late_state"))
        deleted = ok(
            harness.run(
                "unnumbered",
                "makemigrations",
                "operations",
                "migrate",
                "late_triggers",
                "check_clean",
            )
        )
        back = ok(harness.run("full", "migrate_back", "late_state"))
    finally:
        harness.destroy()
    second, dependencies = migration(deleted, "0002_")
    assert second[0] == "RemoveLateNumbering latebill"
    assert "RemoveField latebill.number" in second
    assert "InstallLateNumbering latebill" not in second
    assert docnumbers_leaf() in dependencies
    assert deleted["check_clean"] is True
    assert [full["late_state"]["late"], back["late_state"]["late"]] == [
        "L-2026-0001",
        "L-2026-0002",
    ]
    states = [full["late_state"], deleted["late_triggers"], back["late_state"]]
    if full["vendor"] != "postgresql":
        assert [held(state) for state in states] == [{"triggers": None, "functions": None}] * 3
        return
    assert [held(state) for state in states] == [LATE_TRIGGER, NO_TRIGGER, LATE_TRIGGER]


def test_squashmigrations_keeps_the_late_triggers_in_order(tmp_path):
    """The squashed migration installs, removes and installs again as its migrations did;
    a fresh database migrated with it alone gets the trigger of the model (#19)."""
    harness = Harness(tmp_path)
    try:
        ok(harness.run("full", "create_db", "makemigrations"))
        ok(harness.run("rescoped", "makemigrations"))
        ok(harness.run("unlate", "makemigrations"))
        squashed = ok(harness.run("rescoped", "makemigrations", "operations", "squash"))
        fresh = ok(
            harness.run(
                "rescoped",
                "keep_only_squashed",
                "create_db",
                "operations",
                "late_state",
                "check_clean",
            )
        )
    finally:
        harness.destroy()
    names = sorted(name for name in squashed["operations"] if ":" not in name)
    assert squashed["squash"]["replaces"] == names
    operations = squashed["squash"]["operations"]
    assert [op for op in operations if "LateNumbering" in op] == [
        "InstallLateNumbering latebill",
        "InstallLateNumbering latebill",
        "RemoveLateNumbering latebill",
        "InstallLateNumbering latebill",
    ]
    # Nothing moves across a trigger operation. Django 5 makes one of the number's two
    # AlterFields that meet (no longer late, then late again); Django 4.2 keeps both.
    originals = [op for name in names for op in squashed["operations"][name]]
    assert originals[-4:] == [
        "RemoveLateNumbering latebill",
        "AlterField latebill.number",
        "AlterField latebill.number",
        "InstallLateNumbering latebill",
    ]
    assert operations in (originals, originals[:-2] + originals[-1:])
    # Only the squashed migration is left, and the fresh database has what it installs
    # last: the rescoped trigger (per branch, the year of due_on).
    assert fresh["keep_only_squashed"] == names
    (name,) = [name for name in fresh["operations"] if ":" not in name]
    assert name == squashed["squash"]["name"]
    assert docnumbers_leaf() in fresh["operations"][name + ":dependencies"]
    state = fresh["late_state"]
    assert (state["late"], state["late_b"]) == ("L-2027-0001", "L-2027-0001")
    assert fresh["check_clean"] is True
    if fresh["vendor"] == "postgresql":
        assert held(state) == LATE_TRIGGER
    else:
        assert held(state) == {"triggers": None, "functions": None}


# -- Adding numbers to tables that already have rows (the adoption path) -------------------


@pytest.fixture(scope="module")
def adopted(tmp_path_factory):
    """Documents created without numbers, then the fields added: makemigrations, migrate."""
    harness = Harness(tmp_path_factory.mktemp("adoption"))
    try:
        ok(harness.run("before", "create_db", "makemigrations", "migrate", "insert_before"))
        return ok(
            harness.run(
                "after",
                "makemigrations_noinput",
                "makemigrations",
                # The documented way to choose the order: edit order_by in the migration.
                "order_dated_bills_by_date",
                "operations",
                "migrate",
                "check_after",
                "check_clean",
                "destroy",
            )
        )
    except BaseException:
        harness.destroy()
        raise


def test_makemigrations_asks_nothing_with_or_without_noinput(adopted):
    assert (
        "Number the existing rows of adoptbill.number (ordered by pk)"
        in (adopted["makemigrations_noinput"])
    )
    assert "Number the existing rows of adoptbill.number" in adopted["makemigrations"]
    assert adopted["order_dated_bills_by_date"] != []


def test_the_migration_numbers_rows_between_a_nullable_add_and_the_constraints(adopted):
    operations, dependencies = migration(adopted, "0002_")
    assert operations[:5] == [
        "AddField adoptbill.number",
        "AddField adoptbill.number_counter",
        "AddField adoptbill.number_display",
        "NumberExistingRows adoptbill.number",
        "AlterField adoptbill.number",
    ]
    for model in ("adoptplain", "adoptscoped", "adoptquote", "adoptscopedbill"):
        steps = [op for op in operations if op.split(" ")[1].startswith(f"{model}.number")]
        assert steps[0] == f"AddField {model}.number"
        assert steps[-2:] == [f"NumberExistingRows {model}.number", f"AlterField {model}.number"]
    # A late field is nullable as declared: no AlterField after the numbering.
    assert "AlterField adoptlate.number" not in operations
    assert "NumberExistingRows adoptlate.number" in operations
    # The late field's COMMIT trigger comes last, once its rows are numbered.
    assert operations[-1] == "InstallLateNumbering adoptlate"
    operations = operations[:-1]
    last_step = max(i for i, op in enumerate(operations) if not op.startswith("AddConstraint"))
    first_constraint = min(i for i, op in enumerate(operations) if op.startswith("AddConstraint"))
    assert last_step < first_constraint
    assert docnumbers_leaf() in dependencies


def test_existing_rows_are_numbered_by_primary_key_per_scope_and_period(adopted):
    after = adopted["check_after"]
    assert after["plain"] == [[1], [2], [3]]
    # start_at=10, one sequence per branch.
    assert after["scoped"] == [["a", 10], ["b", 10], ["a", 11], ["a", 12], ["b", 11]]
    # Issued on 2025-05-01, 2026-01-10, 2025-02-01, 2026-03-01, 2025-12-31.
    assert after["bill"] == [
        [1, "INV-2025-0001"],
        [1, "INV-2026-0001"],
        [2, "INV-2025-0002"],
        [2, "INV-2026-0002"],
        [3, "INV-2025-0003"],
    ]
    assert after["scoped_bill"] == [
        ["a", "SB-2025-01"],
        ["b", "SB-2025-01"],
        ["a", "SB-2026-01"],
        ["a", "SB-2025-02"],
    ]
    assert after["late"] == [["L-2025-001"], ["L-2026-001"]]


def test_existing_rows_follow_the_order_the_migration_names(adopted):
    # order_by=("issued_on", "pk"): by date within each year.
    assert adopted["check_after"]["dated"] == [
        [2, "DB-2025-0002"],
        [1, "DB-2026-0001"],
        [1, "DB-2025-0001"],
        [2, "DB-2026-0002"],
        [3, "DB-2025-0003"],
    ]


def test_rows_without_a_series_get_the_default_one_and_formats_are_seeded(adopted):
    after = adopted["check_after"]
    assert after["quote"] == [["Q-", "Q-001"], ["QX-", "QX-001"], ["Q-", "Q-002"]]
    # adopt-bill had no NumberFormat: created from the project's declared Format.
    assert ["adopt-bill", "INV-{YYYY}-"] in after["formats"]


def test_counters_end_at_the_highest_number_and_the_next_save_continues(adopted):
    after = adopted["check_after"]
    assert after["counters_bill"] == [["", "2025", 3], ["", "2026", 2]]
    assert sorted(value for _, _, value in after["counters_scoped"]) == [11, 12]
    assert [key[0].rsplit("@", 1)[1] for key in after["counter_ids"]] == [
        "2025",
        "2026",
        "2025",
        "2026",
        "2025",
    ]
    assert after["next"] == {
        "plain": 4,
        "scoped": 13,
        "bill_2025": "INV-2025-0004",
        "bill_2026": "INV-2026-0003",
        "quote": "Q-003",
        "late": "L-2026-002",
    }


def test_after_adoption_the_database_refuses_duplicates_and_makemigrations_is_clean(adopted):
    after = adopted["check_after"]
    assert after["refused"] == {"null": True, "display": True}
    assert after["unique"]["shapes_adoptscopedbill"] == [
        "branch_id,number_display",
        "number_counter_id,number",
    ]
    assert after["unique"]["shapes_adoptplain"] == ["number"]
    assert adopted["check_clean"] is True
    assert adopted["destroy"] is True


def test_a_plain_addfield_on_a_table_with_rows_stops_with_a_clear_error(tmp_path):
    """Django's own makemigrations writes a plain AddField: migrate says what to do instead."""
    harness = Harness(tmp_path)
    try:
        ok(harness.run("before", "create_db", "makemigrations", "migrate", "insert_before"))
        result = harness.run("after", "makemigrations_django", "migrate", "destroy")
    except BaseException:
        harness.destroy()
        raise
    assert result["makemigrations_django"] is not None  # no question asked
    assert result["error"]["action"] == "migrate"
    assert result["error"]["type"] == "CommandError"
    assert "NumberExistingRows" in result["error"]["message"]
    assert "shapes.AdoptBill.number" in result["error"]["message"]
    assert result["destroy"] is True
