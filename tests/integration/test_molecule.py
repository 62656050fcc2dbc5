"""Every Molecule scenario runs its full test sequence against Docker targets.

The scenarios are independent (each creates and destroys its own target), so
they run side by side, SFS_MOLECULE_JOBS at a time (2 by default): most of a
scenario's time is a target's engine starting and pulling from the registry.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))
JOBS = max(1, int(os.environ.get("SFS_MOLECULE_JOBS", "2")))


def molecule_test(scenario: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.setdefault("MOLECULE_PRIVILEGED", os.environ.get("SFS_PRIVILEGED", "false"))
    return subprocess.run(
        [sys.executable, "-m", "molecule", "test", "-s", scenario],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def scenario_runs(harness) -> dict[str, Future]:
    """Every scenario started at once, JOBS of them running at a time."""
    pool = ThreadPoolExecutor(max_workers=JOBS)
    try:
        yield {scenario: pool.submit(molecule_test, scenario) for scenario in SCENARIOS}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.docker
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_passes(scenario: str, scenario_runs: dict[str, Future]) -> None:
    proc = scenario_runs[scenario].result(timeout=1500)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"molecule test -s {scenario} failed:\n{output[-8000:]}"


def test_there_are_scenarios() -> None:
    assert "sample_stack" in SCENARIOS
