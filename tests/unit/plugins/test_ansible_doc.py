"""`ansible-doc` renders every plugin of the collection, from the repo root."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PLUGINS = REPO / "collections/ansible_collections/stickforstats/deploy/plugins"


def plugin_names(kind: str) -> list[str]:
    if kind in ("module", "callback", "lookup"):
        folder = PLUGINS / {"module": "modules"}.get(kind, kind)
        return sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
    return sorted(p.stem for p in (PLUGINS / "filter").glob("*.yml"))


@pytest.mark.parametrize("kind", ["filter", "module", "callback", "lookup"])
def test_ansible_doc_renders_every_plugin(kind: str) -> None:
    names = [f"stickforstats.deploy.{n}" for n in plugin_names(kind)]
    assert names
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-doc"), "-t", kind, "--json", *names],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    assert sorted(docs) == sorted(names)
    for name, doc in docs.items():
        assert doc["doc"]["short_description"] and doc["doc"]["description"], name
        if kind != "callback":  # a callback has neither examples nor return values
            assert doc["examples"], name
            assert doc["return"], name
