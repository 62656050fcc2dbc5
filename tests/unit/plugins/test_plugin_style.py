"""One plugin style: every plugin in the collection README, attributes, version_added, author.

The rules are in the collection README ("Documentation conventions").
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

COLLECTION = (
    Path(__file__).resolve().parents[3] / "collections" / "ansible_collections" / "stickforstats"
) / "deploy"
PLUGINS = COLLECTION / "plugins"
PACKAGE = "ansible_collections.stickforstats.deploy.plugins"
GALAXY = yaml.safe_load((COLLECTION / "galaxy.yml").read_text(encoding="utf-8"))
FRAGMENT = "stickforstats.deploy.attributes"

# Folders of plugins/ that hold no plugins (private helpers).
PRIVATE = {"module_utils", "plugin_utils", "__pycache__"}
KIND = {"modules": "module", "doc_fragments": "doc fragment"}
# Attributes whose description comes from a part of the attributes fragment.
FRAGMENT_PART = {
    "check_mode": FRAGMENT,
    "diff_mode": FRAGMENT,
    "idempotent": f"{FRAGMENT}.idempotent",
    "platform": f"{FRAGMENT}.platform",
    "action": f"{FRAGMENT}.action",
}
SUPPORT = {"full", "partial", "none", "N/A"}


def _py_plugins(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.py") if p.name != "__init__.py")


def _filter_names() -> set[str]:
    names: set[str] = {p.stem for p in (PLUGINS / "filter").glob("*.yml")}
    for path in _py_plugins(PLUGINS / "filter"):
        module = importlib.import_module(f"{PACKAGE}.filter.{path.stem}")
        names |= set(module.FilterModule().filters())
    return names


def plugins_on_disk() -> set[tuple[str, str]]:
    """(name, kind) of every plugin the collection ships."""
    found: set[tuple[str, str]] = set()
    for folder in sorted(p for p in PLUGINS.iterdir() if p.is_dir() and p.name not in PRIVATE):
        kind = KIND.get(folder.name, folder.name)
        if folder.name == "filter":
            found |= {(name, kind) for name in _filter_names()}
        else:
            found |= {(p.stem, kind) for p in _py_plugins(folder)}
    return found


def plugins_in_readme() -> list[tuple[str, str]]:
    rows = []
    for line in (COLLECTION / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([^`]+)` \| ([^|`]+?) \| (.+) \|$", line)
        if match:
            assert match.group(3).strip(), f"README: {line!r} says nothing"
            rows.append((match.group(1), match.group(2).strip()))
    return rows


def test_readme_lists_every_plugin_once() -> None:
    listed = plugins_in_readme()
    on_disk = plugins_on_disk()
    assert len(listed) == len(set(listed)), "README lists a plugin twice"
    assert not on_disk - set(listed), (
        f"not in the collection README: {sorted(on_disk - set(listed))}"
    )
    assert not set(listed) - on_disk, (
        f"README lists what is not there: {sorted(set(listed) - on_disk)}"
    )


def _sections(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id == "DOCUMENTATION":
                found[target.id] = ast.literal_eval(node.value)
    return found


def _documentation(path: Path) -> dict[str, Any]:
    if path.suffix == ".yml":
        return yaml.safe_load(path.read_text(encoding="utf-8"))["DOCUMENTATION"]
    return yaml.safe_load(_sections(path)["DOCUMENTATION"])


DOCUMENTED = sorted(
    [
        *_py_plugins(PLUGINS / "modules"),
        *_py_plugins(PLUGINS / "callback"),
        *_py_plugins(PLUGINS / "lookup"),
        *(PLUGINS / "filter").glob("*.yml"),
    ]
)
MODULES = _py_plugins(PLUGINS / "modules")


def _version(text: Any) -> tuple[int, ...]:
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(text)), f"{text!r} is not a collection version"
    return tuple(int(part) for part in str(text).split("."))


def _versions_added(doc: Any, where: str) -> list[tuple[str, Any]]:
    """Every version_added in the documentation, the plugin's and its options'."""
    found = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "version_added":
                found.append((where, value))
            found += _versions_added(value, f"{where}.{key}")
    elif isinstance(doc, list):
        for index, item in enumerate(doc):
            found += _versions_added(item, f"{where}[{index}]")
    return found


@pytest.mark.parametrize("path", DOCUMENTED, ids=[f"{p.parent.name}/{p.name}" for p in DOCUMENTED])
def test_version_added_and_author_follow_galaxy(path: Path) -> None:
    doc = _documentation(path)
    galaxy = _version(GALAXY["version"])
    assert "version_added" in doc, f"{path.name}: no version_added"
    for where, version in _versions_added(doc, path.name):
        assert _version(version) <= galaxy, (
            f"{where}: version_added {version} is after galaxy.yml's {GALAXY['version']}"
        )
    authors = doc.get("author")
    authors = [authors] if isinstance(authors, str) else authors
    assert authors == GALAXY["authors"], f"{path.name}: author {authors} is not galaxy.yml's"


def _supports_check_mode(path: Path) -> bool | None:
    """The supports_check_mode= the module (or its action plugin) gives, None when not found."""
    action = PLUGINS / "action" / path.name
    tree = ast.parse((action if action.exists() else path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "supports_check_mode":
            return bool(ast.literal_eval(node.value))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "_supports_check_mode" for t in node.targets
        ):
            return bool(ast.literal_eval(node.value))
    return None


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_module_declares_attributes(path: Path) -> None:
    doc = _documentation(path)
    attributes = doc.get("attributes")
    assert isinstance(attributes, dict), f"{path.name}: no attributes"
    fragments = doc.get("extends_documentation_fragment", [])
    fragments = [fragments] if isinstance(fragments, str) else fragments
    for name in ("check_mode", "diff_mode"):
        assert name in attributes, f"{path.name}: attributes.{name} missing"
    for name, settings in attributes.items():
        if name != "platform":
            assert settings.get("support") in SUPPORT, f"{path.name}: {name}.support"
        if name in FRAGMENT_PART:
            assert FRAGMENT_PART[name] in fragments, f"{path.name}: {name} without its fragment"
            assert "description" not in settings, (
                f"{path.name}: {name} restates the fragment's description (say it in details)"
            )
    if (PLUGINS / "action" / path.name).exists():
        assert attributes.get("action", {}).get("support") == "full", f"{path.name}: action"
    for note in doc.get("notes", []):
        assert "check mode" not in note.lower(), f"{path.name}: check mode in notes: {note!r}"
    supports = _supports_check_mode(path)
    assert supports is not None, f"{path.name}: supports_check_mode not found"
    declared = attributes["check_mode"]["support"]
    assert (declared != "none") == supports, (
        f"{path.name}: check_mode support {declared!r}, the code says supports_check_mode={supports}"
    )


def test_attributes_fragment_parts_parse() -> None:
    fragment = importlib.import_module(f"{PACKAGE}.doc_fragments.attributes").ModuleDocFragment
    for part in {name.rsplit(".", 1)[-1] for name in FRAGMENT_PART.values()}:
        text = getattr(fragment, "DOCUMENTATION" if part == "attributes" else part.upper())
        data = yaml.safe_load(text)
        assert data["options"] == {}
        for name, settings in data["attributes"].items():
            assert FRAGMENT_PART[name].rsplit(".", 1)[-1] == part, name
            assert settings["description"], name
