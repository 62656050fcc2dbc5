"""The deploy jobs install a hash-pinned runtime, and that install works (issue 15).

The jobs that hold the SSH key and the vault password install the controller runtime from
requirements/deploy-runtime.lock.txt with `--require-hashes --no-deps --only-binary :all:`:
every package pinned, every file checked against its sha256, nothing built from source.

The install test is a real one: a throwaway venv, the install command of the workflows, then
`ansible-playbook --version` and `pip check` from that venv. Its controls install temp copies
of the lock with a wrong hash, and with a package's hashes left out: pip must refuse both.
Needs PyPI (the lock's hashes are those of PyPI's files); pip's cache makes it quick.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "requirements"
LOCK = REQUIREMENTS / "deploy-runtime.lock.txt"
LOCK_INPUT = REQUIREMENTS / "deploy-runtime.in"
LOCK_SCRIPT = REQUIREMENTS / "lock-deploy-runtime.sh"
WORKFLOWS = REPO / ".github" / "workflows"
DEPLOY_WORKFLOWS = ("deploy-staging.yml", "deploy-production.yml", "rollback.yml")
INSTALL = (
    "python -m pip install -q --require-hashes --no-deps --only-binary :all: "
    "-r requirements/deploy-runtime.lock.txt"
)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})\b")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_blocks(text: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, sha256 hashes) of a pip-compile'd requirements file."""
    blocks: dict[str, tuple[str, list[str]]] = {}
    logical = re.sub(r"\\\n", " ", text)
    for line in logical.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"not a pinned requirement: {line!r}"
        blocks[canonical(match.group(1))] = (match.group(2), HASH.findall(line))
    return blocks


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def deploy_jobs() -> list[tuple[str, str, dict]]:
    found = []
    for name in DEPLOY_WORKFLOWS:
        workflow = yaml.safe_load((WORKFLOWS / name).read_text())
        for job_id, job in workflow["jobs"].items():
            if any("ansible-playbook" in s.get("run", "") for s in job.get("steps", [])):
                found.append((name, job_id, job))
    return found


# ---------------------------------------------------------------- the lock


def test_the_lock_pins_every_package_with_its_hashes() -> None:
    text = LOCK.read_text()
    blocks = requirement_blocks(text)
    assert {"ansible", "ansible-core", "mitogen", "jinja2", "pyyaml", "cryptography"} <= set(blocks)
    for name, (version, hashes) in blocks.items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), (name, version)
        assert hashes, f"{name}: no --hash"
    # Nothing that would send pip elsewhere or around the hashes.
    for option in ("--index-url", "--extra-index-url", "--find-links", "-e ", "--trusted-host"):
        assert option not in text, option
    assert "://" not in text


def test_the_lock_is_the_runtime_of_the_workflows_and_of_this_repository() -> None:
    """The top-level pins are runtime.txt's, and every locked version is the one that
    requirements/constraints.txt tests here."""
    locked = {name: version for name, (version, _) in requirement_blocks(LOCK.read_text()).items()}
    top = pins(LOCK_INPUT)
    # ruamel.yaml: the compose_rewrite action's YAML round trip, on the controller.
    assert set(top) == {"ansible", "ansible-core", "mitogen", "ruamel-yaml"}
    runtime = pins(REQUIREMENTS / "runtime.txt")
    for name, version in top.items():
        assert runtime[name] == version == locked[name], name
    constraints = pins(REQUIREMENTS / "constraints.txt")
    assert {n: v for n, v in locked.items() if constraints.get(n) != v} == {}
    # The controller never uses the docker SDK (modules on the hosts do).
    assert "docker" not in locked and "requests" not in locked


def test_the_lock_has_a_make_target_that_regenerates_it() -> None:
    makefile = (REPO / "Makefile").read_text()
    target = makefile.split("\ndeploy-lock:", 1)[1].split("\n\n", 1)[0]
    assert "requirements/lock-deploy-runtime.sh" in target
    script = LOCK_SCRIPT.read_text()
    assert "--generate-hashes" in script and "requirements/deploy-runtime.in" in script
    assert "--output-file requirements/deploy-runtime.lock.txt" in script
    assert os.access(LOCK_SCRIPT, os.X_OK)
    assert "make deploy-lock" in LOCK.read_text()


# ---------------------------------------------------------------- the workflows


def test_the_deploy_jobs_install_only_the_hash_pinned_lock() -> None:
    jobs = deploy_jobs()
    assert {(name, job_id) for name, job_id, _ in jobs} == {
        ("deploy-staging.yml", "deploy"),
        ("deploy-production.yml", "deploy"),
        ("rollback.yml", "rollback"),
    }
    for name, job_id, job in jobs:
        installs = [s for s in job["steps"] if "pip" in s.get("run", "")]
        assert len(installs) == 1, (name, job_id)
        step = installs[0]
        assert " ".join(step["run"].replace("\\\n", " ").split()) == INSTALL, (name, job_id)
        assert step.get("working-directory") == "stickforstats-deploy", (name, job_id)
        # Installed before the vault password and the SSH key reach the job's steps.
        steps = job["steps"]
        first_secret = min(
            i
            for i, s in enumerate(steps)
            if {"ANSIBLE_VAULT_PASSWORD", "SSH_PRIVATE_KEY"} & set(s.get("env", {}))
        )
        assert steps.index(step) < first_secret, (name, job_id)


def test_the_deploy_jobs_set_up_the_python_the_lock_is_made_for() -> None:
    header = LOCK.read_text()
    match = re.search(r"autogenerated by pip-compile with Python (3\.\d+)", header)
    assert match, "the lock's header names its Python"
    for name, job_id, job in deploy_jobs():
        (setup,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/setup-")]
        assert str(setup["with"]["python-version"]) == match.group(1), (name, job_id)


# ---------------------------------------------------------------- the install, for real


def isolated_pip_env() -> dict[str, str]:
    """pip as on a GitHub runner: PyPI, no local find-links, indexes or constraints."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "PIP_FIND_LINKS",
            "PIP_EXTRA_INDEX_URL",
            "PIP_CONSTRAINT",
            "PIP_NO_INDEX",
            "PIP_REQUIRE_HASHES",
            "PIP_NO_DEPS",
            "PYTHONPATH",
            "VIRTUAL_ENV",
        }
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def fresh_venv(path: Path) -> Path:
    """An empty venv (no pip: ensurepip is slow; pip runs into it with --python)."""
    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    return path / "bin"


def workflow_install(bin_dir: Path, lock: Path) -> subprocess.CompletedProcess[str]:
    """The workflows' install command into the venv `bin_dir` with the given lock, run by
    this interpreter's pip (`pip --python`: it installs with, and for, the venv's python)."""
    argv = shlex.split(INSTALL)
    assert argv[:4] == ["python", "-m", "pip", "install"] and argv[-2] == "-r"
    argv = [
        sys.executable, "-m", "pip", "--python", str(bin_dir / "python"),
        *argv[3:-1], str(lock), "--no-compile",
    ]  # fmt: skip
    return subprocess.run(
        argv, cwd=REPO, env=isolated_pip_env(), capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bin_dir = fresh_venv(tmp_path_factory.mktemp("deploy-runtime") / "venv")
    result = workflow_install(bin_dir, LOCK)
    assert result.returncode == 0, result.stdout + result.stderr
    return bin_dir


def test_the_lock_installs_with_require_hashes_and_runs_ansible_playbook(installed: Path) -> None:
    env = {k: v for k, v in isolated_pip_env().items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = f"{installed}{os.pathsep}{env.get('PATH', '')}"
    version = subprocess.run(
        [str(installed / "ansible-playbook"), "--version"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert version.returncode == 0, version.stdout + version.stderr
    core = requirement_blocks(LOCK.read_text())["ansible-core"][0]
    assert f"ansible-playbook [core {core}]" in version.stdout
    assert str(installed.parent) in version.stdout  # this venv's, not .venv's
    # --no-deps: nothing the lock forgot; and the controller's imports work.
    check = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(installed / "python"), "check"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    imports = subprocess.run(
        [str(installed / "python"), "-c", "import ansible_mitogen.strategy, yaml, jinja2, ruamel.yaml"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert imports.returncode == 0, imports.stderr
    collections = subprocess.run(
        [str(installed / "ansible-galaxy"), "collection", "list", "community.docker"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert collections.returncode == 0 and "community.docker" in collections.stdout, (
        collections.stdout + collections.stderr
    )


def tampered_copy(tmp_path: Path, package: str, how: str) -> Path:
    """The lock with `package`'s hashes wrong ("wrong") or left out ("missing")."""
    lines = LOCK.read_text().splitlines(keepends=True)
    out, current, changed = [], None, 0
    for line in lines:
        match = PIN.match(line)
        if match:
            current = canonical(match.group(1))
        if current == package and "--hash=sha256:" in line:
            changed += 1
            if how == "missing":
                continue
            line = re.sub(r"sha256:([0-9a-f])", lambda m: "sha256:" + "0f"[m.group(1) == "0"], line)
        out.append(line)
    assert changed, package
    text = "".join(out)
    if how == "missing":  # the requirement line's continuation ends with the removed hashes
        text = re.sub(rf"^({re.escape(package)}==\S+) \\\n", r"\1\n", text, flags=re.M)
    copy = tmp_path / "deploy-runtime.lock.txt"
    copy.write_text(text)
    return copy


@pytest.mark.parametrize("how", ["wrong", "missing"])
def test_control_the_install_refuses_a_tampered_lock(tmp_path: Path, how: str) -> None:
    """A control for the test above: the same install fails when a hash does not match
    (or is not there), and installs nothing."""
    bin_dir = fresh_venv(tmp_path / "venv")
    result = workflow_install(bin_dir, tampered_copy(tmp_path, "resolvelib", how))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    if how == "wrong":
        assert "DO NOT MATCH THE HASHES" in output and "resolvelib" in output, output
    else:
        assert "Hashes are required in --require-hashes mode" in output, output
    assert not list((tmp_path / "venv").glob("lib/python*/site-packages/ansible"))


def test_the_tampering_helper_changes_only_the_named_package(tmp_path: Path) -> None:
    original = requirement_blocks(LOCK.read_text())
    tampered = requirement_blocks(tampered_copy(tmp_path, "resolvelib", "wrong").read_text())
    assert tampered.keys() == original.keys()
    for name, (version, hashes) in original.items():
        assert tampered[name][0] == version
        if name == "resolvelib":
            assert len(tampered[name][1]) == len(hashes) and not set(tampered[name][1]) & set(
                hashes
            )
        else:
            assert tampered[name][1] == hashes, name


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
