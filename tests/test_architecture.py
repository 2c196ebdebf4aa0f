"""The module rules docs/design.md states, checked on the source."""

import ast
import pathlib

import docnumbers
from docnumbers import formatting, keys

PACKAGE = pathlib.Path(docnumbers.__file__).parent


def imports_of(path: pathlib.Path) -> set[str]:
    """The docnumbers modules ``path`` imports (module or function level)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [a.name for a in node.names]
            found |= {name.split(".")[0] for name in names}
    return found


def graph() -> dict[str, set[str]]:
    return {p.stem: imports_of(p) for p in PACKAGE.glob("*.py")}


def test_no_import_cycle_inside_docnumbers():
    edges = graph()
    # "models" inside functions is the app-loading import Django requires; it
    # is a cycle only if models itself imports back.
    cycles = []

    def visit(module, path):
        for target in edges.get(module, ()):
            if target in path:
                cycles.append(path[path.index(target) :] + [target])
            else:
                visit(target, path + [target])

    for module in edges:
        visit(module, [module])
    assert cycles == []


def test_pure_modules_import_no_database_code():
    edges = graph()
    assert edges["formatting"] <= {"exceptions"}
    assert edges["keys"] == set() and edges["registry"] == set() and edges["sql"] == set()
    assert "models" not in edges["fields"] and "fields" not in edges["models"]


def test_only_allocation_writes_counter_values():
    """Counter.value moves in allocation only (the admin and sync call move_counter).

    The one exception is SQL that runs inside COMMIT: the late-numbering trigger
    that ``triggers`` renders for a project's migrations (like migration 0002's).
    """
    writers = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts or path.stem in ("allocation", "triggers"):
            continue
        text = path.read_text()
        if ".update(value=" in text or "SET value" in text:
            writers.append(path.name)
    assert writers == []


def test_no_function_is_longer_than_about_60_lines():
    long = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if node.end_lineno - node.lineno + 1 > 60:
                    long.append(f"{path.name}:{node.name}")
    assert long == []


def test_period_keys_read_back_to_a_day_of_their_own_period():
    import datetime as dt

    for reset in formatting.Reset.ALL:
        for first_month in (1, 4):
            for day in (dt.date(2026, 1, 1), dt.date(2026, 3, 31), dt.date(2026, 12, 31)):
                key = formatting.period_key(day, reset, first_month)
                if reset == formatting.Reset.NEVER:
                    assert formatting.parse_period(key) is None
                    continue
                first = formatting.parse_period(key)
                assert formatting.period_key(first, reset, first_month) == key


def test_scope_text_reads_back():
    scope = (("customer", "1"), ("name", 'Ünïcode "quoted"'), ("empty", None))
    assert keys.parse_scope(keys.scope_text(scope)) == dict(scope)
    assert keys.parse_scope("") == {}
