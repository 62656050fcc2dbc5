"""Builds every image the tests and the sandbox need, locally, cached by recipe.

No registry is reachable from this machine, so nothing is pulled:
  - two Debian root filesystems made with mmdebstrap and `docker import`
    (target hosts; the sample application's services);
  - the target-host image (own Docker engine + Compose v2 plugin + sshd);
  - the registry image (Debian's docker-registry binary FROM scratch);
  - the sample application: backend and frontend at every version of
    tests/sample_app/versions.yml, and stand-ins for postgres, redis, nginx.
Each image carries the hash of its recipe (its tag or a label); an image whose
hash is already present is not built again.

Usage: python3 tests/harness/images.py build   # build what is missing
       python3 tests/harness/images.py push    # push app images (registry up)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import common
from common import IMAGES, LABEL, PUSH_REGISTRY, SAMPLE_APP, docker, exists, hash_files, log, run

SUITE = "bookworm"
MMDEBSTRAP_OPTS = [
    "--variant=apt",
    '--aptopt=Acquire::Languages "none"',
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
]


def packages(name: str) -> list[str]:
    lines = (IMAGES / name / "packages.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def rootfs_image(name: str) -> str:
    """A Debian root filesystem image from tests/images/NAME/packages.txt."""
    pkgs = packages(name)
    tag = f"stickforstats/{name}:" + hash_files([], SUITE, *MMDEBSTRAP_OPTS, *pkgs)
    if exists("image", tag):
        return tag
    if not shutil.which("mmdebstrap"):
        log("installing mmdebstrap")
        run(["apt-get", "install", "-y", "-qq", "mmdebstrap"], capture=True)
    log(f"building {tag} with mmdebstrap (about 30 s)")
    started = time.monotonic()
    cmd = ["mmdebstrap", *MMDEBSTRAP_OPTS, f"--include={','.join(pkgs)}", SUITE, "-"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL) as mm:
        imported = subprocess.run(
            ["docker", "import", "--change", f"LABEL {LABEL}=1", "-", tag],
            stdin=mm.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        mm.stdout.close()
        rc = mm.wait()
    if rc != 0 or imported.returncode != 0:
        raise SystemExit(f"harness: mmdebstrap/import of {tag} failed: {imported.stderr}")
    log(f"built {tag} in {time.monotonic() - started:.0f} s")
    return tag


def built_with(ref: str, recipe: str) -> bool:
    info = common.inspect("image", ref)
    return bool(info) and (info["Config"].get("Labels") or {}).get(f"{LABEL}.recipe") == recipe


def docker_build(ref: str, context: Path, recipe: str, build_args: dict[str, str]) -> None:
    args = [
        "build",
        "-q",
        "-t",
        ref,
        "--label",
        f"{LABEL}=1",
        "--label",
        f"{LABEL}.recipe={recipe}",
    ]
    for key, value in build_args.items():
        args += ["--build-arg", f"{key}={value}"]
    log(f"building {ref}")
    docker(*args, str(context))


def context_image(
    name: str, recipe: str, copies: dict[Path, str], build_args: dict[str, str]
) -> str:
    """stickforstats/NAME:RECIPE built from a context of COPIES (source -> path in the
    context), unless it exists; tagged :latest as well."""
    ref = f"stickforstats/{name}:{recipe}"
    if not exists("image", ref):
        with tempfile.TemporaryDirectory() as tmp:
            for source, dest in copies.items():
                target = Path(tmp) / dest
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)  # follows symlinks: the real file lands there
            docker_build(ref, Path(tmp), recipe, build_args)
    docker("tag", ref, f"stickforstats/{name}:latest")
    return ref


def target_image() -> str:
    base = rootfs_image("target")
    compose = Path(
        run(["bash", str(common.HARNESS / "compose_plugin.sh")], capture=True).stdout.strip()
    )
    files = [p for p in common.recipe_files(IMAGES / "target") if p.name != "packages.txt"]
    recipe = hash_files(files, base, compose.name, str(compose.stat().st_size))
    copies = {f: f.name for f in files} | {compose: "docker-compose"}
    return context_image("target", recipe, copies, {"BASE": base})


def registry_image() -> str:
    binary = Path("/usr/bin/docker-registry")
    if not binary.exists():
        log("installing Debian's docker-registry")
        run(["apt-get", "install", "-y", "-qq", "docker-registry"], capture=True)
    libs = [
        Path(line.split("=>")[-1].split("(")[0].strip())
        for line in run(["ldd", str(binary)], capture=True).stdout.splitlines()
        if "/" in line
    ]
    files = common.recipe_files(IMAGES / "registry")
    recipe = hash_files([*files, binary, *libs])
    copies = {f: f.name for f in files} | {p: f"rootfs{p}" for p in [binary, *libs]}
    return context_image("registry", recipe, copies, {})


def versions() -> list[dict]:
    import yaml  # only the app build needs it; the venv and python3-yaml both have it

    return yaml.safe_load((SAMPLE_APP / "versions.yml").read_text())["versions"]


def app_images() -> list[str]:
    """Sample app images, tagged for the local registry (PUSH_REGISTRY/...)."""
    base = rootfs_image("app-base")
    refs: list[str] = []
    mirrors = {"postgres": "15", "redis": "7", "nginx": "1.22"}
    for name, tag in mirrors.items():
        ctx = IMAGES / name
        recipe = hash_files(common.recipe_files(ctx), base)
        ref = f"{PUSH_REGISTRY}/mirror/{name}:{tag}"
        if not built_with(ref, recipe):
            docker_build(ref, ctx, recipe, {"BASE": base})
        refs.append(ref)
    for service in ("backend", "frontend"):
        ctx = SAMPLE_APP / service
        for version in versions():
            args = {"BASE": base, "APP_VERSION": version["tag"]}
            if service == "backend":
                args["APP_MODE"] = version["mode"]
            recipe = hash_files(common.recipe_files(ctx), json.dumps(args, sort_keys=True))
            ref = f"{PUSH_REGISTRY}/stickforstats/{service}:{version['tag']}"
            if not built_with(ref, recipe):
                docker_build(ref, ctx, recipe, args)
            refs.append(ref)
    return refs


def registry_digest(ref: str) -> str | None:
    """The digest the registry holds for REF (None when it has none)."""
    _host, _, rest = ref.partition("/")
    name, _, tag = rest.rpartition(":")
    req = urllib.request.Request(
        f"http://127.0.0.1:{common.REGISTRY_PORT}/v2/{name}/manifests/{tag}",
        method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.headers.get("Docker-Content-Digest")
    except OSError:
        return None


def push(refs: list[str]) -> None:
    """Pushes each app image unless the registry already holds the same digest."""
    for ref in refs:
        info = common.inspect("image", ref) or {}
        local = {
            d.rpartition("@")[2]
            for d in info.get("RepoDigests", [])
            if d.startswith(ref.rpartition(":")[0] + "@")
        }
        held = registry_digest(ref)
        if held and held in local:
            continue
        log(f"pushing {ref}")
        docker("push", "-q", ref)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["build", "push"])
    args = parser.parse_args()
    started = time.monotonic()
    if args.action == "build":
        target_image()
        registry_image()
        app_images()
    else:
        push(app_images())
    log(f"images {args.action}: {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
