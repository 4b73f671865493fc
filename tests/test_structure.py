"""The house rules of docs/architecture.md, read from the source with `ast` (nothing is
imported or run): small modules and functions, no import circles, no import from a higher
layer, no HTTP in the GraphQL schema, and the frameworks' private parts behind one door.

A failure names the file, the line and the rule broken.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What the limits apply to: the code that runs in production, and the benchmarks. A folder
# that does not exist yet is skipped; settings may be one module or a package.
CHECKED = (
    "server.py",
    "settings.py",
    "settings",
    "web",
    "schema",
    "resolvers",
    "services",
    "infra",
    "mailers",
    "models",
    "frameworks",
    "bench",
)
NOT_CHECKED = ("models/migrations",)  # generated, and never edited once released
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50
# Higher imports lower, never the reverse; one rank may import within itself.
RANKS = {
    "server": 7,
    "web": 6,
    "schema": 5,
    "resolvers": 5,
    "services": 4,
    "infra": 3,
    "mailers": 2,
    "models": 1,
    "settings": 0,
    "frameworks": 0,
}
ABOVE_ALL = 8  # bench/ and tests/: they may use everything, nothing may use them
OURS = (*RANKS, "bench", "tests")
LAYER_ORDER = "server.py > web > schema, resolvers > services > infra > mailers > models > settings"
# frameworks/ is the one door to the frameworks' internals: it knows nothing of ours but
# the settings, so that everything else can rely on it.
FRAMEWORKS_MAY_IMPORT = {"frameworks", "settings"}
# The schema is GraphQL only; HTTP and WebSocket belong to the edge (web/).
SCHEMA_ONLY = ("schema", "resolvers")
HTTP_PACKAGES = ("starlette", "uvicorn", "strawberry.asgi")
ASGI_MESSAGES = {
    "http.response.start",
    "http.response.body",
    "websocket.accept",
    "websocket.send",
    "websocket.close",
}
# Parts of strawberry, graphql-core, uvicorn and asyncio that they do not publish.
PRIVATE_NAMES = {
    "_is_default",
    "DEFINITION_BACKREF",
    "_relevant_sub_fields",
    "_asyncio_future_blocking",
    "execute_fields",
    "execute_field",
}
PRIVATE_ATTRIBUTES = PRIVATE_NAMES | {"_schema"}
PRIVATE_PACKAGES = ("uvicorn.protocols",)


@dataclass(frozen=True)
class Module:
    path: Path
    name: str  # dotted: "schema.view", "server"
    tree: ast.Module
    lines: int

    @property
    def top(self) -> str:
        return self.name.split(".")[0]

    @property
    def where(self) -> str:
        return str(self.path.relative_to(ROOT))

    def at(self, node: ast.AST | int) -> str:
        line = node if isinstance(node, int) else getattr(node, "lineno", 1)
        return f"{self.where}:{line}"


@dataclass(frozen=True)
class Import:
    module: Module
    target: str  # one of our modules, dotted
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`: never runs


def _files() -> Iterator[Path]:
    for entry in CHECKED:
        path = ROOT / entry
        found = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in found:
            relative = file.relative_to(ROOT).as_posix()
            if not any(relative.startswith(f"{skip}/") for skip in NOT_CHECKED):
                yield file


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> tuple[Module, ...]:
    found = []
    for path in _files():
        text = path.read_text()
        found.append(Module(path, _dotted(path), _parse(text, path), len(text.splitlines())))
    return tuple(found)


def _parse(text: str, path: Path) -> ast.Module:
    # CPython before 3.11.8 can raise "AST constructor recursion depth mismatch" from
    # ast.parse at random (gh-106905, fixed in 3.11.8 and 3.12): the same text parses on a
    # second try. A real syntax error is a SyntaxError, raised either way.
    try:
        return ast.parse(text, filename=str(path))
    except SystemError:
        return ast.parse(text, filename=str(path))


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or path.is_dir()


def _ours(dotted: str) -> str | None:
    """The most specific module of ours that `dotted` names, or None if it is not ours."""
    parts = dotted.split(".")
    if parts[0] not in OURS:
        return None
    top = parts[0]
    while parts:
        if _is_module(".".join(parts)):
            return ".".join(parts)
        parts.pop()
    return top  # a folder not made yet is still a layer


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def _imported(module: Module, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """Every dotted name an import statement reaches: `from a import b` reaches a.b if it
    is a module, else a."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        package = module.name.split(".")
        if module.path.name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    for alias in node.names:
        yield f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base


def imports(module: Module) -> Iterator[Import]:
    """The module's imports of our own modules, at any depth (a lazy import is one too)."""
    type_only = _type_checking_lines(module.tree)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for dotted in _imported(module, node):
                target = _ours(dotted)
                if target is not None and target != module.name:
                    yield Import(module, target, node.lineno, node.lineno in type_only)


def _rank(dotted: str) -> int:
    return RANKS.get(dotted.split(".")[0], ABOVE_ALL)


def _fail(rule: str, problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{rule}:\n" + "\n".join(sorted(problems)), pytrace=False)


# --------------------------------------------------------------------------- size


def test_no_module_is_over_300_lines() -> None:
    _fail(
        f"modules over {MAX_MODULE_LINES} lines (split by job)",
        [
            f"{m.at(m.lines)}: {m.lines} lines, over {MAX_MODULE_LINES}"
            for m in modules()
            if m.lines > MAX_MODULE_LINES
        ],
    )


def test_no_function_is_over_50_lines() -> None:
    problems = []
    for m in modules():
        for node in ast.walk(m.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    problems.append(f"{m.at(node)}: {node.name}() is {length} lines")
    _fail(f"functions over {MAX_FUNCTION_LINES} lines", problems)


# --------------------------------------------------------------------------- imports


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles() -> None:
    edges: dict[tuple[str, str], Import] = {}
    for m in modules():
        for imp in imports(m):
            if not imp.type_only:
                edges.setdefault((m.name, imp.target), imp)
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
    problems = []
    for component in _cycles(graph):
        members = set(component)
        links = [
            f"{imp.module.at(imp.line)}: {source} imports {target}"
            for (source, target), imp in sorted(edges.items())
            if source in members and target in members
        ]
        problems.append(f"circle of {', '.join(component)}:\n    " + "\n    ".join(links))
    _fail("import circles (a module that needs another's importer cannot be read alone)", problems)


def test_no_module_imports_a_higher_layer() -> None:
    problems = []
    for m in modules():
        if m.top not in RANKS:
            continue  # bench/ sits above every layer
        for imp in imports(m):
            if _rank(imp.target) > _rank(m.name):
                problems.append(f"{m.at(imp.line)}: {m.name} ({m.top}) imports {imp.target}")
            elif m.top == "frameworks" and imp.target.split(".")[0] not in FRAMEWORKS_MAY_IMPORT:
                problems.append(f"{m.at(imp.line)}: frameworks/ imports {imp.target}")
    _fail(
        f"imports from a higher layer ({LAYER_ORDER}; frameworks/ beside settings, "
        "importing nothing of ours but settings)",
        problems,
    )


# --------------------------------------------------------------------------- the edge


def _type_only_imports(tree: ast.Module) -> set[int]:
    """The import statements under `if TYPE_CHECKING:`: they name types, they serve nothing."""
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
        if isinstance(inner, ast.Import | ast.ImportFrom)
    }


def _http_uses(m: Module) -> Iterator[str]:
    type_only = _type_only_imports(m.tree)
    for node in ast.walk(m.tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for name in names:
                if name.startswith(HTTP_PACKAGES):
                    yield f"{m.at(node)}: imports {name}"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = [a.arg for a in node.args.args]
            if arguments[-3:] == ["scope", "receive", "send"]:
                yield f"{m.at(node)}: {node.name}(scope, receive, send) is an ASGI app"
        elif isinstance(node, ast.Constant) and node.value in ASGI_MESSAGES:
            yield f"{m.at(node)}: sends the ASGI message {node.value!r}"


def test_the_schema_serves_no_http() -> None:
    _fail(
        "HTTP under schema/ or resolvers/ (responses, routes, middleware and sockets "
        "belong to web/)",
        [problem for m in modules() if m.top in SCHEMA_ONLY for problem in _http_uses(m)],
    )


def _private_uses(m: Module) -> Iterator[str]:
    for node in ast.walk(m.tree):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRIBUTES:
            yield f"{m.at(node)}: .{node.attr}"
        elif isinstance(node, ast.Name) and node.id in PRIVATE_NAMES:
            yield f"{m.at(node)}: {node.id}"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name in PRIVATE_NAMES:
                yield f"{m.at(node)}: overrides {node.name}()"
        elif isinstance(node, ast.Constant) and node.value in PRIVATE_ATTRIBUTES:
            yield f"{m.at(node)}: {node.value!r} by name"
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").startswith(PRIVATE_PACKAGES):
                yield f"{m.at(node)}: imports {node.module}"
            for alias in node.names:
                if alias.name in PRIVATE_NAMES:
                    yield f"{m.at(node)}: imports {alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PRIVATE_PACKAGES):
                    yield f"{m.at(node)}: imports {alias.name}"


def test_the_frameworks_private_parts_are_used_under_frameworks_only() -> None:
    _fail(
        "the frameworks' private parts outside frameworks/ (each use belongs behind its "
        "door, with what it relies on)",
        [problem for m in modules() if m.top != "frameworks" for problem in _private_uses(m)],
    )
