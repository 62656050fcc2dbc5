"""Every vault file in the repo is encrypted (no Docker needed)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_inventory_vault_is_encrypted():
    vaults = sorted(REPO.glob("inventories/*/group_vars/all/vault.yml"))
    assert len(vaults) == 3
    for path in vaults:
        assert path.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256"), path
