"""Docker Compose itself reads back every value exactly as the env_file filter wrote it.

Runs the real Compose v2 binary (the one put into the targets) on env files
made from generated values: a property test against the real parser, no
Docker engine needed (`compose config` is client-side).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils._env_file import render
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
UNSAFE = "\n\r\0"
values = st.text(
    alphabet=st.characters(blacklist_characters=UNSAFE, blacklist_categories=("Cs",)), max_size=40
)
tricky = st.sampled_from(
    ["'", '"', "\\", "$", "#", " ", "${A}", "$$", "=", "\t", "ü", "\\'", "'\\"]
)
pieces = st.lists(st.one_of(values, tricky), max_size=8).map("".join)


@pytest.fixture(scope="module")
def compose_binary() -> Path:
    out = subprocess.run(
        ["bash", str(REPO / "tests/harness/compose_plugin.sh")],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    return Path(out)


def compose_reads(binary: Path, workdir: Path, entries: dict[str, str]) -> dict[str, str]:
    (workdir / "t.env").write_text(render(entries), encoding="utf-8")
    (workdir / "compose.yml").write_text(
        "services:\n  probe:\n    image: scratch\n    env_file: t.env\n", encoding="utf-8"
    )
    proc = subprocess.run(
        [str(binary), "--project-directory", str(workdir), "-p", "probe", "config", "--format", "json"],
        capture_output=True, text=True, check=False, cwd=workdir,
        env={"PATH": "/usr/bin:/bin", "HOME": str(workdir)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)["services"]["probe"].get("environment") or {}
    # `config` escapes every $ of a value as $$ in its output
    return {k: (v or "").replace("$$", "$") for k, v in env.items()}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(pieces, min_size=1, max_size=12))
def test_compose_reads_back_every_value(compose_binary, tmp_path_factory, generated):
    entries = {f"K{i}": v for i, v in enumerate(generated)}
    got = compose_reads(compose_binary, tmp_path_factory.mktemp("env"), entries)
    assert got == entries
