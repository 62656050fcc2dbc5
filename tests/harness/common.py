"""Shared helpers of the test harness: paths, running docker, recipe hashes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HARNESS = REPO / "tests" / "harness"
IMAGES = REPO / "tests" / "images"
SAMPLE_APP = REPO / "tests" / "sample_app"
CACHE = Path(os.environ.get("SFS_CACHE", REPO / ".cache"))
STATE = Path(os.environ.get("SFS_STATE", REPO / ".state"))

NETWORK = os.environ.get("SFS_NETWORK", "sfs-net")
REGISTRY_CONTAINER = os.environ.get("SFS_REGISTRY_CONTAINER", "sfs-registry")
REGISTRY_PORT = int(os.environ.get("SFS_REGISTRY_PORT", "5000"))
# The host pushes to localhost:PORT, targets pull registry:5000 (same paths).
PUSH_REGISTRY = f"localhost:{REGISTRY_PORT}"
PULL_REGISTRY = "registry:5000"
LABEL = "org.stickforstats.harness"


def log(msg: str) -> None:
    print(f"harness: {msg}", file=sys.stderr, flush=True)


def run(
    args: list[str], *, check: bool = True, capture: bool = False, **kw
) -> subprocess.CompletedProcess:
    """Runs a command; on failure raises with its output in the message."""
    proc = subprocess.run(
        args,
        check=False,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
        **kw,
    )
    if check and proc.returncode != 0:
        detail = (proc.stderr or "")[-2000:] if capture else ""
        raise SystemExit(f"harness: command failed ({proc.returncode}): {' '.join(args)}\n{detail}")
    return proc


def docker(*args: str, check: bool = True) -> str:
    return run(["docker", *args], check=check, capture=True).stdout.strip()


def exists(kind: str, name: str) -> bool:
    """True when a docker object (image, container, network, volume) exists."""
    return run(["docker", kind, "inspect", name], check=False, capture=True).returncode == 0


def inspect(kind: str, name: str) -> dict | None:
    proc = run(["docker", kind, "inspect", name], check=False, capture=True)
    return json.loads(proc.stdout)[0] if proc.returncode == 0 else None


def hash_files(paths: Iterable[Path], *extra: str) -> str:
    """A content hash of a recipe: file names relative to the repo, contents, extras."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(
            str(path.relative_to(REPO) if path.is_relative_to(REPO) else path.name).encode()
        )
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    for item in extra:
        digest.update(item.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def recipe_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
