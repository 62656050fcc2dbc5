"""The test_vault_keys lookup: which vault keys open with the test-only password."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: test_vault_keys
short_description: The keys of an inventory's vault files that open with a given password
version_added: 0.1.0
author: stickforstats-deploy engineers
description:
  - Looks at every file under C(group_vars/) and C(host_vars/) of each inventory directory
    given that is an ansible-vault file, and tries to open it with the password in
    O(password_file) (the committed test-only password).
  - Returns the top-level keys of the files that open, sorted; a file that opens but holds no
    mapping is named by its path instead. Never returns a value.
  - Values encrypted inline (C(!vault)) in a plain file are not looked at.
  - Fails when O(password_file) cannot be read, so that the check never passes unseen.
options:
  _terms:
    description: Inventory directories (C(inventory_dir) of the hosts).
    type: list
    elements: path
    required: true
  password_file:
    description: The file holding the test-only vault password.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: No vault of the inventory opens with the test-only password
  ansible.builtin.assert:
    that: __keys | length == 0
    fail_msg: "The vault opens with the test-only password: {{ __keys | join(', ') }}"
  vars:
    __keys: >-
      {{ query('stickforstats.deploy.test_vault_keys', inventory_dir,
               password_file=playbook_dir ~ '/../tests/vault/test-only-password.txt') }}
"""

RETURN = r"""
_raw:
  description: The keys (or file paths) of the vault files that open with the password, sorted.
  type: list
  elements: str
"""

import os  # noqa: E402

import yaml  # noqa: E402
from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.parsing.vault import (  # noqa: E402
    AnsibleVaultError,
    VaultLib,
    VaultSecret,
    is_encrypted,
)
from ansible.plugins.lookup import LookupBase  # noqa: E402

VARS_DIRS = ("group_vars", "host_vars")


def vault_files(inventory_dir: str) -> list[str]:
    """Every ansible-vault file under INVENTORY_DIR's group_vars and host_vars, sorted."""
    found = []
    for sub in VARS_DIRS:
        top = os.path.join(inventory_dir, sub)
        for dirpath, _dirs, names in os.walk(top, followlinks=True):
            for name in names:
                path = os.path.join(dirpath, name)
                try:
                    with open(path, "rb") as handle:
                        head = handle.read(64)
                except OSError:
                    continue
                if is_encrypted(head):
                    found.append(path)
    return sorted(found)


def keys_opening_with(paths: list[str], password: bytes) -> list[str]:
    """The top-level keys of the files of PATHS that PASSWORD opens (a file's path when it
    holds no mapping)."""
    vault = VaultLib([("test-only", VaultSecret(password))])
    found: set[str] = set()
    for path in paths:
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            plain = vault.decrypt(data)
        except AnsibleVaultError:
            continue
        content = yaml.safe_load(plain)
        if isinstance(content, dict) and content:
            found |= {str(key) for key in content}
        else:
            found.add(path)
    return sorted(found)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        password_file = self.get_option("password_file")
        try:
            with open(password_file, "rb") as handle:
                password = handle.read().strip()
        except OSError as exc:
            raise AnsibleLookupError(
                f"test_vault_keys: the test-only password file {password_file} cannot be read"
                f" ({exc.strerror})"
            ) from None
        paths = sorted({path for term in terms for path in vault_files(str(term))})
        return keys_opening_with(paths, password)
