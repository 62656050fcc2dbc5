"""The harness never reuses a target whose host key our known_hosts does not pin."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "harness"))
import targets


def container(source: str | None, running: bool = False, name: str = "sfs-test-1") -> dict:
    mounts = [{"Destination": "/var/lib/docker", "Source": "/var/lib/docker/volumes/x"}]
    if source:
        mounts.append({"Destination": "/etc/ssh/ssh_host_ed25519_key.pub", "Source": source})
    return {"Name": f"/{name}", "State": {"Running": running}, "Mounts": mounts}


def test_a_stopped_target_with_our_key_is_reused(tmp_path):
    ours = tmp_path / "ssh_host_ed25519_key.pub"
    assert targets.pins_our_host_key(container(str(ours)), tmp_path)


@pytest.mark.parametrize("source", [None, "/check/other-clone/.state/ssh-test/hostkeys/x.pub"])
def test_a_target_with_another_checkouts_key_is_not_reused(tmp_path, source):
    assert not targets.pins_our_host_key(container(source), tmp_path)


def test_a_running_target_of_another_checkout_is_refused_with_its_owner(tmp_path, monkeypatch):
    monkeypatch.setattr(targets, "load_created", lambda: {"containers": [], "networks": []})
    removed = []
    monkeypatch.setattr(targets, "docker", lambda *args, **kw: removed.append(args))
    with pytest.raises(SystemExit, match=r"/check/other/key\.pub.*another checkout"):
        targets.replace_foreign(container("/check/other/key.pub", running=True), tmp_path)
    assert removed == []


def test_a_stopped_target_of_another_checkout_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(targets, "load_created", lambda: {"containers": [], "networks": []})
    removed = []
    monkeypatch.setattr(targets, "docker", lambda *args, **kw: removed.append(args))
    targets.replace_foreign(container("/check/other/key.pub"), tmp_path)
    assert removed == [("rm", "-f", "-v", "sfs-test-1")]
