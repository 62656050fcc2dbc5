"""A data service's settings, as the rolling strategy compares them across releases.

Data services (db, redis) are never recreated by a rolling release. To tell
whether a release changes one, its container carries a label of per-setting
digests of what Compose would recreate it for; a container created without
that label is compared by what Docker reads back (command, healthcheck, ports).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

# The label compose_rollout puts on a release's web containers (a digest of all settings).
CONFIG_LABEL = "org.stickforstats.config"
# On data services: {setting: digest} of what Compose would recreate them for.
SETTINGS_LABEL = "org.stickforstats.settings"


def setting_digests(spec: dict) -> dict[str, str]:
    """{setting: short digest} of a service's resolved settings, as config_digest() counts them."""
    spec = {k: v for k, v in spec.items() if k not in ("depends_on", "scale")}
    spec["labels"] = {
        k: v
        for k, v in (spec.get("labels") or {}).items()
        if k not in (CONFIG_LABEL, SETTINGS_LABEL)
    }
    return {
        key: hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]
        for key, value in spec.items()
        if value not in (None, {}, [])
    }


def readable_changes(spec: dict, container: dict) -> list[str]:
    """The settings of SPEC that differ from what CONTAINER reads back (command, healthcheck, ports)."""
    found = []
    if spec.get("command") is not None and list(spec["command"]) != list(
        container.get("command") or []
    ):
        found.append("command")
    test = (spec.get("healthcheck") or {}).get("test")
    if test is not None and list(test) != list(container.get("healthcheck") or []):
        found.append("healthcheck")
    want_ports = sorted(
        f"{p.get('target')}:{p.get('published') or ''}" for p in spec.get("ports") or []
        if isinstance(p, dict)
    )  # fmt: skip
    if want_ports != list(container.get("ports") or []):
        found.append("ports")
    return found


def changed_settings(have: dict[str, str], want: dict[str, str]) -> list[str]:
    """The settings whose digests differ (added, removed or changed), sorted."""
    return sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))


def digest(path: str) -> str:
    """Content digest of a file, or of a directory's files (names and contents)."""
    h = hashlib.sha256()
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files)[:2000]:
                full = os.path.join(root, name)
                h.update(os.path.relpath(full, path).encode() + b"\0")
                h.update(digest(full).encode())
        return h.hexdigest()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                h.update(chunk)
    except OSError:
        return "missing"
    return h.hexdigest()


def _bind_mounts(spec: dict, proxy_mount: str) -> dict[str, str]:
    """Target to source of SPEC's bind mounts, but the proxy directory's."""
    return {
        vol["target"]: vol["source"]
        for vol in spec.get("volumes") or []
        if vol.get("type") == "bind" and vol.get("target") != proxy_mount
    }


def data_settings(spec: dict, proxy_mount: str) -> dict[str, str]:
    """{setting: digest} of a data service: what Compose would recreate it for, with the
    content of the files it mounts (but the proxy directory at PROXY_MOUNT)."""
    found = setting_digests(spec)
    for target, source in _bind_mounts(spec, proxy_mount).items():
        found[f"files at {target}"] = digest(source)[:12]
    return found


def drifted(spec: dict, container: Any, proxy_mount: str) -> bool:
    """A running CONTAINER (a ``_containers.Container``) differs from its service's SPEC in
    its image, its environment or the content of the files it mounts."""
    if spec.get("image") and spec["image"] != container.image:
        return True
    want_env = spec.get("environment") or {}
    have = dict(item.split("=", 1) for item in container.env if "=" in item)
    # `config` writes a literal $ as $$ (so that its output reads back the same).
    if any(v is not None and have.get(k) != str(v).replace("$$", "$") for k, v in want_env.items()):
        return True
    want = {target: digest(source) for target, source in _bind_mounts(spec, proxy_mount).items()}
    have_mounts = {dst: digest(src) for src, dst in container.mounts if dst in want}
    return want != have_mounts
