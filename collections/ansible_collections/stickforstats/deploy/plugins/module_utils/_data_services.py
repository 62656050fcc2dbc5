"""A data service's settings, as the rolling strategy compares them across releases.

Data services (db, redis) are never recreated by a rolling release. To tell
whether a release changes one, its container carries a label of per-setting
digests of what Compose would recreate it for; a container created without
that label is compared by what Docker reads back (command, healthcheck, ports).
"""

from __future__ import annotations

import hashlib
import json

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
