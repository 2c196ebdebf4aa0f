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


DESIGN = PACKAGE.parent / "docs" / "design.md"


def module_map() -> dict[str, set[str]]:
    """docs/design.md's module map: module -> the docnumbers modules it may import."""
    import re

    rows: dict[str, set[str]] = {}
    listed: list[str] = []
    for line in DESIGN.read_text().splitlines():
        if not line.startswith("| `"):
            continue
        cells = line.split("|")
        names = [n.split("/")[0].removesuffix(".py") for n in re.findall(r"`([^`]+)`", cells[1])]
        allowed = set(re.findall(r"`([a-z_]+)`", cells[3])) | set(names)
        if "everything above" in cells[3]:
            allowed |= set(listed)
        for name in names:
            rows.setdefault(name, set()).update(allowed)
        listed += names
    return rows


def test_the_module_map_lists_every_module_and_no_other():
    on_disk = {module_of(p) for p in sources()}
    assert set(module_map()) == on_disk


def test_modules_import_only_what_the_module_map_allows():
    rows = module_map()
    undeclared = {
        m: sorted(imports - rows[m]) for m, imports in graph().items() if imports - rows[m]
    }
    assert undeclared == {}


#: Words that start a statement docnumbers sends (uppercase, as written in SQL texts).
_SQL = __import__("re").compile(
    r"\b(SELECT\b.+\bFROM|INSERT INTO|UPDATE \S+ SET|DELETE FROM|CREATE (OR REPLACE |CONSTRAINT )?"
    r"(TRIGGER|FUNCTION|TABLE|INDEX)|DROP (TRIGGER|FUNCTION|TABLE)|PRAGMA|SET TRANSACTION)\b",
    __import__("re").DOTALL,
)


def _strings(tree):
    """String constants of a module, docstrings excepted."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                yield node
        elif isinstance(node, ast.JoinedStr):
            yield node


def test_sql_and_vendor_tests_only_in_backends():
    found = []
    for path in sources():
        if module_of(path) == "backends":
            continue
        source = path.read_text()
        tree = ast.parse(source)
        for node in _strings(tree):
            text = ast.get_source_segment(source, node) or ""
            if _SQL.search(text):
                found.append(f"{path.name}:{node.lineno}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("vendor", "mysql_is_mariadb"):
                found.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert found == []


#: Private Django APIs, by attribute name. Only ``_compat`` may use them.
PRIVATE = {
    "_do_update",
    "_queryset_class",
    "atomic_blocks",
    "run_on_commit",
    "_post_clean",
    "get_parent_list",
    "original_attrs",
    "write_migration_files",
    "_expire_cache",
    "db_returning",
}
#: The private Django APIs ``_compat`` wraps: issue 20 allows four.
WRAPPED = {
    "_do_update",
    "_queryset_class",
    "original_attrs",
    "db_returning",
}


def _private_names(path) -> set[str]:
    """The names of ``PRIVATE`` that ``path`` uses (attributes, definitions, imports)."""
    used = set()
    for node in ast.walk(ast.parse(path.read_text())):
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "name", None)
        if name in PRIVATE:
            used.add(name)
    return used


def test_private_django_apis_only_in_compat():
    used = {
        (module_of(path), name)
        for path in sources()
        if module_of(path) != "_compat"
        for name in _private_names(path)
    }
    assert used == set()


def test_compat_wraps_at_most_four_private_apis():
    assert _private_names(PACKAGE / "_compat.py") == WRAPPED
    assert len(WRAPPED) <= 4


def test_no_assignment_to_attributes_of_django_or_third_party_classes():
    """``X.attr = ...`` where X is an imported (not docnumbers) name, outside ``_compat``."""
    found = []
    for path in sources():
        if module_of(path) == "_compat":
            continue
        tree = ast.parse(path.read_text())
        foreign = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and not node.level:
                foreign |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                foreign |= {(a.asname or a.name).split(".")[0] for a in node.names}
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr":
                targets = node.args[:1]
            for target in targets:
                if not isinstance(target, ast.Attribute):
                    continue
                base = target.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in foreign:
                    found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_no_module_is_over_600_lines():
    long = {str(p.relative_to(PACKAGE)) for p in sources() if len(p.read_text().splitlines()) > 600}
    assert long == set()


def test_one_function_creates_gap_explanations():
    """``services.record_gap`` is the only writer of GapExplanation rows (the admin,
    ``renumber`` and the audit's ``explain_gap`` call it)."""
    import re

    creators = []
    for path in sources():
        text = path.read_text()
        if re.search(
            r"GapExplanation\.objects(\.using\([^)]*\))?\.(bulk_)?create\(", text
        ) or re.search(r"\bGapExplanation\(", text.replace("class GapExplanation(", "")):
            creators.append(str(path.relative_to(PACKAGE)))
    assert creators == ["services.py"]


def test_number_ordering_is_public_without_the_admin():
    from docnumbers import admin, number_ordering

    assert admin.number_ordering is number_ordering
