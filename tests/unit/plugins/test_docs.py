"""Every plugin has DOCUMENTATION, EXAMPLES and RETURN that parse as YAML."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml

PLUGINS = (
    Path(__file__).resolve().parents[3]
    / "collections"
    / "ansible_collections"
    / "stickforstats"
    / "deploy"
    / "plugins"
)
PACKAGE = "ansible_collections.stickforstats.deploy.plugins"
SECTIONS = ("DOCUMENTATION", "EXAMPLES", "RETURN")

MODULES = sorted(p for p in (PLUGINS / "modules").glob("*.py") if p.name != "__init__.py")
ACTIONS = sorted(p for p in (PLUGINS / "action").glob("*.py") if p.name != "__init__.py")
FILTER_FILES = sorted(p for p in (PLUGINS / "filter").glob("*.py") if p.name != "__init__.py")


def _filters() -> dict[str, str]:
    """Filter name to the module defining it."""
    found: dict[str, str] = {}
    for path in FILTER_FILES:
        module = importlib.import_module(f"{PACKAGE}.filter.{path.stem}")
        for name in module.FilterModule().filters():
            found[name] = path.stem
    return found


FILTERS = _filters()


def _module_sections(path: Path) -> dict[str, str]:
    sections: dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in SECTIONS:
                sections[target.id] = ast.literal_eval(node.value)
    return sections


def _check_descriptions(doc: Any, where: str) -> None:
    """Descriptions must be text (a stray ': ' in YAML makes them mappings)."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key in ("description", "short_description"):
                items = value if isinstance(value, list) else [value]
                for item in items:
                    assert isinstance(item, str), f"{where}.{key}: {item!r} is not text"
            _check_descriptions(value, f"{where}.{key}")
    elif isinstance(doc, list):
        for index, item in enumerate(doc):
            _check_descriptions(item, f"{where}[{index}]")


def _check_sections(doc: Any, examples: Any, returns: Any, name: str, where: str) -> None:
    assert isinstance(doc, dict), where
    assert doc.get("name", doc.get("module")) == name
    assert isinstance(doc.get("short_description"), str)
    assert doc.get("description")
    assert doc.get("author")
    assert isinstance(doc.get("options"), dict)
    _check_descriptions(doc, f"{where}:DOCUMENTATION")
    assert isinstance(returns, dict) and returns, f"{where}: RETURN is empty"
    _check_descriptions(returns, f"{where}:RETURN")
    assert isinstance(examples, str)
    parsed = yaml.safe_load(examples)
    assert isinstance(parsed, (list, dict)) and parsed, f"{where}: EXAMPLES is empty"
    assert f"stickforstats.deploy.{name}" in examples, f"{where}: EXAMPLES do not use {name}"


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_module_documentation(path: Path) -> None:
    sections = _module_sections(path)
    assert sorted(sections) == sorted(SECTIONS)
    doc = yaml.safe_load(sections["DOCUMENTATION"])
    returns = yaml.safe_load(sections["RETURN"])
    _check_sections(doc, sections["EXAMPLES"], returns, path.stem, str(path))


@pytest.mark.parametrize("path", ACTIONS, ids=[p.stem for p in ACTIONS])
def test_action_has_module_documentation(path: Path) -> None:
    module_doc = PLUGINS / "modules" / path.name
    assert module_doc.exists(), f"{path.name}: no documentation in plugins/modules/"
    doc = yaml.safe_load(_module_sections(module_doc)["DOCUMENTATION"])
    action = importlib.import_module(f"{PACKAGE}.action.{path.stem}")
    spec = getattr(action, "ARGUMENT_SPEC", None)
    if spec is not None:
        assert sorted(doc["options"]) == sorted(spec)
        for option, settings in spec.items():
            documented = doc["options"][option]
            assert documented.get("type", "str") == settings.get("type", "str"), option
            assert documented.get("required", False) == settings.get("required", False), option
            assert documented.get("default") == settings.get("default"), option


def test_compose_rewrite_attributes() -> None:
    doc = yaml.safe_load(
        _module_sections(PLUGINS / "modules" / "compose_rewrite.py")["DOCUMENTATION"]
    )
    attributes = doc["attributes"]
    assert attributes["check_mode"]["support"] == "full"
    assert attributes["diff_mode"]["support"] == "full"
    assert attributes["action"]["support"] == "full"
    assert any("controller" in note for note in doc["notes"])


def test_image_filters_exist() -> None:
    assert {
        "image_parse",
        "image_with_tag",
        "image_with_digest",
        "image_repository",
    } <= set(FILTERS)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_filter_documentation(name: str) -> None:
    path = PLUGINS / "filter" / f"{name}.yml"
    assert path.exists(), f"filter {name} has no {path.name}"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert sorted(data) == sorted(SECTIONS)
    doc = data["DOCUMENTATION"]
    assert "_input" in doc["options"]
    _check_sections(doc, data["EXAMPLES"], data["RETURN"], name, str(path))
    assert "_value" in data["RETURN"]


def test_no_stray_filter_documentation() -> None:
    documented = {path.stem for path in (PLUGINS / "filter").glob("*.yml")}
    assert documented == set(FILTERS)
