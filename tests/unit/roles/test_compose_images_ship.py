"""roles/compose_images/tasks/ship.yml, run for real on the controller (-c local, no host):
shipped files keep their modes (an entrypoint script stays executable), and --diff
shows no shipped file's content unless compose_images_shipped_diff asks for it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: compose_images
        tasks_from: ship
"""
KEY = "-----BEGIN PRIVATE KEY-----\nSFSkeyMATERIAL0123456789\n-----END PRIVATE KEY-----\n"
COMPOSE = "services:\n  web:\n    build: .\n    entrypoint: [/docker/entrypoint.sh]\n"


# Copied by directory, Ansible's copy shows no diff; a file named by itself shows one.
FILES = ["entrypoint.sh", "nginx.conf", "server.key"]


def write_sources(base: Path, changed: str) -> None:
    """The shipped files in BASE (docker/ of the app, or the app's top directory)."""
    base.mkdir(parents=True, exist_ok=True)
    (base / "entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    (base / "entrypoint.sh").chmod(0o755)
    (base / "nginx.conf").write_text(f"events {{}}\n{changed}")
    (base / "nginx.conf").chmod(0o644)
    (base / "server.key").write_text(KEY.replace("0123", f"0123{changed[:1]}"))
    (base / "server.key").chmod(0o600)


def ship(tmp_path: Path, paths: list[str], **extra) -> tuple[Path, str]:
    """Ships PATHS twice (the second time changed: what --diff shows), at --diff -v."""
    src, dest = tmp_path / "app", tmp_path / "release"
    src.mkdir()
    dest.mkdir()
    (src / "docker-compose.prod.yml").write_text(COMPOSE)
    (tmp_path / "play.yml").write_text(PLAY)
    variables = {
        "compose_images_src_dir": str(src),
        "compose_images_dest_dir": str(dest),
        "compose_images_map": {"web": "registry:5000/app/web"},
        "compose_images_version": "c0ffee2",
        "compose_images_owner": "root",
        "compose_images_group": "root",
        "compose_images_shipped_paths": paths,
        **extra,
    }
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    output = ""
    for changed in ("", "# changed\n"):
        write_sources(src, changed)
        write_sources(src / "docker", changed)
        run = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c",
             "local", str(tmp_path / "play.yml"), "-e", f"@{tmp_path / 'vars.json'}", "--diff", "-v"],
            cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        output = run.stdout + run.stderr
        assert run.returncode == 0, output[-3000:]
    return dest / ("docker" if paths == ["docker/"] else ""), output


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture(scope="module", params=[["docker/"], FILES], ids=["directory", "files"])
def shipped(request, tmp_path_factory) -> tuple[Path, str]:
    return ship(tmp_path_factory.mktemp("ship"), request.param)


def test_shipped_files_keep_their_modes(shipped):
    dest, _ = shipped
    assert mode(dest / "entrypoint.sh") == 0o755
    assert mode(dest / "nginx.conf") == 0o644
    assert mode(dest / "server.key") == 0o600


def test_no_shipped_file_is_shown_in_the_diff(shipped):
    dest, output = shipped
    assert "SFSkeyMATERIAL0123#" in (dest / "server.key").read_text()  # changed: a diff to show
    assert "SFSkeyMATERIAL" not in output
    assert "# changed" not in output


def test_control_diff_of_shipped_files_when_asked(tmp_path):
    """compose_images_shipped_diff: true shows them (what the default keeps out)."""
    _, output = ship(tmp_path, FILES, compose_images_shipped_diff=True)
    assert "+# changed" in output, output[-3000:]
