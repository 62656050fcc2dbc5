"""Each role's defaults/main.yml, meta/argument_specs.yml and README.md agree.

Ansible validates a role's variables against meta/argument_specs.yml but never
sets a variable from its `default:`: the value a role runs with comes from
defaults/main.yml. So the two must say the same thing:

- every variable in defaults/main.yml is an option of the `main` entry point;
- every option that is not required has a value in defaults/main.yml (a few
  are defaulted in the tasks instead: listed in DEFAULTED_IN_TASKS);
- where the spec states a `default:`, it equals the value in defaults/main.yml;
  where it states none for an optional variable, the value is a template that
  the spec cannot restate (such as `release_holder`);
- a required option listed in defaults/main.yml holds only an empty placeholder;
- values have the type the spec declares; every option and entry point is
  described; every name carries the role's prefix, without exception;
- every role has a README.md naming all its options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"
ROLES = sorted(p.name for p in ROLES_DIR.iterdir() if (p / "tasks").is_dir())

# (role, entry point, variable): optional options with no value in
# defaults/main.yml, whose tasks apply the spec's default themselves.
DEFAULTED_IN_TASKS: set[tuple[str, str, str]] = set()

# Python types a value of each argument_specs type may have.
TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "path": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def defaults(role: str) -> dict[str, Any]:
    path = ROLES_DIR / role / "defaults" / "main.yml"
    return (_yaml(path) or {}) if path.exists() else {}


def entry_points(role: str) -> dict[str, dict[str, Any]]:
    path = ROLES_DIR / role / "meta" / "argument_specs.yml"
    return _yaml(path)["argument_specs"]


def options(role: str, entry_point: str = "main") -> dict[str, dict[str, Any]]:
    return entry_points(role)[entry_point].get("options") or {}


def templated(value: Any) -> bool:
    """Whether VALUE holds a Jinja template anywhere (then Ansible computes it)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(templated(k) or templated(v) for k, v in value.items())
    if isinstance(value, list):
        return any(templated(v) for v in value)
    return False


def type_problem(name: str, spec: dict[str, Any], value: Any) -> str | None:
    kind = spec.get("type", "str")
    if kind not in TYPES or templated(value):
        return None
    # bool is an int in Python; an int option must not default to true/false
    if not isinstance(value, TYPES[kind]) or (kind in ("int", "float") and isinstance(value, bool)):
        return f"{name}: {value!r} is not of type {kind}"
    elements = spec.get("elements")
    if kind == "list" and elements in TYPES:
        wrong = [v for v in value if not isinstance(v, TYPES[elements])]
        if wrong:
            return f"{name}: elements {wrong!r} are not of type {elements}"
    return None


def all_options(role: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(entry point, option, its spec) of every entry point of ROLE."""
    return [
        (ep, name, spec) for ep in entry_points(role) for name, spec in options(role, ep).items()
    ]


def test_there_are_roles() -> None:
    assert {"env_file", "compose_images", "deploy", "health", "rollback"} <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_a_main_entry_point(role: str) -> None:
    assert "main" in entry_points(role)


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_an_option_of_main(role: str) -> None:
    undeclared = sorted(set(defaults(role)) - set(options(role)))
    assert not undeclared, f"{role}: in defaults/main.yml, not in argument_specs main: {undeclared}"


@pytest.mark.parametrize("role", ROLES)
def test_every_optional_option_has_a_default(role: str) -> None:
    missing = sorted(
        f"{ep}.{name}"
        for ep, name, spec in all_options(role)
        if not spec.get("required")
        and name not in defaults(role)
        and (role, ep, name) not in DEFAULTED_IN_TASKS
    )
    assert not missing, f"{role}: optional, but no value in defaults/main.yml: {missing}"


def test_every_option_defaulted_in_tasks_is_still_one() -> None:
    stale = [
        item
        for item in DEFAULTED_IN_TASKS
        if item[2] not in options(item[0], item[1])
        or options(item[0], item[1])[item[2]].get("required")
        or item[2] in defaults(item[0])
    ]
    assert not stale, f"remove from DEFAULTED_IN_TASKS: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_equal_the_role_defaults(role: str) -> None:
    values = defaults(role)
    different = [
        f"{ep}.{name}: argument_specs {spec['default']!r} != defaults/main.yml {values[name]!r}"
        for ep, name, spec in all_options(role)
        if "default" in spec and name in values and spec["default"] != values[name]
    ]
    assert not different, f"{role}: {different}"


@pytest.mark.parametrize("role", ROLES)
def test_an_optional_option_without_spec_default_has_a_templated_default(role: str) -> None:
    values = defaults(role)
    unstated = [
        f"{ep}.{name}"
        for ep, name, spec in all_options(role)
        if not spec.get("required")
        and "default" not in spec
        and name in values
        and not templated(values[name])
    ]
    assert not unstated, f"{role}: state these defaults in argument_specs: {unstated}"


@pytest.mark.parametrize("role", ROLES)
def test_required_options_have_no_real_default(role: str) -> None:
    values = defaults(role)
    problems = [
        f"{ep}.{name}"
        + (": has default: in argument_specs" if "default" in spec else "")
        + (f": defaults/main.yml holds {values[name]!r}" if values.get(name) else "")
        for ep, name, spec in all_options(role)
        if spec.get("required") and ("default" in spec or values.get(name))
    ]
    assert not problems, f"{role}: required options with a value: {problems}"


@pytest.mark.parametrize("role", ROLES)
def test_defaults_have_the_declared_type(role: str) -> None:
    values, spec = defaults(role), options(role)
    problems = [
        type_problem(name, spec[name], value) for name, value in values.items() if name in spec
    ]
    problems += [
        type_problem(f"{ep}.{name} (spec default)", s, s["default"])
        for ep, name, s in all_options(role)
        if s.get("default") is not None
    ]
    assert not [p for p in problems if p], f"{role}: {[p for p in problems if p]}"


def _undescribed(spec: dict[str, Any], where: str) -> list[str]:
    found = []
    for name, option in (spec or {}).items():
        text = option.get("description")
        items = text if isinstance(text, list) else [text]
        if not items or not all(isinstance(i, str) and i.strip() for i in items):
            found.append(f"{where}{name}")
        found += _undescribed(option.get("options"), f"{where}{name}.")
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_entry_point_and_option_is_described(role: str) -> None:
    problems = [
        f"{ep}: short_description"
        for ep, spec in entry_points(role).items()
        if not str(spec.get("short_description") or "").strip()
    ]
    for ep in entry_points(role):
        problems += _undescribed(options(role, ep), f"{ep}.")
    assert not problems, f"{role}: without a description: {problems}"


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_carries_the_role_prefix(role: str) -> None:
    names = set(defaults(role)) | {name for _, name, _ in all_options(role)}
    foreign = sorted(n for n in names if not n.startswith(f"{role}_"))
    assert not foreign, f"{role}: variables without the prefix {role}_: {foreign}"


@pytest.mark.parametrize("role", ROLES)
def test_every_entry_point_has_its_tasks_file(role: str) -> None:
    tasks = ROLES_DIR / role / "tasks"
    missing = [
        ep
        for ep in entry_points(role)
        if not any((tasks / f"{ep}{ext}").exists() for ext in (".yml", ".yaml"))
    ]
    assert not missing, f"{role}: entry points without tasks/<name>.yml: {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_a_readme_naming_its_options(role: str) -> None:
    readme = ROLES_DIR / role / "README.md"
    assert readme.is_file(), f"{role}: no README.md"
    text = readme.read_text(encoding="utf-8")
    unnamed = sorted({name for _, name, _ in all_options(role)} - set(_words(text)))
    assert not unnamed, f"{role}/README.md does not name: {unnamed}"


def _words(text: str) -> set[str]:
    return set("".join(c if c.isalnum() or c == "_" else " " for c in text).split())
