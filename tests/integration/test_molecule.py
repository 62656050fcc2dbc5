"""Every Molecule scenario runs its full test sequence against Docker targets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))


@pytest.mark.docker
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_passes(scenario: str, harness) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.setdefault("MOLECULE_PRIVILEGED", os.environ.get("SFS_PRIVILEGED", "false"))
    proc = subprocess.run(
        [sys.executable, "-m", "molecule", "test", "-s", scenario],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"molecule test -s {scenario} failed:\n{output[-8000:]}"


def test_there_are_scenarios() -> None:
    assert "sample_stack" in SCENARIOS
