#!/usr/bin/python
"""Records a healthy release in one round trip: manifest, current link, history."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_record
short_description: Record a healthy release (manifest, C(current) link, history) in one call
version_added: 0.1.0
author: stickforstats-deploy engineers
description:
  - Runs on the target once the release passed its health check, and does what five tasks
    did before (one round trip instead of five).
  - With O(record=true), writes C(release.json) in the release directory (version, images with
    the digests Docker has for them, the pins, sha256 of the compose and env files, who, when, previous,
    outcome) atomically, and appends a deploy event to C(history.jsonl).
  - Always points C(current) at the release, atomically (a new link renamed over the old one).
  - Every rename is made durable (the file, then its directory, synced to disk), so that
    after a crash or a power cut C(current) and C(release.json) are the old or the new ones.
  - Never reads or returns the content of an env file. Its sha256 is in C(release.json) on
    the host only; the result names the env files without their digests.
  - C(release.json) and C(history.jsonl) are owner only (mode 0600); the C(release.json) of
    earlier releases, and a history file, with another mode are given 0600.
options:
  root:
    description: The deploy root, holding C(releases/), C(current) and C(history.jsonl).
    type: path
    required: true
  version:
    description: The release (a directory under C(releases/)).
    type: str
    required: true
  previous:
    description: The release that served before, recorded as is.
    type: str
    default: ""
  project_name:
    description: Compose project name, to list the release's images with C(docker compose config).
    type: str
    required: true
  holder:
    description: Who deployed, recorded as is.
    type: str
    required: true
  record:
    description:
      - Write the manifest and append to the history. V(false) when the run changed nothing
        (a second deploy of the same version), so that nothing is recorded twice.
    type: bool
    default: true
  pins:
    description:
      - Service to the image reference it runs pinned by digest (C(repo:tag@sha256:...)), recorded
        as C(pins) in C(release.json), what a rollback to this release brings back.
    type: dict
    default: {}
  history_extra:
    description: More fields for the history event (never a secret), such as health attempts.
    type: dict
    default: {}
extends_documentation_fragment:
  - stickforstats.deploy.attributes
  - stickforstats.deploy.attributes.idempotent
  - stickforstats.deploy.attributes.platform
attributes:
  check_mode:
    support: full
    details: In check mode nothing is written; the result says what would be.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details: The link is only changed when it points elsewhere; with O(record=true) an event is appended.
"""

EXAMPLES = r"""
- name: The release is recorded and current points at it
  stickforstats.deploy.release_record:
    root: /opt/stickforstats
    version: c0ffee2
    previous: c0ffee1
    project_name: stickforstats
    holder: ci@runner
"""

RETURN = r"""
manifest:
  description:
    - What C(release.json) holds (when O(record=true)), but for the digests of the env files
      (C(files) has the compose file's; C(env_files) names the env files).
  type: dict
  returned: when O(record=true)
appended:
  description: The history event appended.
  type: dict
  returned: when O(record=true)
switched:
  description: Whether C(current) was pointed elsewhere.
  type: bool
  returned: always
"""

import fnmatch  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.stickforstats.deploy.plugins.module_utils._durable import (  # noqa: E402
    write_atomically,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._history import (  # noqa: E402
    now_utc,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._layout import (  # noqa: E402
    Layout,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "root": {"type": "path", "required": True},
    "version": {"type": "str", "required": True},
    "previous": {"type": "str", "default": ""},
    "project_name": {"type": "str", "required": True},
    "holder": {"type": "str", "required": True},
    "record": {"type": "bool", "default": True},
    "pins": {"type": "dict", "default": {}},
    "history_extra": {"type": "dict", "default": {}},
}

RECORDED_FILES = ("docker-compose.yml", ".env*", "*.env")
MANIFEST_MODE = 0o600


def restrict_manifests(root: str) -> None:
    """Every release's release.json under ROOT owner only (those written before were 0644)."""
    layout = Layout(root)
    for name in layout.release_names():
        path = layout.manifest(name)
        try:
            if os.lstat(path).st_mode & 0o7777 != MANIFEST_MODE and os.path.isfile(path):
                os.chmod(path, MANIFEST_MODE)
        except FileNotFoundError:
            pass


def recorded_files(release_dir: str) -> dict[str, str]:
    """sha256 of the compose and env files directly in RELEASE_DIR, by name."""
    hashes = {}
    for name in sorted(os.listdir(release_dir)):
        path = os.path.join(release_dir, name)
        if os.path.isfile(path) and any(fnmatch.fnmatch(name, p) for p in RECORDED_FILES):
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(65536), b""):
                    digest.update(block)
            hashes[name] = digest.hexdigest()
    return hashes


def is_env_file(name: str) -> bool:
    return fnmatch.fnmatch(name, ".env*") or fnmatch.fnmatch(name, "*.env")


def for_controller(manifest: dict) -> dict:
    """MANIFEST as returned to the controller: the env files by name, without their digests
    (those stay in release.json on the host)."""
    files = manifest.get("files") or {}
    return {
        **manifest,
        "files": {name: digest for name, digest in files.items() if not is_env_file(name)},
        "env_files": sorted(name for name in files if is_env_file(name)),
    }


def image_digests(inspected: list[dict], refs: list[str]) -> dict[str, str]:
    """REF -> its repo digests (space-separated) from `docker image inspect` output. A REF
    pinned by digest (repo:tag@sha256:...) is matched by that digest, never by its tag."""
    by_tag: dict[str, str] = {}
    by_digest: dict[str, str] = {}
    for image in inspected:
        digests = " ".join(image.get("RepoDigests") or [])
        for tag in image.get("RepoTags") or []:
            by_tag[tag] = digests
        for repo_digest in image.get("RepoDigests") or []:
            by_digest[repo_digest] = digests
    found = {}
    for ref in refs:
        name, at, digest = ref.partition("@")
        if at:
            repository = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
            found[ref] = by_digest.get(f"{repository}@{digest}", "")
        else:
            found[ref] = by_tag.get(ref, "")
    return found


def release_images(module: AnsibleModule, release_dir: str) -> dict[str, str]:
    """Image reference -> its repo digests, for each image of the release's compose file."""
    compose = os.path.join(release_dir, "docker-compose.yml")
    rc, out, err = module.run_command(
        ["docker", "compose", "-p", module.params["project_name"], "--project-directory",
         release_dir, "-f", compose, "config", "--images"],
    )  # fmt: skip
    if rc != 0:
        module.fail_json(msg=f"docker compose config --images failed: {err.strip()[:500]}")
    refs = sorted(set(out.split()))
    inspected = "[]"
    if refs:
        rc, inspected, err = module.run_command(["docker", "image", "inspect", *refs])
        if rc != 0:
            module.fail_json(msg=f"docker image inspect failed: {err.strip()[:500]}")
    return image_digests(json.loads(inspected or "[]"), refs)


@dataclass(frozen=True)
class Deploy:
    """The deploy the module records (its options), for its manifest and history event."""

    version: str
    previous: str
    holder: str
    pins: dict[str, str]
    history_extra: dict[str, Any]

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Deploy:
        return cls(
            version=params["version"],
            previous=params["previous"],
            holder=params["holder"],
            pins={name: str(ref) for name, ref in sorted(params["pins"].items())},
            history_extra=dict(params["history_extra"]),
        )

    def manifest(self, images: dict[str, str], files: dict[str, str], now: str) -> dict:
        """What release.json holds."""
        return {
            "version": self.version,
            "git_sha": self.version,
            "images": images,
            "pins": dict(self.pins),
            "files": files,
            "deployed_by": self.holder,
            "deployed_at": now,
            "previous": self.previous,
            "outcome": "success",
        }

    def event(self, now: str) -> dict:
        """The history event."""
        return {
            "at": now,
            "event": "deploy",
            "version": self.version,
            "previous": self.previous,
            "outcome": "success",
            "by": self.holder,
            **self.history_extra,
        }


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    layout = Layout(p["root"])
    release_dir = layout.release_dir(p["version"])
    if not os.path.isdir(release_dir):
        module.fail_json(msg=f"Release directory {release_dir} does not exist")
    result: dict = {"changed": False}
    now = now_utc()

    if p["record"]:
        deploy = Deploy.from_params(p)
        manifest = deploy.manifest(
            release_images(module, release_dir), recorded_files(release_dir), now
        )
        if not module.check_mode:
            write_atomically(
                layout.manifest(p["version"]),
                json.dumps(manifest, indent=4, sort_keys=True) + "\n",
                mode=MANIFEST_MODE,
            )
            restrict_manifests(p["root"])
        result.update(changed=True, manifest=for_controller(manifest), appended=deploy.event(now))

    # The one switch of current (module_utils/_layout.py), for deploys and rollbacks alike.
    if module.check_mode:
        switched = layout.would_switch(p["version"])
    else:
        switched = layout.switch_current(p["version"])
    result["switched"] = switched
    result["changed"] = result["changed"] or switched

    if p["record"] and not module.check_mode:
        layout.append(result["appended"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
