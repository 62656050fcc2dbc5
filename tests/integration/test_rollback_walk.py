"""rollback.yml pressed again and again walks back along what served (issue 14,
item 2): three releases deployed, each rollback goes one further back, never to
the release a rollback moved away from; when nothing is left the run refuses,
naming the kept releases and what serves, and status.yml names the next target.

The tests run in order and build on each other. The walk is decided by the
rollback_target filter (tests/unit/plugins/filter/test_history.py has the cases).
"""

from __future__ import annotations

import re

import pytest
from ansible_run import deploy, history, http, playbook, serving

pytestmark = pytest.mark.docker
V1, V2, V3 = "c0ffee1", "c0ffee2", "c0ffee3"


def next_rollback(output: str, host: str = "test-1") -> str:
    """The NEXT ROLLBACK cell of HOST's row in status.yml's table."""
    lines = output.splitlines()
    header = next(line for line in lines if "HOST" in line and "NEXT ROLLBACK" in line)
    row = next(line for line in lines if line.strip().startswith(host + " "))
    start = header.index("NEXT ROLLBACK") - header.index("HOST") + row.index(host)
    return row[start:].split()[0]


@pytest.fixture(scope="module")
def walked(ssh_target) -> dict:
    """V1, V2, V3 deployed in this order: V3 serves, and they are the kept releases
    (the shared target may hold others that earlier tests deployed: pruned)."""
    for version in (V1, V2, V3):
        run = deploy(ssh_target, version, "-e", "deploy_keep_releases=3")
        assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == V3
    return ssh_target


def rolled_back_to(target: dict, expected: str) -> None:
    run = playbook(target["inventory"], "rollback.yml")
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(target) == expected
    assert http(target, "/api/v1/health/")["version"] == expected
    last = history(target)[-1]
    assert (last["event"], last["version"], last["outcome"]) == ("rollback", expected, "success")


def test_first_rollback_goes_to_the_release_before(walked):
    rolled_back_to(walked, V2)


def test_status_names_the_next_rollback_target(walked):
    run = playbook(walked["inventory"], "status.yml")
    assert run.returncode == 0, run.stdout[-5000:]
    assert next_rollback(run.stdout) == V1, run.stdout[-3000:]


def test_second_rollback_goes_one_further_back_not_to_the_release_it_left(walked):
    rolled_back_to(walked, V1)


def test_nothing_left_to_go_back_to_is_refused_and_v1_keeps_serving(walked):
    before = len(history(walked))
    run = playbook(walked["inventory"], "rollback.yml")
    assert run.returncode != 0
    out = " ".join(run.stdout.split())
    assert "There is no earlier release to go back to" in out, run.stdout[-5000:]
    found = re.search(r"Kept releases: ([^;]*); serving: (\w+)\.", out)
    assert found, run.stdout[-5000:]
    assert {V1, V2, V3} <= set(found.group(1).split(", ")) and found.group(2) == V1
    assert serving(walked) == V1
    assert http(walked, "/api/v1/health/")["version"] == V1
    assert len(history(walked)) == before
