"""The Docker Compose CLI as ``compose_rollout`` drives it.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice.

A release's services are read with ``docker compose config``; an override file
(written in the proxy directory) adds the proxy's mount of that directory and
the labels that tell a release's containers from the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex

from ansible_collections.stickforstats.deploy.plugins.module_utils._data_services import (
    CONFIG_LABEL,
    SETTINGS_LABEL,
)

LABEL = CONFIG_LABEL  # a release's web containers: the digest of all their settings
OVERRIDE = "compose.override.yml"


class RolloutError(Exception):
    """A step of the rollout failed; the message is one line, naming no secret value."""


class Compose:
    """``docker`` and ``docker compose`` for one release of one project."""

    def __init__(
        self, module: object, project: str, src: str, files: list[str], override: str
    ) -> None:
        # AnsibleModule: its run_command is looked up when a command runs.
        self.module = module
        self.project = project
        self.src = src
        self.files = files
        self.override = override

    def run(self, argv: list[str], check: bool = True) -> str:
        """ARGV's output; with CHECK, a non-zero exit raises :class:`RolloutError`."""
        rc, out, err = self.module.run_command(  # type: ignore[attr-defined]
            argv, environ_update={"COMPOSE_PROGRESS": "quiet"}
        )
        if check and rc != 0:
            # Compose and Docker errors name files and services, never env values.
            last = [line for line in (err or out).strip().splitlines() if line.strip()][-1:]
            raise RolloutError(
                f"`{' '.join(shlex.quote(a) for a in argv[:6])} ...` exited {rc}: "
                + (last[0] if last else "no output")
            )
        return out

    def compose(self, *args: str) -> str:
        """``docker compose`` with the release's files and the override."""
        argv = ["docker", "compose", "--project-name", self.project,
                "--project-directory", self.src]  # fmt: skip
        for name in self.files:
            argv += ["--file", os.path.join(self.src, name)]
        argv += ["--file", self.override]
        return self.run(argv + list(args))

    def services(self) -> dict[str, dict]:
        """The release's services as Compose resolves them."""
        return json.loads(self.compose("config", "--format", "json"))["services"]


def override_text(
    mark: str,
    proxy: str,
    proxy_mount: dict | None,
    labels: dict[str, str],
    settings: dict[str, str] | None = None,
) -> str:
    """The override file: PROXY's mount (a Compose bind volume), LABEL and SETTINGS_LABEL.

    The label (a digest of the service's resolved settings) tells the
    containers of this release from the others. Compose's own config-hash
    label cannot: it hashes a service without depends_on under --no-deps.
    """
    services: dict[str, dict] = {}
    if proxy and proxy_mount:
        services[proxy] = {"volumes": [proxy_mount]}
    for svc, value in labels.items():
        services.setdefault(svc, {})["labels"] = {LABEL: value}
    for svc, value in (settings or {}).items():
        services.setdefault(svc, {}).setdefault("labels", {})[SETTINGS_LABEL] = value
    return mark + json.dumps({"services": services}, indent=2, sort_keys=True) + "\n"


def config_digest(spec: dict) -> str:
    """A digest of a service's resolved settings, leaving out how it is ordered and scaled."""
    spec = {k: v for k, v in spec.items() if k not in ("depends_on", "scale")}
    spec["labels"] = {k: v for k, v in (spec.get("labels") or {}).items() if k != LABEL}
    if isinstance(spec.get("deploy"), dict):
        spec["deploy"] = {k: v for k, v in spec["deploy"].items() if k != "replicas"}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
