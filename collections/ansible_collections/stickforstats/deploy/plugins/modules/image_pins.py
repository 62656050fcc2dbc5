#!/usr/bin/python
"""Pins a release's images to the digests the host has, or brings pinned images back."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_pins
short_description: Pin images to the digests the host pulled, or bring pinned images back by digest
version_added: 0.1.0
author: stickforstats-deploy engineers
description:
  - Each of O(images) names an image reference, by tag (C(repo:tag)) or pinned (C(repo:tag@sha256:...)).
  - A reference by tag is resolved to the digest its image has on the host, in the registry
    repository it names (the image's C(RepoDigests)). With O(pull=always) the tag is pulled first
    and the digest is the one that pull got.
  - A pinned reference must be on the host by that digest; when it is not, it is pulled by digest
    (not by its tag). The module fails, naming each image and its digest, when one cannot be had.
  - With O(release_dir), the images are the pins that release recorded in its C(release.json)
    (nothing else is read from it).
options:
  images:
    description: Name (a service) to image reference. Ignored when O(release_dir) is given.
    type: dict
    default: {}
  release_dir:
    description:
      - A release directory. The images are the C(pins) its C(release.json) recorded; a release
        recorded before pinning has none (V(recorded=false) in the result, nothing done).
    type: path
  pull:
    description:
      - V(always) pulls each reference by tag before resolving it, and pulls pinned references
        missing on the host by digest.
      - V(missing) pulls only pinned references missing on the host (by digest).
      - V(never) pulls nothing.
    type: str
    choices: [always, missing, never]
    default: missing
  missing:
    description:
      - A reference by tag with no digest on the host (not pulled, or built locally).
        V(fail) fails naming it; V(omit) leaves it out of the result.
    type: str
    choices: [fail, omit]
    default: fail
extends_documentation_fragment:
  - stickforstats.deploy.attributes
  - stickforstats.deploy.attributes.idempotent
  - stickforstats.deploy.attributes.platform
attributes:
  check_mode:
    support: full
    details: >-
      In check mode nothing is pulled: a reference by tag is resolved as the host has it, a pinned
      one missing on the host is reported as pulled.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Changed only when an image was pulled (new content under a tag, or a digest brought back).
"""

EXAMPLES = r"""
- name: The release's images are pinned to what the host pulled
  stickforstats.deploy.image_pins:
    images:
      backend: registry:5000/stickforstats/backend:c0ffee2
    pull: always
  register: pins  # pins.digests.backend: sha256:...

- name: The images a kept release recorded are on the host (pulled by digest when gone)
  stickforstats.deploy.image_pins:
    release_dir: /opt/stickforstats/releases/c0ffee1
"""

RETURN = r"""
pinned:
  description: Name to pinned reference (C(repo:tag@sha256:...)).
  type: dict
  returned: always
digests:
  description: Name to digest (C(sha256:...)).
  type: dict
  returned: always
pulled:
  description: Names whose image this run pulled (new content under the tag, or by digest).
  type: list
  elements: str
  returned: always
recorded:
  description: With O(release_dir), whether its C(release.json) recorded pins.
  type: bool
  returned: always
"""

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.stickforstats.deploy.plugins.module_utils._image_reference import (  # noqa: E402
    ImageReference,
    ImageReferenceError,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._layout import (  # noqa: E402
    MANIFEST,
)

_PULLED_DIGEST = re.compile(r"^Digest: (sha256:[0-9a-f]{64})\s*$", re.MULTILINE)
_DOWNLOADED = re.compile(r"^Status: Downloaded newer image", re.MULTILINE)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "images": {"type": "dict", "default": {}},
    "release_dir": {"type": "path"},
    "pull": {"type": "str", "choices": ["always", "missing", "never"], "default": "missing"},
    "missing": {"type": "str", "choices": ["fail", "omit"], "default": "fail"},
}


def repo_digests(inspected: dict, repository: str) -> list[str]:
    """The digests (sha256:...) an inspected image has in REPOSITORY, sorted."""
    prefix = f"{repository}@"
    return sorted(
        {d[len(prefix):] for d in inspected.get("RepoDigests") or [] if d.startswith(prefix)}
    )  # fmt: skip


def pulled_digest(output: str) -> str | None:
    """The digest `docker pull` reports it got, or None."""
    found = _PULLED_DIGEST.findall(output)
    return found[-1] if found else None


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def recorded_pins(release_dir: str) -> dict[str, str] | None:
    """The pins release.json in RELEASE_DIR recorded; None when it recorded none (or
    the release has no release.json)."""
    try:
        with open(os.path.join(release_dir, MANIFEST), encoding="utf-8") as handle:
            pins = json.load(handle).get("pins")
    except FileNotFoundError:
        return None
    return dict(pins) if pins else None


class Pins:
    """Resolves each distinct reference once; a problem names every image that uses it."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.check_mode = module.check_mode
        self.pull = module.params["pull"]
        self.problems: list[str] = []

    def docker(self, *args: str) -> tuple[int, str, str]:
        return self.module.run_command(["docker", *args])

    def inspect(self, ref: str) -> dict | None:
        rc, out, _err = self.docker("image", "inspect", ref)
        if rc != 0:
            return None
        images = json.loads(out or "[]")
        return images[0] if images else None

    def by_tag(self, names: str, ref: ImageReference) -> tuple[str | None, bool]:
        """(digest, pulled) of a reference by tag."""
        text, digest, pulled = ref.format(), None, False
        if self.pull == "always" and not self.check_mode:
            rc, out, err = self.docker("pull", text)
            if rc != 0:
                self.problems.append(f"{names}: pulling {text} failed ({last_line(err or out)})")
                return None, False
            digest, pulled = pulled_digest(out), bool(_DOWNLOADED.search(out))
        if digest is None:
            candidates = repo_digests(self.inspect(text) or {}, ref.repository)
            digest = candidates[0] if len(candidates) == 1 else None
        if digest is None and self.module.params["missing"] == "fail":
            self.problems.append(f"{names}: {text} has no digest in {ref.repository} on this host")
        return digest, pulled

    def pinned(self, names: str, ref: ImageReference) -> tuple[str | None, bool]:
        """(digest, pulled) of a pinned reference: on the host, or pulled by digest."""
        canonical = f"{ref.repository}@{ref.digest}"
        if self.inspect(canonical) is not None:
            return ref.digest, False
        if self.pull == "never":
            self.problems.append(f"{names}: {canonical} is not on this host")
            return None, False
        if self.check_mode:
            return ref.digest, True  # would be pulled by digest
        rc, out, err = self.docker("pull", canonical)
        if rc != 0:
            self.problems.append(
                f"{names}: {canonical} is not on this host and could not be pulled by digest"
                f" ({last_line(err or out)})"
            )
            return None, False
        return ref.digest, True

    def run(self, images: dict[str, str]) -> dict:
        by_ref: dict[str, list[str]] = {}
        for name, text in sorted(images.items()):
            by_ref.setdefault(str(text), []).append(name)
        pinned, digests, pulled = {}, {}, []
        for text, names in by_ref.items():
            try:
                ref = ImageReference.parse(text)
            except ImageReferenceError as exc:
                self.problems.append(f"{', '.join(names)}: {exc}")
                continue
            resolve = self.pinned if ref.digest else self.by_tag
            digest, was_pulled = resolve(", ".join(names), ref)
            for name in names if digest else []:
                digests[name] = digest
                pinned[name] = ref.with_digest(digest).format()
                if was_pulled:
                    pulled.append(name)
        return {"pinned": pinned, "digests": digests, "pulled": sorted(pulled)}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    images = module.params["images"]
    recorded = False
    if module.params["release_dir"]:
        try:
            pins = recorded_pins(module.params["release_dir"])
        except (OSError, ValueError) as exc:
            module.fail_json(msg=f"The release's record could not be read: {exc}")
        recorded = pins is not None
        images = pins or {}
    pins_run = Pins(module)
    result = pins_run.run(images)
    if pins_run.problems:
        module.fail_json(
            msg="; ".join(pins_run.problems),
            **result,
            recorded=recorded,
            changed=bool(result["pulled"]),
        )
    module.exit_json(changed=bool(result["pulled"]), recorded=recorded, **result)


if __name__ == "__main__":
    main()
