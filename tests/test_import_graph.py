"""The package's import graph, read from the source (an AST walk; nothing is imported).

Every ``import`` and ``from ... import`` counts: at module level, inside functions, under ``if TYPE_CHECKING:``,
relative or absolute. A cycle anywhere inside ``qiskit_connector_lab`` fails, and the core (every module but the
faces: the notebook faces ``magics`` and ``login_magics``, ``server/`` and the JupyterHub service ``hub/``) imports
no tornado, IPython, ipywidgets or jupyter_server, directly or through a face (an import under
``if "IPython" in sys.modules:`` only uses what the process already loaded, and is allowed). The package is the one
on ``sys.path`` (``PYTHONPATH=/path/to/checkout`` checks that checkout).
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import qiskit_connector_lab

ROOT = Path(qiskit_connector_lab.__file__).parent
PACKAGE = "qiskit_connector_lab"
FACES = (f"{PACKAGE}.magics", f"{PACKAGE}.login_magics", f"{PACKAGE}.server", f"{PACKAGE}.hub")
UI_LIBRARIES = ("tornado", "IPython", "ipywidgets", "jupyter_server")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def already_loaded(tree: ast.Module) -> set[ast.stmt]:
    """Imports under ``if "X" in sys.modules:``: they use a library the process already loaded, never load it."""
    guarded: set[ast.stmt] = set()
    for node in ast.walk(tree):
        test = getattr(node, "test", None)
        if isinstance(node, ast.If) and isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.In):
            if ast.unparse(test.comparators[0]) == "sys.modules":
                guarded.update(n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return guarded


def imports(path: Path, modules: set[str], *, top_level_only: bool = False) -> set[str]:
    """Every module ``path`` imports (in the package: resolved to a module file that exists)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    skip = already_loaded(tree)
    for node in tree.body if top_level_only else ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:  # "from . import x" imports the module x when there is one
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in ROOT.rglob("*.py")}
    return {name: {m for m in imports(path, set(files)) if m in files and m != name} for name, path in files.items()}


def test_no_import_cycle_inside_the_package():
    edges = graph()
    assert len(edges) > 20  # the walk found the package
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None


def test_the_core_imports_no_ui_library_and_no_face():
    files = {module_name(path): path for path in ROOT.rglob("*.py")}
    offenders = []
    for name, path in sorted(files.items()):
        if name.startswith(FACES):
            continue
        # The package's own __init__ loads a face only inside the entry point Jupyter or IPython calls.
        found = imports(path, set(files), top_level_only=name == PACKAGE)
        bad = sorted(m for m in found if m.split(".")[0] in UI_LIBRARIES or m.startswith(FACES))
        offenders += [f"{name} imports {m}" for m in bad]
    assert len(files) > 20
    assert offenders == []
