#!/usr/bin/python
"""The env keys a deploy would add, remove or change, by name; values stay on the host."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: env_file_diff
short_description: Compare env files on a host with new contents, by key name only
version_added: 0.1.0
author: stickforstats-deploy engineers
description:
  - For each env file, compares the C(KEY=value) lines of the file in O(dir) with the new
    content, on the host, and returns the names of the keys that would be added, removed or
    changed. Values are never returned; the new contents are a no_log option.
  - Reads only; it is what check mode shows of a deploy's env files.
options:
  dir:
    description: Directory of the serving release (its env files are compared).
    type: path
    required: true
  contents:
    description: Env file name (relative to O(dir)) to its new content.
    type: dict
    required: true
extends_documentation_fragment:
  - stickforstats.deploy.attributes
  - stickforstats.deploy.attributes.idempotent
  - stickforstats.deploy.attributes.platform
attributes:
  check_mode:
    support: full
    details: Reads only, in check mode as in a normal run.
  diff_mode:
    support: none
    details: No C(diff) is returned; the result itself lists what would change, by key name.
  idempotent:
    support: full
    details: Reads only.
"""

EXAMPLES = r"""
- name: Env keys that would change are known (names only)
  stickforstats.deploy.env_file_diff:
    dir: /opt/stickforstats/current
    contents:
      backend.env: "{{ backend_entries | stickforstats.deploy.env_file_render }}"
  register: env_changes
"""

RETURN = r"""
files:
  description: "Per env file: added, removed, changed (key names, sorted), and new (the file does not exist)."
  type: dict
  returned: always
"""

import os  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "dir": {"type": "path", "required": True},
    "contents": {"type": "dict", "required": True, "no_log": True},
}


def entries(text: str) -> dict[str, str]:
    """KEY -> the rest of its line, for the KEY=... lines of an env file."""
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, rest = line.split("=", 1)
            out[key.strip()] = rest
    return out


def compare(old: dict[str, str], new: dict[str, str]) -> dict[str, list[str]]:
    return {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "changed": sorted(k for k in set(old) & set(new) if old[k] != new[k]),
    }


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    files = {}
    for name, content in sorted(module.params["contents"].items()):
        path = os.path.join(module.params["dir"], name)
        try:
            with open(path, encoding="utf-8") as fh:
                old, new_file = entries(fh.read()), False
        except FileNotFoundError:
            old, new_file = {}, True
        except OSError as exc:
            module.fail_json(msg=f"{path}: cannot be read ({exc.strerror})")
        files[name] = {**compare(old, entries(str(content))), "new": new_file}
    module.exit_json(changed=False, files=files)


if __name__ == "__main__":
    main()
