"""The shape of the code: no module outside sidecar/cli imports the command line, and no
modules import each other in a circle. Read from the source with ast (every import, those
inside functions too), so nothing is imported to check it."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("sidecar", "daw_bridge")


def modules(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the packages."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project's modules this module names in an import statement (at any depth)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` names the module pkg.mod where there is one, else pkg itself
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        out.update(t for t in targets if t in known and t != name)
    return out


def graph(root: Path, packages=PACKAGES) -> dict[str, set[str]]:
    known = modules(root, packages)
    return {name: imports(name, path, known) for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of two modules or more (Tarjan), each sorted."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_checker_finds_a_circle_and_a_reach_into_the_command_line(tmp_path):
    pkg = tmp_path / "sidecar"
    (pkg / "cli").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "cli" / "__init__.py").write_text("")
    (pkg / "cli" / "common.py").write_text("")
    (pkg / "a.py").write_text("from sidecar import b\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n    from .cli.common import x\n")
    edges = graph(tmp_path, ("sidecar",))
    assert circles(edges) == [["sidecar.a", "sidecar.b"]]
    assert "sidecar.cli.common" in edges["sidecar.b"]


def test_no_module_outside_the_command_line_imports_it():
    reaching = {name: sorted(t for t in targets if t == "sidecar.cli" or t.startswith("sidecar.cli."))
                for name, targets in graph(REPO).items()
                if not (name == "sidecar.cli" or name.startswith("sidecar.cli."))}
    assert {name: t for name, t in reaching.items() if t} == {}


def test_no_import_circles():
    assert circles(graph(REPO)) == []


def _package_of(module: str, known: dict[str, Path]) -> str:
    path = known[module]
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_reaches(root: Path, packages=PACKAGES) -> list[str]:
    """`module: name` for every private name (module or attribute, `_x`) a module takes from another package:
    `from pkg._mod import f`, `from pkg.mod import _f`, and `mod._f` on a module it imported."""
    known = modules(root, packages)
    found = []
    for name, path in known.items():
        own = _package_of(name, known)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        bound: dict[str, str] = {}          # local name -> the project module it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in known:
                        bound[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = own.split(".")[: len(own.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    if target in known:
                        bound[alias.asname or alias.name] = target
                        module, item = target, ""
                    else:
                        module, item = base, alias.name
                    if module not in known:
                        continue
                    foreign = not (module == own or module.startswith(own + ".")) and \
                        _package_of(module, known) != own
                    hidden = any(_private(p) for p in module.split(".")) or _private(item)
                    if foreign and hidden:
                        found.append(f"{name}: {module}{'.' + item if item else ''}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _private(node.attr):
                module = bound.get(node.value.id)
                if module and _package_of(module, known) != own and not module.startswith(own + "."):
                    found.append(f"{name}: {module}.{node.attr}")
    return sorted(set(found))


def test_the_checker_finds_a_private_name_taken_from_another_package(tmp_path):
    pkg = tmp_path / "sidecar"
    for sub in ("a", "b"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "_inner.py").write_text("def f(): pass\n")
    (pkg / "a" / "mod.py").write_text("from ._inner import f\ndef _g(): pass\n")
    (pkg / "b" / "user.py").write_text("from sidecar.a._inner import f\nfrom sidecar.a import mod\n"
                                       "from sidecar.a.mod import _g\nmod._g()\n")
    assert private_reaches(tmp_path, ("sidecar",)) == [
        "sidecar.b.user: sidecar.a._inner.f", "sidecar.b.user: sidecar.a.mod._g"]


def test_no_private_name_is_used_from_another_package():
    assert private_reaches(REPO) == []


FORMAT_NAMES = {"wav", "rf64", "aiff", "flac", "mp3", "ogg", "opus", "m4a"}


def format_tests(root: Path, packages=PACKAGES) -> list[str]:
    """`module:line` of every comparison that tests a container format by name outside sidecar/formats:
    with a format's name (`fmt == "aiff"`, `task.format in ("mp3", "ogg")`) or a set of them
    (`fmt in PCM_FORMATS`)."""
    found = []
    for name, path in modules(root, packages).items():
        if name == "sidecar.formats" or name.startswith("sidecar.formats."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Compare) or not all(
                    isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops):
                continue
            sides = [node.left, *node.comparators]
            literal = any(isinstance(c, ast.Constant) and c.value in FORMAT_NAMES
                          for s in sides for c in ast.walk(s))
            grouped = any(isinstance(s, ast.Name) and s.id.endswith("_FORMATS") for s in sides)
            if literal or grouped:
                found.append(f"{name}:{node.lineno}")
    return found


def test_the_checker_finds_a_format_tested_by_name(tmp_path):
    (tmp_path / "sidecar" / "formats").mkdir(parents=True)
    (tmp_path / "sidecar" / "__init__.py").write_text("")
    (tmp_path / "sidecar" / "formats" / "__init__.py").write_text("x = fmt == 'wav'\n")
    (tmp_path / "sidecar" / "stage.py").write_text(
        "a = fmt == 'aiff'\nb = task.format in ('mp3', 'ogg')\nc = kind in ('flac',)\nd = kind == 'xml'\n"
        "e = fmt in PCM_FORMATS\n")
    assert format_tests(tmp_path, ("sidecar",)) == [
        "sidecar.stage:1", "sidecar.stage:2", "sidecar.stage:3", "sidecar.stage:5"]


def test_only_the_format_modules_test_a_format_by_name():
    assert format_tests(REPO) == []
