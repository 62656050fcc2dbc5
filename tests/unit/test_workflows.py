"""What the GitHub Actions workflows must keep, beyond actionlint and zizmor (no Docker needed).

actionlint checks syntax, expressions and (with shellcheck) the scripts; zizmor checks
injection, credentials and permissions. These tests pin down this repository's own rules:
host keys are always checked, every action is pinned to a commit, secrets reach scripts
only through the environment, the vault password file is always removed, production
deploys go through the `production` environment, and `ci.yml` runs `.ci/run`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
DEPLOY_WORKFLOWS = ("deploy-staging.yml", "deploy-production.yml", "rollback.yml")
VAULT_PASSWORD_FILE = "$RUNNER_TEMP/vault-password"
# Spelt in pieces, so that no line of this file turns checking off in the eyes of a grep.
STRICT = "StrictHost" + "KeyChecking"
OFF_VALUES = "no|off|false|0|accept-new"
CHECKING = "host_key_" + "checking"

# Not part of the tracked tree: tool caches, the venv, harness state.
EXCLUDED_DIRS = {
    ".git", ".venv", ".cache", ".state", ".hypothesis", ".pytest_cache", ".ruff_cache",
    "__pycache__", "node_modules",
}  # fmt: skip


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    # PyYAML (YAML 1.1) reads the key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True))
    return (
        on
        if isinstance(on, dict)
        else {name: None for name in ([on] if isinstance(on, str) else on)}
    )


def all_workflows() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def jobs_of(path: Path) -> dict[str, dict]:
    return yaml.safe_load(path.read_text())["jobs"]


def jobs_running_playbooks() -> list[tuple[str, str, dict]]:
    found = []
    for name in DEPLOY_WORKFLOWS:
        for job_id, job in load(name)["jobs"].items():
            if any("ansible-playbook" in step.get("run", "") for step in job.get("steps", [])):
                found.append((name, job_id, job))
    return found


def ignored_by_gitignore() -> tuple[set[str], set[Path]]:
    """Directory entries of .gitignore: bare names (anywhere) and paths (from the root)."""
    names, paths = set(), set()
    for line in (REPO / ".gitignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")) or not line.endswith("/") or "*" in line:
            continue
        entry = line.strip("/")
        if "/" in entry:
            paths.add(REPO / entry)
        else:
            names.add(entry)
    return names, paths


def repo_text_files() -> list[Path]:
    names, paths = ignored_by_gitignore()
    skip_names = EXCLUDED_DIRS | names
    files = []
    stack = [REPO]
    while stack:
        directory = stack.pop()
        for entry in directory.iterdir():
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if entry.name not in skip_names and entry not in paths:
                    stack.append(entry)
            elif entry.is_file() and entry.suffix not in {".pyc", ".retry"}:
                data = entry.read_bytes()
                if b"\0" not in data[:8192]:
                    files.append(entry)
    return files


# ---------------------------------------------------------------- host keys


def test_the_repository_scan_sees_the_files_that_matter() -> None:
    files = {p.relative_to(REPO).as_posix() for p in repo_text_files()}
    for expected in ("ansible.cfg", "inventories/sandbox/hosts.yml", ".github/workflows/ci.yml"):
        assert expected in files
    assert not any(f.startswith((".venv/", ".git/", ".state/", ".cache/")) for f in files)


def host_key_checking_problems() -> list[str]:
    assigned = re.compile(rf"{STRICT}\s*=\s*[\"']?([\w${{}}.-]*)", re.IGNORECASE)
    disabling = re.compile(rf"{STRICT}[\"']?\s*[=:,\s]\s*[\"']?({OFF_VALUES})\b", re.IGNORECASE)
    checking = re.compile(rf"{CHECKING}[\"']?\s*[=:]\s*[\"']?([\w-]+)", re.IGNORECASE)
    null_known_hosts = re.compile(r"KnownHostsFile\s*[=\s]\s*[\"']?/dev/null", re.IGNORECASE)
    problems = []
    for path in repo_text_files():
        rel = path.relative_to(REPO)
        for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if (
                any(m.group(1).lower() != "yes" for m in assigned.finditer(line))
                or disabling.search(line)
                or any(
                    m.group(1).lower() not in {"true", "yes", "1"} for m in checking.finditer(line)
                )
                or null_known_hosts.search(line)
            ):
                problems.append(f"{rel}:{lineno}: {line.strip()}")
    return problems


def test_host_key_checking_is_never_turned_off_anywhere_in_the_repository() -> None:
    """Not in config, code, docs or comments.

    Where ssh's strict host key checking option is assigned, the value is `yes`; in any other
    form (ssh_config, YAML, JSON, lists) no disabling value follows it. Ansible's host key
    checking setting (ansible.cfg, ANSIBLE_* variable) may only be true; no known_hosts file
    is /dev/null.
    """
    problems = host_key_checking_problems()
    assert not problems, problems


def test_the_host_key_scan_recognises_every_way_of_turning_checking_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = [
        f"-o {STRICT}=no",
        f"ssh -o {STRICT}=accept-new host",
        f"# {STRICT} no",
        f'{{"{STRICT}": "off"}}',
        f'["-o", "{STRICT}=false"]',
        f"{CHECKING} = False",
        f"ANSIBLE_{CHECKING.upper()}=0",
        "-o UserKnownHostsFile=" + "/dev/null",
    ]
    good = [f"-o {STRICT}=yes", f"# {STRICT} is never turned off", f"{CHECKING} = true"]
    (tmp_path / ".gitignore").write_text(".venv/\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    (tmp_path / "good.txt").write_text("\n".join(good) + "\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "ignored.txt").write_text(bad[0] + "\n")
    assert host_key_checking_problems() == []
    for line in bad:
        (tmp_path / "bad.txt").write_text(line + "\n")
        assert host_key_checking_problems() == [f"bad.txt:1: {line}"], line


@pytest.mark.parametrize("env", ["staging", "production"])
def test_staging_and_production_pin_host_keys_in_their_known_hosts(env: str) -> None:
    inventory = yaml.safe_load((REPO / "inventories" / env / "hosts.yml").read_text())
    args = " ".join(inventory["stickforstats_servers"]["vars"]["ansible_ssh_common_args"].split())
    assert "-o UserKnownHostsFile={{ inventory_dir }}/known_hosts" in args
    assert "-o StrictHostKeyChecking=yes" in args
    known_hosts = (REPO / "inventories" / env / "known_hosts").read_text()
    # Every host has a line there (a marked example until its real key is pinned).
    for host in inventory["stickforstats_servers"]["hosts"]:
        assert re.search(rf"^(# PLACEHOLDER-EXAMPLE )?{re.escape(host)}[ ,]", known_hosts, re.M), (
            host
        )
    # An example line is never live: a placeholder key must stay commented out.
    for line in known_hosts.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert "AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" not in line, line


def test_deploy_jobs_refuse_to_run_without_a_pinned_host_key() -> None:
    for name, job_id, job in jobs_running_playbooks():
        scripts = "\n".join(step.get("run", "") for step in job["steps"])
        assert "SSH_KNOWN_HOSTS" in scripts, (name, job_id)
        assert "inventories/$DEPLOY_ENVIRONMENT/known_hosts" in scripts, (name, job_id)
        assert "no host key pinned" in scripts, (name, job_id)


# ---------------------------------------------------------------- actions pinned


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version() -> None:
    pinned = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
    uses_line = re.compile(r"^\s*(?:-\s*)?uses:\s*(.+?)\s*$")
    seen = 0
    for path in all_workflows():
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            match = uses_line.match(line)
            if not match:
                continue
            seen += 1
            ref = match.group(1)
            assert ref.startswith("./") or pinned.match(ref), f"{path.name}:{lineno}: {ref}"
    assert seen >= 5


def test_the_same_action_is_pinned_to_the_same_commit_everywhere() -> None:
    refs: dict[str, set[str]] = {}
    for path in all_workflows():
        for match in re.finditer(r"uses:\s*([\w.-]+/[\w./-]+)@(\S+ # \S+)", path.read_text()):
            refs.setdefault(match.group(1), set()).add(match.group(2))
    assert refs
    assert all(len(versions) == 1 for versions in refs.values()), refs


# ---------------------------------------------------------------- secrets and inputs


def test_no_secret_or_input_is_interpolated_into_a_script() -> None:
    """Secrets and inputs reach `run:` scripts only through `env:`."""
    problems = []
    for path in all_workflows():
        for job_id, job in jobs_of(path).items():
            for step in job.get("steps", []):
                script = step.get("run", "")
                if "${{" in script:
                    problems.append(f"{path.name}/{job_id}/{step.get('name')}: {script!r}")
        # Also as raw text, whatever the YAML structure.
        in_run = re.findall(r"run:[^\n]*\$\{\{\s*secrets\.", path.read_text())
        problems += [f"{path.name}: {hit}" for hit in in_run]
    assert not problems, problems


def test_every_playbook_job_removes_the_vault_password_file_in_an_always_step() -> None:
    found = jobs_running_playbooks()
    assert {(name, job_id) for name, job_id, _ in found} == {
        ("deploy-staging.yml", "deploy"),
        ("deploy-production.yml", "deploy"),
        ("rollback.yml", "rollback"),
    }
    for name, job_id, job in found:
        steps = job["steps"]
        writes = [
            i for i, s in enumerate(steps) if "ANSIBLE_VAULT_PASSWORD" in str(s.get("env", {}))
        ]
        assert len(writes) == 1, (name, job_id)
        writer = steps[writes[0]]["run"]
        assert "umask 077" in writer and f'> "{VAULT_PASSWORD_FILE}"' in writer, (name, job_id)
        assert "printf '%s' \"$ANSIBLE_VAULT_PASSWORD\"" in writer, (name, job_id)
        playbook = max(i for i, s in enumerate(steps) if "ansible-playbook" in s.get("run", ""))
        assert f'--vault-password-file "{VAULT_PASSWORD_FILE}"' in steps[playbook]["run"]
        cleanups = [
            i
            for i, s in enumerate(steps)
            if str(s.get("if", "")).replace(" ", "") in {"always()", "${{always()}}"}
            and re.search(rf'rm -f "{re.escape(VAULT_PASSWORD_FILE)}"', s.get("run", ""))
        ]
        assert cleanups and min(cleanups) > playbook, (name, job_id)


def test_the_ssh_key_goes_to_an_agent_and_never_to_a_file() -> None:
    for name, job_id, job in jobs_running_playbooks():
        steps = [s for s in job["steps"] if "SSH_PRIVATE_KEY" in str(s.get("env", {}))]
        assert len(steps) == 1, (name, job_id)
        script = steps[0]["run"]
        assert 'ssh-agent -s -a "$SSH_AUTH_SOCK"' in script
        assert '"$SSH_PRIVATE_KEY" | ssh-add -q -' in script
        assert "SSH_AUTH_SOCK=$SSH_AUTH_SOCK" in script and "$GITHUB_ENV" in script
        assert not re.search(r"SSH_PRIVATE_KEY\"?\s*>", script)


def test_the_rollback_version_is_validated_before_use() -> None:
    workflow = load("rollback.yml")
    inputs = triggers(workflow)["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["options"] == ["staging", "production"]
    assert inputs["version"]["required"] is False
    job = workflow["jobs"]["rollback"]
    assert job["env"]["ROLLBACK_TO"] == "${{ inputs.version }}"
    first = job["steps"][0]["run"]
    assert '[[ "$ROLLBACK_TO" =~ ^[0-9a-f]{7,40}$ ]]' in first
    assert "staging | production)" in first
    rollback = next(s["run"] for s in job["steps"] if "ansible-playbook" in s.get("run", ""))
    assert "ansible-playbook rollback.yml" in rollback
    assert '-e "rollback_to=$ROLLBACK_TO"' in rollback


# ---------------------------------------------------------------- environments, triggers, privileges


def test_production_deploys_main_through_the_production_environment() -> None:
    workflow = load("deploy-production.yml")
    assert triggers(workflow) == {"push": {"branches": ["main"]}}
    job = workflow["jobs"]["deploy"]
    assert job["environment"] == "production"
    assert job["env"]["DEPLOY_ENVIRONMENT"] == "production"
    run = next(s["run"] for s in job["steps"] if "ansible-playbook" in s.get("run", ""))
    assert "ansible-playbook deploy.yml" in run and '-e "app_version=$APP_VERSION"' in run
    assert job["env"]["APP_VERSION"] == "${{ github.sha }}"


def test_staging_deploys_develop_through_the_staging_environment() -> None:
    workflow = load("deploy-staging.yml")
    assert triggers(workflow) == {"push": {"branches": ["develop"]}}
    assert workflow["jobs"]["deploy"]["environment"] == "staging"


def test_staging_and_production_deploy_jobs_differ_only_in_the_environment() -> None:
    staging = yaml.safe_dump(load("deploy-staging.yml")["jobs"]["deploy"], sort_keys=True)
    production = yaml.safe_dump(load("deploy-production.yml")["jobs"]["deploy"], sort_keys=True)
    assert production.replace("production", "staging") == staging


def test_jobs_with_secrets_run_in_an_environment_one_at_a_time() -> None:
    for name, job_id, job in jobs_running_playbooks():
        assert job.get("environment"), (name, job_id)
        concurrency = job["concurrency"]
        assert concurrency["cancel-in-progress"] is False, (name, job_id)
        # Deploys and rollbacks of one environment share one group.
        assert concurrency["group"] == f"stickforstats-deploy-{job['environment']}", (name, job_id)


def test_least_privilege_and_timeouts() -> None:
    for path in all_workflows():
        workflow = yaml.safe_load(path.read_text())
        assert workflow.get("permissions") == {}, path.name
        for job_id, job in workflow["jobs"].items():
            assert isinstance(job.get("timeout-minutes"), int), (path.name, job_id)
            permissions = job.get("permissions")
            assert isinstance(permissions, dict), (path.name, job_id)
            writes = {scope for scope, level in permissions.items() if level != "read"}
            expected = (
                {"contents"} if (path.name, job_id) == ("deploy-production.yml", "tag") else set()
            )
            assert writes == expected, (path.name, job_id, permissions)


def test_production_success_tags_the_release_with_a_step_scoped_token() -> None:
    jobs = load("deploy-production.yml")["jobs"]
    tag = jobs["tag"]
    assert tag["needs"] == "deploy"
    assert tag["permissions"] == {"contents": "write"}
    push = next(s for s in tag["steps"] if "git push" in s.get("run", ""))
    assert push["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert 'tag="release-$(date -u +%Y%m%d-%H%M%S)-${APP_VERSION:0:7}"' in push["run"]
    # Only this step sees the token.
    assert yaml.safe_dump(tag).count("github.token") == 1
    assert "token" not in next(s for s in tag["steps"] if "uses" in s)["with"]


def test_checkouts_keep_no_credentials() -> None:
    for path in all_workflows():
        for job_id, job in jobs_of(path).items():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, (path.name, job_id)


# ---------------------------------------------------------------- this repository's CI


def test_ci_runs_the_readme_test_command_through_ci_run() -> None:
    workflow = load("ci.yml")
    on = triggers(workflow)
    assert "push" in on and "pull_request" in on
    (job,) = workflow["jobs"].values()
    assert job["timeout-minutes"] > 0
    assert any(step.get("run", "").strip() == "bash .ci/run" for step in job["steps"])
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_make_lint_runs_actionlint_and_zizmor_on_the_workflows() -> None:
    makefile = (REPO / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/actionlint .github/workflows/*.yml" in lint
    assert "$(BIN)/zizmor --offline .github/workflows" in lint


def test_every_playbook_step_gives_the_webhook_its_url_from_a_secret() -> None:
    """The deploy_summary callback's webhook reads STICKFORSTATS_NOTIFY_URL: the step running the
    playbook has it, from a secret (a Slack webhook's path is its credential)."""
    for name, job_id, job in jobs_running_playbooks():
        (step,) = [s for s in job["steps"] if "ansible-playbook" in s.get("run", "")]
        url = (step.get("env") or {}).get("STICKFORSTATS_NOTIFY_URL", "")
        assert re.fullmatch(r"\$\{\{ secrets\.STICKFORSTATS_NOTIFY_URL \}\}", url), (
            name,
            job_id,
            url,
        )


# ---------------------------------------------------------------- the deploy tooling (issue 15)

TOOLING_VARIABLES = ("STICKFORSTATS_DEPLOY_REPOSITORY", "STICKFORSTATS_DEPLOY_REF")


def tooling_guard(workflow: dict, job: dict) -> tuple[str, dict]:
    """The job that `job` needs which checks the tooling variables outside any environment."""
    needs = job.get("needs", [])
    needs = [needs] if isinstance(needs, str) else needs
    guards = [
        (job_id, workflow["jobs"][job_id])
        for job_id in needs
        if all(v in str(workflow["jobs"][job_id].get("steps", "")) for v in TOOLING_VARIABLES)
    ]
    assert len(guards) == 1, needs
    return guards[0]


def run_guard(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("name", DEPLOY_WORKFLOWS)
def test_the_deploy_tooling_is_named_by_the_environments_own_variables(name: str) -> None:
    """The repository and commit of this collection come from variables of the GitHub
    environment the job runs in (`production`'s for a production deploy), which its
    reviewers see, never from repository or organization variables.

    In a job with `environment:`, `vars` resolves the environment's variables first but falls
    back to a repository or organization variable of the same name. So the variables are read
    only in the steps of that job, and a job it needs, outside any environment (where `vars`
    holds only repository and organization variables), refuses the run when either name is
    set there.
    """
    workflow = load(name)
    ((job_id, job),) = [
        (i, j)
        for i, j in workflow["jobs"].items()
        if any("ansible-playbook" in s.get("run", "") for s in j.get("steps", []))
    ]
    assert job.get("environment"), job_id
    expected_environment = {
        "deploy-staging.yml": "staging",
        "deploy-production.yml": "production",
        "rollback.yml": "${{ inputs.environment }}",
    }[name]
    assert job["environment"] == expected_environment

    # Read in the environment job's steps only: the checkout, and the check before it.
    checkout = next(s for s in job["steps"] if s.get("with", {}).get("repository"))
    assert checkout["with"]["repository"] == "${{ vars.STICKFORSTATS_DEPLOY_REPOSITORY }}"
    assert checkout["with"]["ref"] == "${{ vars.STICKFORSTATS_DEPLOY_REF }}"
    job_level = {k: v for k, v in job.items() if k != "steps"}
    assert "STICKFORSTATS_DEPLOY_RE" not in yaml.safe_dump(job_level), job_level

    # The guard: outside any environment, before it; it holds no secret and no permission.
    guard_id, guard = tooling_guard(workflow, job)
    assert "environment" not in guard and guard.get("permissions") == {}, guard_id
    assert "secrets." not in yaml.safe_dump(guard)
    (step,) = [s for s in guard["steps"] if "STICKFORSTATS_DEPLOY_REF" in str(s.get("env"))]
    names = {value: key for key, value in step["env"].items()}
    script = step["run"]
    for variable in TOOLING_VARIABLES:
        assert f"${{{{ vars.{variable} }}}}" in names, (guard_id, step["env"])
    assert run_guard(script, dict.fromkeys(names.values(), "")).returncode == 0
    for variable in TOOLING_VARIABLES:
        env = dict.fromkeys(names.values(), "")
        env[names[f"${{{{ vars.{variable} }}}}"]] = "someone/stickforstats-deploy"
        refused = run_guard(script, env)
        assert refused.returncode != 0 and variable in refused.stdout, (variable, refused)

    # No other place of the workflow reads them.
    others = {
        "workflow": {k: v for k, v in workflow.items() if k != "jobs"},
        **{i: j for i, j in workflow["jobs"].items() if i not in {job_id, guard_id}},
    }
    for where, value in others.items():
        assert "STICKFORSTATS_DEPLOY_RE" not in yaml.safe_dump(value), where
