"""The installed collections satisfy requirements.yml (Galaxy is not reachable here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]


def installed_collections() -> dict[str, str]:
    galaxy = (
        shutil.which("ansible-galaxy", path=str(Path(sys.executable).parent)) or "ansible-galaxy"
    )
    out = subprocess.run(
        [galaxy, "collection", "list", "--format", "json"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found: dict[str, str] = {}
    for collections in json.loads(out).values():
        for name, info in collections.items():
            found.setdefault(name, info["version"])
    return found


def test_every_required_collection_is_installed_in_a_satisfying_version() -> None:
    required = yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]
    installed = installed_collections()
    problems = []
    for item in required:
        have = installed.get(item["name"])
        if have is None:
            problems.append(f"{item['name']}: not installed")
        elif Version(have) not in SpecifierSet(item["version"]):
            problems.append(f"{item['name']}: {have} does not satisfy {item['version']}")
    assert not problems, problems


def test_this_repos_collection_is_found_from_the_repo_root() -> None:
    assert "stickforstats.deploy" in installed_collections()


def test_every_collection_module_used_in_roles_and_playbooks_is_required() -> None:
    required = {
        c["name"] for c in yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]
    }
    used = set()
    for path in [
        *REPO.glob("roles/**/*.yml"),
        *REPO.glob("playbooks/**/*.yml"),
        *REPO.glob("*.yml"),
    ]:
        for word in path.read_text().split():
            parts = word.rstrip(":").split(".")
            if (
                len(parts) == 3
                and parts[0] in {"community", "ansible"}
                and parts[1] not in {"builtin"}
            ):
                used.add(".".join(parts[:2]))
    assert used <= required, f"used but not in requirements.yml: {sorted(used - required)}"
