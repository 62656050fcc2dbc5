"""The deploy_summary callback and its webhook: its docs render, the POST is bounded and
never raises, a task file renamed changes no figure, and a local run (no target) prints
the summary and posts it. tests/integration/test_summary_notify.py runs it on a real
target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ansible_collections.stickforstats.deploy.plugins.callback import deploy_summary
from ansible_collections.stickforstats.deploy.plugins.plugin_utils import _summary_collector
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._deploy_summary import (
    payload,
    summary_lines,
)
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._webhook import post

REPO = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO / "tests" / "harness"))
from webhook import Receiver  # noqa: E402

BIN = Path(sys.executable).parent
NAMES = ["stickforstats.deploy.deploy_summary"]


def test_the_webhook_is_configured_from_the_environment_with_a_short_bound():
    # that every callback's docs render: tests/unit/plugins/test_ansible_doc.py
    proc = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "callback", "--json", "stickforstats.deploy.deploy_summary"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    options = json.loads(proc.stdout)["stickforstats.deploy.deploy_summary"]["doc"]["options"]
    assert options["url"]["env"] == [{"name": "STICKFORSTATS_NOTIFY_URL"}]
    assert options["timeout"]["default"] == 5
    # the section the former deploy_notify callback read still sets them
    assert {"section": "callback_deploy_notify", "key": "url"} in options["url"]["ini"]


def test_ansible_cfg_enables_it_beside_profile_tasks():
    proc = subprocess.run(
        [str(BIN / "ansible-config"), "dump", "--format", "json"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    enabled = next(s["value"] for s in json.loads(proc.stdout) if s["name"] == "CALLBACKS_ENABLED")
    assert enabled == ["ansible.posix.profile_tasks", *NAMES]


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(status: int | None) -> Receiver:
        made.append(Receiver(status))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_post_to_a_webhook_that_answers(receiver):
    hook = receiver(200)
    assert post(hook.url, {"text": "hi"}, 5) is None
    assert hook.messages() == [{"text": "hi"}]


def test_post_to_a_webhook_that_fails(receiver):
    assert post(receiver(500).url, {"text": "hi"}, 5) == "it answered HTTP 500"
    refused = post("http://127.0.0.1:9/services/T0/B0/hooktoken", {}, 5)
    assert refused and "hooktoken" not in refused
    assert post("file:///etc/passwd", {}, 5) == "the URL is not a valid http(s) URL"


def test_a_redirect_is_not_a_delivery(receiver):
    hook = receiver(302)
    assert post(hook.url, {"text": "hi"}, 5) == "it answered HTTP 302"
    assert hook.messages() == [{"text": "hi"}] and hook.gets == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/services/T0/B0/hook secrettoken",
        "http://127.0.0.1:9/services/T0/B0/hook\nsecrettoken",
        "http://[::1/services/T0/B0/hooksecrettoken",
        "https:///services/T0/B0/hooksecrettoken",
    ],
)
def test_a_malformed_url_is_refused_without_showing_its_path(url):
    started = time.monotonic()
    why = post(url, {"text": "hi"}, 5)
    assert why == "the URL is not a valid http(s) URL"
    assert time.monotonic() - started < 1  # refused at once, not after the timeout


def test_post_to_a_webhook_that_hangs_is_bounded(receiver):
    hook = receiver(None)
    started = time.monotonic()
    assert post(hook.url, {"text": "hi"}, 1.5) == "no answer within 1.5s"
    assert time.monotonic() - started < 1.5 + 1.5  # the bound, and a loaded machine
    deadline = time.monotonic() + 10
    while not hook.posts and time.monotonic() < deadline:  # the server's thread, under load
        time.sleep(0.05)
    assert hook.messages() == [{"text": "hi"}]


# -- phases from tags: a task file renamed or moved changes no figure ----------------------


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_name(self) -> str:
        return self.name


class _Task(_Named):
    def __init__(self, uuid: str, path: str, tags: list[str]) -> None:
        super().__init__(f"task {uuid}")
        self._uuid, self.path, self.tags, self.action = uuid, path, tags, "ansible.builtin.debug"

    def get_path(self) -> str:
        return self.path


class _Result:
    def __init__(self, host: _Named, task: _Task) -> None:
        self._host, self._task = host, task


class _Stats:
    def __init__(self, entries: dict) -> None:
        self.custom = {"_run": {"stickforstats_summary": entries}}
        self.processed = {host: 1 for host in entries}
        self.failures: dict = {}
        self.dark: dict = {}


R = "/r/roles/"
# (host, task file, tags, seconds): a deploy on web-1, one rolled back on web-2
RUN = [
    ("web-1", R + "deploy/tasks/preflight.yml:3", ["deploy_preflight"], 0.5),
    ("web-1", R + "release_core/tasks/lock.yml:2", ["release_lock"], 0.25),
    ("web-1", R + "deploy/tasks/pull.yml:3", ["deploy_pull"], 2.0),
    ("web-1", R + "deploy/tasks/pin.yml:3", ["deploy_pin", "always"], 0.5),
    ("web-1", R + "deploy/tasks/pull_helpers.yml:1", [], 1.0),  # no tag: the pull's
    ("web-1", R + "deploy/tasks/migrate.yml:2", ["deploy_migrate"], 1.5),
    ("web-1", R + "release_core/tasks/switch.yml:8", ["release_switch"], 6.25),
    ("web-1", R + "health/tasks/main.yml:2", ["deploy_verify", "release_verify"], 2.2),
    ("web-1", R + "deploy/tasks/record.yml:30", ["deploy_record"], 0.3),
    ("web-2", R + "deploy/tasks/pull.yml:3", ["deploy_pull"], 1.0),
    ("web-2", R + "release_core/tasks/switch.yml:8", ["release_switch"], 3.0),
    ("web-2", R + "health/tasks/main.yml:2", ["release_verify"], 4.0),
    ("web-2", R + "deploy/tasks/recover.yml:2", ["deploy_recover"], 0.25),
    (
        "web-2",
        R + "release_core/tasks/restore.yml:9",
        ["deploy_recover", "release_switch"],
        5.0,
    ),
    ("web-2", R + "health/tasks/main.yml:2", ["release_verify", "deploy_recover"], 2.0),
    ("web-2", "", ["always"], 0.1),  # a role's argument check: the rollback's
]
ENTRIES = {
    "web-1": {"event": "deploy", "version": "c0ffee2", "previous": "c0ffee1",
              "after": "c0ffee2", "outcome": "success", "health_attempts": 2,
              "environment": "unit", "by": "tester"},
    "web-2": {"event": "deploy", "version": "c0ffee2", "previous": "c0ffee1",
              "after": "c0ffee1", "outcome": "rolled_back", "health_attempts": 5,
              "rollback_health_attempts": 1, "environment": "unit", "by": "tester"},
}  # fmt: skip


def collect(monkeypatch, run: list) -> deploy_summary.CallbackModule:
    """The callback after it saw RUN's tasks (each on its host, for its seconds)."""
    clock = [1000.0]
    monkeypatch.setattr(_summary_collector.time, "monotonic", lambda: clock[0])
    callback = deploy_summary.CallbackModule()
    for n, (host, path, tags, seconds) in enumerate(run):
        task, who = _Task(str(n), path, tags), _Named(host)
        callback.v2_playbook_on_task_start(task, False)
        callback.v2_runner_on_start(who, task)
        clock[0] += seconds
        callback.v2_runner_on_ok(_Result(who, task))
    return callback


def test_phases_come_from_tags_each_task_timed_once(monkeypatch):
    rows = collect(monkeypatch, RUN).rows(_Stats(ENTRIES))
    assert [(r["host"], r["phases"], r["total"]) for r in rows] == [
        ("web-1", {"pull": 3.5, "migrate": 1.5, "switch": 6.2, "verify": 2.2}, 14.4),
        ("web-2", {"pull": 1.0, "switch": 3.0, "verify": 4.0, "rollback": 7.3}, 15.3),
    ]


def test_renaming_a_task_file_changes_no_summary_figure(monkeypatch):
    """The same tasks (same tags) from renamed or moved files give the same rows, table
    and webhook message."""
    renamed = [
        (host, f"/elsewhere/roles/renamed/tasks/step_{n}.yml:{n}" if path else "", tags, s)
        for n, (host, path, tags, s) in enumerate(RUN)
    ]
    before = collect(monkeypatch, RUN).rows(_Stats(ENTRIES))
    after = collect(monkeypatch, renamed).rows(_Stats(ENTRIES))
    assert after == before
    assert summary_lines(after, 30.0) == summary_lines(before, 30.0)
    assert payload(after, 30.0) == payload(before, 30.0)
    # what does move time: a task's tags
    retagged = [(h, p, ["deploy_migrate"] if "pull.yml" in p else t, s) for h, p, t, s in RUN]
    assert collect(monkeypatch, retagged).rows(_Stats(ENTRIES)) != before


PLAYBOOK = """
- name: Hosts publish what the roles publish
  hosts: all
  gather_facts: false
  tasks:
    - name: The run's summary has this host's deploy
      ansible.builtin.set_stats:
        data:
          stickforstats_summary: "{{ {inventory_hostname: entry} }}"
        per_host: false
        aggregate: true
      vars:
        entry: {event: deploy, version: c0ffee2, previous: c0ffee1, after: c0ffee2,
                outcome: success, health_attempts: 2, environment: unit, by: tester}
      when: inventory_hostname == 'web-1'
    - name: The other host fails
      ansible.builtin.fail:
        msg: failed on purpose
      when: inventory_hostname == 'web-2'
"""


def run_playbook(directory: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    """ansible-playbook ARGS DIRECTORY/play.yml on DIRECTORY/hosts, notifying URL."""
    env = {**os.environ, "STICKFORSTATS_NOTIFY_URL": url, "ANSIBLE_STRATEGY": "linear"}
    return subprocess.run(
        [str(BIN / "ansible-playbook"), *args, "-i", str(directory / "hosts"), str(directory / "play.yml")],
        cwd=REPO, capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip


def test_a_run_prints_the_summary_and_posts_it(receiver, tmp_path):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts").write_text(
        "web-1 ansible_connection=local\nweb-2 ansible_connection=local\n"
    )
    hook = receiver(200)
    proc = run_playbook(tmp_path, hook.url)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stdout[proc.stdout.index("STICKFORSTATS SUMMARY") :].splitlines()[1:]
    assert lines[0].startswith("deploy c0ffee2 in unit by tester: failed in ")
    assert lines[2].split()[:7] == [
        "web-1",
        "deploy",
        "c0ffee2",
        "c0ffee1",
        "->",
        "c0ffee2",
        "success",
    ]
    # web-2 failed before publishing anything (not a deploy play: nothing known of it)
    assert lines[3].split()[:7] == ["web-2", "?", "?", "?", "->", "?", "failed"]
    assert "deploy_notify" not in proc.stderr  # the webhook's warning
    (message,) = hook.messages()
    assert (message["outcome"], message["version"], message["who"]) == (
        "failed",
        "c0ffee2",
        "tester",
    )
    assert [h["host"] for h in message["hosts"]] == ["web-1", "web-2"]


def test_other_playbooks_get_no_summary(receiver, tmp_path):
    (tmp_path / "play.yml").write_text(
        PLAYBOOK.replace("when: inventory_hostname == 'web-1'", "when: false")
    )
    (tmp_path / "hosts").write_text("web-1 ansible_connection=local\n")
    hook = receiver(200)
    proc = run_playbook(tmp_path, hook.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "STICKFORSTATS SUMMARY" not in proc.stdout
    assert hook.messages() == []


def test_a_check_run_says_so_and_posts_nothing(receiver, tmp_path):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts").write_text("web-1 ansible_connection=local\n")
    hook = receiver(200)
    proc = run_playbook(tmp_path, hook.url, "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout[proc.stdout.index("STICKFORSTATS SUMMARY") :].splitlines()[1:]
    assert lines[0].endswith("(check mode: nothing was changed)")
    assert hook.messages() == []
