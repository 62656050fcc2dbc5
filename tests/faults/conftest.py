"""The fault-injection campaign: selection, the campaign's target and its results.

The representative subset runs in every `pytest tests`; the other cases carry
the marker `faults_full` and run only with SFS_FAULTS=full (`make test-faults`).
SFS_FAULTS_REPORT=<path> writes the results table there at the end.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for path in (HERE, REPO / "tests" / "integration", REPO):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from ansible_run import http  # noqa: E402
from campaign import Campaign  # noqa: E402
from results import report_path, write  # noqa: E402
from runner import Run  # noqa: E402
from target_state import V1, V2  # noqa: E402

SELECTED = os.environ.get("SFS_FAULTS", "").lower()  # full | subset | '' (none)
FULL = SELECTED == "full"


def pytest_collection_modifyitems(config, items) -> None:
    if FULL:
        return
    reason = "fault campaign: SFS_FAULTS=subset or full (make test-faults, make test-faults-subset)"
    for item in items:
        if "tests/faults/" not in str(item.fspath) or item.fspath.basename == "test_phases.py":
            continue
        if item.get_closest_marker("faults_full") or SELECTED != "subset":
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def campaign(ssh_target):
    """V1 then V2 deployed (a rollback has a target), a row written; the results
    table written at the end when SFS_FAULTS_REPORT is set."""
    # kept after the session (pytest keeps only its last few temp dirs, shared by everyone)
    logs = Path(tempfile.mkdtemp(prefix="sfs-faults-", dir="/tmp"))
    started = time.monotonic()
    for version in (V1, V2):
        run = Run.start(
            ssh_target["inventory"],
            "deploy.yml",
            "-e",
            f"app_version={version}",
            logs=logs / "setup",
        )
        assert run.wait() == 0, run.tail()
    row = http(ssh_target, "/api/v1/items/", {"name": "survives every fault"})
    state = Campaign(ssh_target, logs, row)
    yield state
    path = report_path()
    if path is not None and state.results:
        write(state.results, path, time.monotonic() - started)
        sys.stderr.write(f"faults: results in {path}, logs in {logs}\n")
