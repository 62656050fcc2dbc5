"""Tests of the compose_rewrite action plugin (plugins/action/compose_rewrite.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
import yaml
from ansible.errors import AnsibleFileNotFound
from ansible_collections.stickforstats.deploy.plugins.action.compose_rewrite import ActionModule

COLLECTIONS_ROOT = Path(__file__).resolve().parents[4] / "collections"
BACKEND = "registry:5000/stickforstats/backend"
SHA = "sha256:" + "0" * 64
COMPOSE = textwrap.dedent(
    """\
    services:
      backend:
        build: .
        image: stickforstats-backend:latest
        env_file: .env.prod
      worker:
        build: .
        image: stickforstats-backend:latest
      db:
        image: postgres:15
    """
)


class Harness:
    """An ActionModule wired to mocks, with a fake copy action."""

    def __init__(self, tmp_path: Path, args: dict[str, Any]) -> None:
        self.tmp_path = tmp_path
        self.task = MagicMock()
        self.task.args = args
        self.task.async_val = 0
        self.task.check_mode = False
        self.new_task = MagicMock()
        self.new_task.args = {"stale": "argument"}
        self.task.copy.return_value = self.new_task
        connection = MagicMock()
        connection._shell.tmpdir = None
        self.loader = MagicMock()
        self.loader.get_real_file.side_effect = lambda path, decrypt=True: path
        self.action = ActionModule(
            self.task,
            connection,
            play_context=MagicMock(),
            loader=self.loader,
            templar=MagicMock(),
            shared_loader_obj=None,
        )
        self.action._find_needle = self._find_needle  # type: ignore[method-assign]
        self.copy_action = MagicMock()
        self.copy_action.run.return_value = {"changed": True, "dest": "/srv/compose.yml"}
        self.action._shared_loader_obj = MagicMock()
        self.action._shared_loader_obj.action_loader.get.return_value = self.copy_action

    def _find_needle(self, dirname: str, needle: str) -> str:
        assert dirname == "files"
        path = self.tmp_path / needle
        if not path.exists():
            raise AnsibleFileNotFound(file_name=needle)
        return str(path)

    def run(self) -> dict[str, Any]:
        return self.action.run(task_vars={"inventory_hostname": "target"})


@pytest.fixture
def compose_file(tmp_path: Path) -> Path:
    path = tmp_path / "docker-compose.prod.yml"
    path.write_text(COMPOSE, encoding="utf-8")
    return path


def _args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "src": "docker-compose.prod.yml",
        "dest": "/srv/compose.yml",
        "images": {"backend": BACKEND, "worker": BACKEND},
        "version": "c0ffee1",
    }
    args.update(overrides)
    return args


def test_delegates_to_copy_with_rewritten_content(tmp_path: Path, compose_file: Path) -> None:
    harness = Harness(tmp_path, _args(owner="deploy", group="deploy", mode="0640"))
    result = harness.run()

    assert result["changed"] is True
    assert result["dest"] == "/srv/compose.yml"
    assert result["services"] == [
        {"name": "backend", "image": f"{BACKEND}:c0ffee1"},
        {"name": "worker", "image": f"{BACKEND}:c0ffee1"},
    ]
    (name,) = harness.action._shared_loader_obj.action_loader.get.call_args.args
    kwargs = harness.action._shared_loader_obj.action_loader.get.call_args.kwargs
    assert name == "ansible.builtin.copy"
    assert kwargs["task"] is harness.new_task
    assert kwargs["connection"] is harness.action._connection
    harness.copy_action.run.assert_called_once_with(task_vars={"inventory_hostname": "target"})

    copy_args = harness.new_task.args
    assert set(copy_args) == {"content", "dest", "mode", "owner", "group", "backup"}
    assert copy_args["dest"] == "/srv/compose.yml"
    assert copy_args["mode"] == "0640"
    assert (copy_args["owner"], copy_args["group"]) == ("deploy", "deploy")
    assert copy_args["backup"] is False
    content = yaml.safe_load(copy_args["content"])
    assert content["services"]["backend"] == {
        "image": f"{BACKEND}:c0ffee1",
        "env_file": ".env.prod",
    }
    assert content["services"]["db"] == {"image": "postgres:15"}
    assert harness.task.args == _args(owner="deploy", group="deploy", mode="0640")


def test_defaults_and_digests(tmp_path: Path, compose_file: Path) -> None:
    harness = Harness(tmp_path, _args(digests={"worker": SHA}))
    result = harness.run()
    assert "failed" not in result
    assert harness.new_task.args["mode"] == "0644"
    assert "owner" not in harness.new_task.args
    assert "group" not in harness.new_task.args
    assert result["services"][1] == {"name": "worker", "image": f"{BACKEND}:c0ffee1@{SHA}"}


def test_copy_result_is_returned(tmp_path: Path, compose_file: Path) -> None:
    harness = Harness(tmp_path, _args())
    harness.copy_action.run.return_value = {"changed": False, "diff": [], "checksum": "abc"}
    result = harness.run()
    assert result["changed"] is False
    assert result["checksum"] == "abc"
    assert "services" in result


def test_rewrite_errors_fail_the_task(tmp_path: Path, compose_file: Path) -> None:
    harness = Harness(tmp_path, _args(images={"backend": BACKEND, "web": BACKEND}))
    result = harness.run()
    assert result["failed"] is True
    assert result["msg"] == (
        "docker-compose.prod.yml: 2 errors: service 'web' has an image mapping but is not in "
        "the compose file; service 'worker' has build: but no image mapping"
    )
    assert result["errors"] == [
        "service 'web' has an image mapping but is not in the compose file",
        "service 'worker' has build: but no image mapping",
    ]
    harness.copy_action.run.assert_not_called()


def test_invalid_yaml_fails_with_line(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.prod.yml").write_text("services:\n  a: [\n", encoding="utf-8")
    result = Harness(tmp_path, _args()).run()
    assert result["failed"] is True
    assert "invalid YAML at line 3" in result["msg"]


def test_missing_source_fails(tmp_path: Path) -> None:
    harness = Harness(tmp_path, _args(src="missing.yml"))
    result = harness.run()
    assert result["failed"] is True
    assert "missing.yml" in result["msg"]
    harness.copy_action.run.assert_not_called()


def test_non_utf8_source_fails(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.prod.yml").write_bytes(b"services: {a: \xff}\n")
    result = Harness(tmp_path, _args()).run()
    assert result["failed"] is True
    assert "is not UTF-8 text" in result["msg"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            {"src": "docker-compose.prod.yml", "images": {}},
            "missing required arguments: dest, version",
        ),
        (_args(images="backend"), "images"),
        (_args(backup="maybe"), "backup"),
    ],
)
def test_argument_validation(
    tmp_path: Path, compose_file: Path, args: dict[str, Any], fragment: str
) -> None:
    result = Harness(tmp_path, args).run()
    assert result["failed"] is True
    assert fragment in result["msg"]


def test_unknown_argument(tmp_path: Path, compose_file: Path) -> None:
    result = Harness(tmp_path, _args(content="x")).run()
    assert result["failed"] is True
    assert "content" in result["msg"]


# ---------------------------------------------------------------------------
# A real run through ansible-playbook against localhost
# ---------------------------------------------------------------------------

PLAYBOOK = textwrap.dedent(
    """\
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: Install the compose file
          stickforstats.deploy.compose_rewrite:
            src: docker-compose.prod.yml
            dest: "{{ dest }}"
            images:
              backend: registry:5000/stickforstats/backend
              worker: registry:5000/stickforstats/backend
            version: "{{ version }}"
            mode: "0640"
          register: result

        - name: Show the services
          ansible.builtin.debug:
            msg: "services={{ result.services | map(attribute='image') | join(',') }}"
    """
)


def _playbook(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    playbook = Path(sys.executable).with_name("ansible-playbook")
    if not playbook.exists():
        pytest.skip("ansible-playbook is not installed next to this Python")
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")},
        "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_NOCOLOR": "true",
    }
    command = [str(playbook), "-i", "localhost,", "-c", "local", "play.yml"]
    command += ["-e", f"dest={tmp_path / 'out' / 'compose.yml'}", *extra]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=300
    )


def test_playbook_run_is_idempotent_and_supports_check_diff(tmp_path: Path) -> None:
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "docker-compose.prod.yml").write_text(COMPOSE)
    (tmp_path / "out").mkdir()
    dest = tmp_path / "out" / "compose.yml"

    first = _playbook(tmp_path, "-e", "version=c0ffee1")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "changed=1" in first.stdout
    assert f"services={BACKEND}:c0ffee1,{BACKEND}:c0ffee1" in first.stdout
    written = dest.read_text()
    assert yaml.safe_load(written)["services"]["worker"] == {"image": f"{BACKEND}:c0ffee1"}
    assert oct(dest.stat().st_mode & 0o777) == "0o640"

    second = _playbook(tmp_path, "-e", "version=c0ffee1")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "changed=0" in second.stdout

    check = _playbook(tmp_path, "-e", "version=c0ffee2", "--check", "--diff")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "changed=1" in check.stdout
    assert f"-    image: {BACKEND}:c0ffee1" in check.stdout
    assert f"+    image: {BACKEND}:c0ffee2" in check.stdout
    assert dest.read_text() == written, "check mode writes nothing"

    failed = _playbook(tmp_path, "-e", '{"version": "bad tag"}')
    assert failed.returncode != 0
    assert "version 'bad tag' is not a valid image tag" in failed.stdout
