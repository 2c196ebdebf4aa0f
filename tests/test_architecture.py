"""The module rules docs/design.md states, checked on the source."""

import ast
import pathlib

import docnumbers
from docnumbers import formatting, keys

PACKAGE = pathlib.Path(docnumbers.__file__).parent


def module_of(path: pathlib.Path) -> str:
    """The name of the module (or package) of docnumbers that ``path`` belongs to."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imports_of(path: pathlib.Path) -> set[str]:
    """The other docnumbers modules ``path`` imports (module or function level)."""
    found = set()
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 for docnumbers/x.py
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            up = node.level - 1
            if up > depth:
                continue
            base = list(path.relative_to(PACKAGE).parts[: depth - up])
            names = [node.module] if node.module else [a.name for a in node.names]
            for name in names:
                target = (base + name.split("."))[0]
                if target != module_of(path):
                    found.add(target)
    return found


def sources():
    """Every Python file of docnumbers, migrations excepted."""
    return [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.relative_to(PACKAGE).parts]


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sources():
        edges.setdefault(module_of(path), set()).update(imports_of(path))
    return edges


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
    assert edges["keys"] == set() and edges["registry"] == set()
    assert edges["backends"] == set()
    assert "models" not in edges["fields"] and "fields" not in edges["models"]


def test_only_allocation_writes_counter_values():
    """Counter.value moves in allocation only (the admin and sync call move_counter).

    ``backends`` holds the statements, including the late-numbering trigger that
    runs inside COMMIT (``triggers`` freezes it in a project's migrations).
    """
    writers = []
    for path in sources():
        if module_of(path) in ("allocation", "backends"):
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
