"""Pure parts of the release_record module (plugins/modules/release_record.py).

The whole module runs on real targets in tests/integration/test_deploy_rollback.py
and molecule/deploy (release.json, current, history.jsonl checked there)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ansible_collections.stickforstats.deploy.plugins.module_utils._durable import replace_symlink
from ansible_collections.stickforstats.deploy.plugins.modules.release_record import (
    for_controller,
    image_digests,
    recorded_files,
    restrict_manifests,
    write_atomically,
)


def test_only_compose_and_env_files_are_hashed_never_read_back(tmp_path: Path) -> None:
    for name, text in {
        "docker-compose.yml": "services: {}\n",
        ".env": "A=1\n",
        ".env.prod": "SECRET_KEY='x'\n",
        "backend.env": "B=2\n",
        "release.json": "{}",
        "notes.txt": "no",
    }.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "docker").mkdir()
    hashes = recorded_files(str(tmp_path))
    assert sorted(hashes) == [".env", ".env.prod", "backend.env", "docker-compose.yml"]
    assert hashes[".env.prod"] == hashlib.sha256(b"SECRET_KEY='x'\n").hexdigest()
    assert "SECRET_KEY" not in repr(hashes)


def test_the_controller_gets_no_digest_of_an_env_file() -> None:
    """The digests of the env files stay in release.json on the host: a digest of a file of
    secrets is an offline guessing aid for a weak one."""
    manifest = {
        "version": "c0ffee2",
        "files": {"docker-compose.yml": "a" * 64, ".env": "b" * 64, ".env.prod": "c" * 64,
                  "backend.env": "d" * 64},
    }  # fmt: skip
    shown = for_controller(manifest)
    assert shown["files"] == {"docker-compose.yml": "a" * 64}
    assert shown["env_files"] == [".env", ".env.prod", "backend.env"]
    assert not [digest for digest in ("b", "c", "d") if digest * 64 in repr(shown)]
    assert manifest["files"][".env"] == "b" * 64  # what release.json holds is unchanged


def test_digests_are_matched_by_tag_and_missing_ones_are_empty() -> None:
    inspected = [
        {"RepoTags": ["r:5000/app:c0ffee2", "r:5000/app:latest"],
         "RepoDigests": ["r:5000/app@sha256:aa"]},
        {"RepoTags": ["r:5000/db:15"], "RepoDigests": []},
    ]  # fmt: skip
    refs = ["r:5000/app:c0ffee2", "r:5000/db:15", "r:5000/gone:1"]
    assert image_digests(inspected, refs) == {
        "r:5000/app:c0ffee2": "r:5000/app@sha256:aa",
        "r:5000/db:15": "",
        "r:5000/gone:1": "",
    }


def test_an_image_pinned_by_digest_is_matched_by_that_digest_never_by_its_tag() -> None:
    """The tag may name other content since (pushed again): a pinned reference records the
    digests of the image it names by digest."""
    pin, moved = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    inspected = [
        {"RepoTags": [], "RepoDigests": [f"r:5000/app@{pin}"]},
        {"RepoTags": ["r:5000/app:c0ffee2"], "RepoDigests": [f"r:5000/app@{moved}"]},
    ]
    refs = [f"r:5000/app:c0ffee2@{pin}", f"r:5000/app:c0ffee2@sha256:{'c' * 64}"]
    assert image_digests(inspected, refs) == {refs[0]: f"r:5000/app@{pin}", refs[1]: ""}


def test_the_link_is_replaced_atomically_and_only_when_it_points_elsewhere(tmp_path: Path) -> None:
    link = str(tmp_path / "current")
    assert replace_symlink(link, "releases/a") is True
    assert os.readlink(link) == "releases/a"
    assert replace_symlink(link, "releases/a") is False
    assert replace_symlink(link, "releases/b") is True
    assert os.readlink(link) == "releases/b"
    assert sorted(os.listdir(tmp_path)) == ["current"]


def test_the_manifest_is_written_whole_with_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "release.json"
    write_atomically(str(path), '{"version": "c0ffee2"}\n')
    assert path.read_text() == '{"version": "c0ffee2"}\n'
    assert path.stat().st_mode & 0o777 == 0o600  # it may name what failed: owner only
    assert sorted(os.listdir(tmp_path)) == ["release.json"]


def test_the_manifests_of_earlier_releases_are_made_owner_only(tmp_path: Path) -> None:
    for version in ("c0ffee1", "c0ffee2"):
        (tmp_path / "releases" / version).mkdir(parents=True)
        (tmp_path / "releases" / version / "release.json").write_text("{}\n")
        (tmp_path / "releases" / version / "release.json").chmod(0o644)
    (tmp_path / "releases" / "c0ffee3").mkdir()  # no manifest: nothing made
    restrict_manifests(str(tmp_path))
    modes = [p.stat().st_mode & 0o777 for p in sorted(tmp_path.glob("releases/*/release.json"))]
    assert modes == [0o600, 0o600]
    assert not (tmp_path / "releases" / "c0ffee3" / "release.json").exists()


def directory_syncs(monkeypatch, directory: Path) -> list[str]:
    """Collects 'dir' for every fsync of DIRECTORY's own descriptor, 'file' for other fsyncs."""
    seen: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        same = os.path.samestat(os.fstat(fd), os.stat(directory))
        seen.append("dir" if same else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def test_the_manifest_rename_is_made_durable_by_syncing_its_directory(
    tmp_path: Path, monkeypatch
) -> None:
    seen = directory_syncs(monkeypatch, tmp_path)
    write_atomically(str(tmp_path / "release.json"), "{}\n")
    assert seen[-1] == "dir", seen


def test_the_current_switch_is_made_durable_by_syncing_its_directory(
    tmp_path: Path, monkeypatch
) -> None:
    seen = directory_syncs(monkeypatch, tmp_path)
    assert replace_symlink(str(tmp_path / "current"), "releases/a") is True
    assert seen == ["dir"], seen
