"""The sample app with a one-shot service: it runs once per release and exits 0
(as a collectstatic or an init job does), `restart: "no"`."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import yaml
from ansible_run import REPO
from campaign import Campaign, Fault
from injectors import Injector, deploy_run

SERVICE = {
    "image": "registry:5000/mirror/redis:7",
    "entrypoint": ["redis-server", "--version"],  # prints a line, exits 0
    "restart": "no",
}


def app_with_oneshot(directory: Path) -> Path:
    """A copy of tests/sample_app whose compose file has the service `init`."""
    app = directory / "sample_app_oneshot"
    if not app.exists():
        shutil.copytree(REPO / "tests" / "sample_app", app)
        compose = app / "docker-compose.prod.yml"
        spec = yaml.safe_load(compose.read_text())
        spec["services"]["init"] = SERVICE
        compose.write_text(yaml.safe_dump(spec, sort_keys=False))
    return app


def deploy_with_oneshot(campaign: Campaign, app: Path) -> Injector:
    def inject(logs: Path) -> Fault:
        run = deploy_run(campaign, logs, "", extra=("-e", f"deploy_app_dir={app}"))
        code = run.wait()
        return Fault(time.monotonic(), f"deploy.yml with the one-shot service: exit {code}")

    return inject
