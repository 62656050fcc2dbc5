"""The collection's Python stays small and layered (issue 16's "must show").

Three rules, checked over every .py file under collections/:

1. Two layers, no cycle. A module_utils file imports only the standard library,
   ansible.module_utils and other module_utils of this collection (AnsiballZ ships
   nothing else to a host), and the module_utils import graph is acyclic. A plugin
   file (modules, action, filter, lookup, callback, doc_fragments) imports this
   collection's module_utils or plugin_utils, never another plugin file; a module
   (it runs on the host) imports module_utils only; plugin_utils import module_utils
   or plugin_utils, and their graph is acyclic too.
2. No file over MAX_CODE_LINES code lines. Code lines are the file's non-blank lines
   other than those of the module-level DOCUMENTATION, EXAMPLES and RETURN strings
   (documentation read by ansible-doc, not code).
3. No function over MAX_FUNCTION_LINES lines (from its ``def`` to its last line),
   unless its docstring has a line starting with LONG_BECAUSE that says why, for
   example "Long because the steps share one guard and must run under it.".

PENDING_SPLIT would list imports (rule 1), files (rule 2) and functions (rule 3) that
fail while a split is under way. It is empty (issue 16's splits landed), and an entry
that no longer fails is itself a failure (so that it is removed).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
COLLECTIONS = REPO / "collections"
PLUGINS = COLLECTIONS / "ansible_collections" / "stickforstats" / "deploy" / "plugins"
PACKAGE = "ansible_collections.stickforstats.deploy.plugins"

MAX_CODE_LINES = 400
MAX_FUNCTION_LINES = 60
LONG_BECAUSE = "Long because"
DOCUMENTATION_STRINGS = ("DOCUMENTATION", "EXAMPLES", "RETURN")

# TEMPORARY, MUST SHRINK TO EMPTY: imports ("plugins/<kind>/<name>.py imports <package>"),
# files ("plugins/<kind>/<name>.py") and functions ("plugins/<kind>/<name>.py::<qualified
# name>") that break the rules today, which the other
# branches of issue 16 split (compose_rollout, health_check and their module_utils).
# The lead empties it once those branches are merged.
PENDING_SPLIT: frozenset[str] = frozenset()

# Plugin kinds: folders of plugins/ holding plugins (not helpers).
PLUGIN_KINDS = {"modules", "action", "filter", "lookup", "callback", "doc_fragments"}
HELPER_KINDS = {"module_utils", "plugin_utils"}


def python_files() -> list[Path]:
    return sorted(p for p in COLLECTIONS.rglob("*.py") if "__pycache__" not in p.parts)


def relative(path: Path) -> str:
    """PATH as PENDING_SPLIT names it: from plugins/ on, or from collections/ elsewhere."""
    try:
        return "plugins/" + path.relative_to(PLUGINS).as_posix()
    except ValueError:
        return path.relative_to(COLLECTIONS).as_posix()


# ----------------------------------------------------------------- measures


def documentation_lines(tree: ast.Module) -> set[int]:
    """Line numbers of the module-level DOCUMENTATION, EXAMPLES and RETURN assignments."""
    lines: set[int] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id in DOCUMENTATION_STRINGS for t in targets):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def code_lines(text: str) -> int:
    """Non-blank lines of TEXT (Python source) outside its documentation strings."""
    skipped = documentation_lines(ast.parse(text))
    return sum(
        1
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and number not in skipped
    )


def long_functions(text: str) -> dict[str, int]:
    """Qualified name -> lines, of the functions of TEXT over MAX_FUNCTION_LINES whose
    docstring does not say why (a line starting with LONG_BECAUSE)."""
    found: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    length = (child.end_lineno or child.lineno) - child.lineno + 1
                    doc = ast.get_docstring(child) or ""
                    reasoned = any(
                        line.strip().startswith(LONG_BECAUSE) for line in doc.splitlines()
                    )
                    if length > MAX_FUNCTION_LINES and not reasoned:
                        found[name] = length
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(text), "")
    return found


def file_problems(path: Path) -> dict[str, str]:
    """What breaks rules 2 and 3 in PATH, keyed as PENDING_SPLIT keys it."""
    text = path.read_text(encoding="utf-8")
    where = relative(path)
    problems = {}
    lines = code_lines(text)
    if lines > MAX_CODE_LINES:
        problems[where] = f"{lines} code lines (at most {MAX_CODE_LINES})"
    for name, length in long_functions(text).items():
        problems[f"{where}::{name}"] = (
            f"{length} lines (at most {MAX_FUNCTION_LINES} unless its docstring has a line"
            f" starting {LONG_BECAUSE!r})"
        )
    return problems


def size_problems() -> dict[str, str]:
    """Rules 2 and 3 over every file."""
    problems: dict[str, str] = {}
    for path in python_files():
        problems.update(file_problems(path))
    return problems


def all_problems() -> dict[str, str]:
    """Rules 1 (module_utils imports), 2 and 3: what PENDING_SPLIT may name."""
    return {**dict.fromkeys(module_utils_import_problems(), "not shipped"), **size_problems()}


# ----------------------------------------------------------------- imports


def imported(path: Path) -> set[str]:
    """Every module PATH imports (absolute names; a relative import is an error)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{relative(path)}: relative import of {node.module}"
            assert node.module is not None
            if (
                node.module.startswith(PACKAGE) and node.module.count(".") == PACKAGE.count(".") + 1
            ):  # from ...plugins.module_utils import _lock
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            else:
                names.add(node.module)
    return names


def plugin_file(name: str) -> tuple[str, str] | None:
    """(kind, file) of a module name of this collection's plugins, None for any other."""
    if not name.startswith(PACKAGE + "."):
        return None
    parts = name[len(PACKAGE) + 1 :].split(".")
    return parts[0], parts[1] if len(parts) > 1 else ""


def is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def import_graph() -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(kind, file) -> the (kind, file)s of this collection's plugins it imports."""
    graph: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for path in python_files():
        if PLUGINS not in path.parents or path.name == "__init__.py":
            continue
        node = (path.parent.name, path.stem)
        graph[node] = {found for name in imported(path) if (found := plugin_file(name))}
    return graph


def cycle(graph: dict[tuple[str, str], set[tuple[str, str]]]) -> list[tuple[str, str]]:
    """A cycle of GRAPH ([] when there is none)."""
    state: dict[tuple[str, str], str] = {}
    stack: list[tuple[str, str]] = []

    def visit(node: tuple[str, str]) -> list[tuple[str, str]]:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def module_utils_import_problems() -> set[str]:
    """Imports of module_utils files that AnsiballZ would not ship (rule 1)."""
    wrong = set()
    for path in sorted((PLUGINS / "module_utils").glob("*.py")):
        for name in sorted(imported(path)):
            found = plugin_file(name)
            allowed = (
                is_stdlib(name)
                or name == "ansible.module_utils"
                or name.startswith("ansible.module_utils.")
                or (found is not None and found[0] == "module_utils")
            )
            if not allowed:
                what = f"{found[0]}/{found[1]}" if found else name.split(".")[0]
                wrong.add(f"{relative(path)} imports {what}")
    return wrong


def test_module_utils_import_only_the_stdlib_ansible_module_utils_and_each_other() -> None:
    wrong = sorted(module_utils_import_problems() - PENDING_SPLIT)
    assert not wrong, wrong


def test_plugins_import_helpers_never_each_other() -> None:
    wrong = []
    for (kind, name), targets in sorted(import_graph().items()):
        allowed = {"modules": {"module_utils"}}.get(kind, HELPER_KINDS)
        if kind == "module_utils":
            continue  # the test above
        for target_kind, target in sorted(targets):
            if target_kind not in allowed:
                wrong.append(f"plugins/{kind}/{name}.py imports {target_kind}/{target}")
    assert not wrong, wrong


@pytest.mark.parametrize("kind", sorted(HELPER_KINDS))
def test_the_helpers_import_graph_has_no_cycle(kind: str) -> None:
    graph = {
        node: {t for t in targets if t[0] in HELPER_KINDS}
        for node, targets in import_graph().items()
        if node[0] == kind
    }
    assert graph, f"no {kind} found"
    found = cycle(graph)
    assert not found, " -> ".join(f"{k}/{n}" for k, n in found)


def test_every_plugin_kind_is_known() -> None:
    """A new folder under plugins/ must be placed in a layer above."""
    folders = {p.name for p in PLUGINS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= PLUGIN_KINDS | HELPER_KINDS, folders - (PLUGIN_KINDS | HELPER_KINDS)


# ----------------------------------------------------------------- sizes


def test_no_file_nor_function_over_the_limits() -> None:
    problems = {k: v for k, v in size_problems().items() if k not in PENDING_SPLIT}
    assert not problems, "\n".join(f"{k}: {v}" for k, v in sorted(problems.items()))


def test_pending_split_only_names_what_still_fails() -> None:
    """An entry of PENDING_SPLIT that passes now is removed (the list only shrinks)."""
    stale = sorted(PENDING_SPLIT - set(all_problems()))
    assert not stale, f"passes now, remove from PENDING_SPLIT: {stale}"


# ----------------------------------------------------------------- the checks themselves


def test_an_oversized_file_is_caught(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    body = "".join(f"x{n} = {n}\n" for n in range(MAX_CODE_LINES + 1))
    big.write_text(body, encoding="utf-8")
    assert code_lines(body) == MAX_CODE_LINES + 1
    docs = 'DOCUMENTATION = r"""\n' + "a: b\n" * 1000 + '"""\n'
    assert code_lines(docs + "x = 1\n") == 1


def test_a_long_function_is_caught_unless_its_docstring_says_why() -> None:
    body = "".join(f"    x{n} = {n}\n" for n in range(MAX_FUNCTION_LINES))
    assert long_functions(f"def f():\n{body}") == {"f": MAX_FUNCTION_LINES + 1}
    assert long_functions(f"class C:\n  def f():\n{body}") == {"C.f": MAX_FUNCTION_LINES + 1}
    reasoned = f'def f():\n    """One step.\n\n    Long because it must.\n    """\n{body}'
    assert long_functions(reasoned) == {}


def test_a_cycle_is_caught() -> None:
    a, b, c = ("module_utils", "a"), ("module_utils", "b"), ("module_utils", "c")
    assert cycle({a: {b}, b: {c}, c: set()}) == []
    assert cycle({a: {b}, b: {c}, c: {a}}) == [a, b, c, a]
