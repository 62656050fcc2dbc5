"""What is scanned is what runs, and what comes back: a tag pushed again between
deploys changes nothing a release runs.

In order, on one target: A (a tag of the tests' own, first with c0ffee1's
images) is deployed and records the digests it pulled (deployed again, nothing
changes); tag A is pushed again
with c0ffee3's images; B (c0ffee2) is deployed with no warm window; the host's
tag A is pulled again (the new content) and the original A image is removed;
the rollback pulls A's recorded digests by digest and runs them (its health
answers c0ffee1, not c0ffee3). A release whose recorded digest the registry
does not hold is refused, naming the service and the digest. At the end, tag A
names its first images again.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from ansible_run import ROOT, changed, deploy, http, on_target, playbook, serving
from common import PUSH_REGISTRY
from images import registry_digest

pytestmark = pytest.mark.docker
A, FIRST, SECOND, B = "d16e571", "c0ffee1", "c0ffee3", "c0ffee2"
SERVICES = ("backend", "frontend")
REPO = "registry:5000/stickforstats/{}"  # as the targets name it
GONE = "sha256:" + "0" * 63 + "1"


def push_as(version: str, tag: str) -> dict[str, str]:
    """Pushes the images of VERSION under TAG (the harness registry); service -> digest."""
    for service in SERVICES:
        source, target = (f"{PUSH_REGISTRY}/stickforstats/{service}:{v}" for v in (version, tag))
        subprocess.run(["docker", "tag", source, target], check=True)
        subprocess.run(["docker", "push", "-q", target], check=True, capture_output=True)
    return {s: registry_digest(f"{PUSH_REGISTRY}/stickforstats/{s}:{tag}") for s in SERVICES}


def running_image(target: dict, service: str) -> str:
    """Image id of the container of SERVICE that serves: the one the front door's
    routes name (under rolling, the previous release's stay warm beside it)."""
    state = on_target(target, f"cat {ROOT}/proxy/state.json 2>/dev/null || true")
    active = (json.loads(state).get("active") or {}).get(service) if state.strip() else None
    ids = (
        active
        or on_target(
            target, f"docker ps -q --filter label=com.docker.compose.service={service}"
        ).split()
    )
    images = {on_target(target, f"docker inspect -f '{{{{.Image}}}}' {i}").strip() for i in ids}
    assert len(images) == 1, images
    return images.pop()


def image_id(target: dict, ref: str) -> str:
    return on_target(target, f"docker image inspect -f '{{{{.Id}}}}' {ref}").strip()


def manifest(target: dict, version: str) -> dict:
    return json.loads(on_target(target, f"cat {ROOT}/releases/{version}/release.json"))


@pytest.fixture(scope="module")
def first_a(ssh_target) -> dict[str, str]:
    """Tag A with c0ffee1's images in the registry; their digests. Put back at the end."""
    digests = push_as(FIRST, A)
    yield digests
    push_as(FIRST, A)


def test_a_release_records_and_runs_the_digests_it_pulled(ssh_target, first_a):
    run = deploy(ssh_target, A)
    assert run.returncode == 0, run.stdout[-5000:]
    pins = manifest(ssh_target, A)["pins"]
    for service in ("backend", "asgi", "worker", "beat"):
        assert pins[service] == f"{REPO.format('backend')}:{A}@{first_a['backend']}", pins
    assert pins["frontend"] == f"{REPO.format('frontend')}:{A}@{first_a['frontend']}", pins
    compose = on_target(ssh_target, f"cat {ROOT}/releases/{A}/docker-compose.yml")
    assert f"image: {pins['backend']}" in compose
    pinned = image_id(ssh_target, f"{REPO.format('backend')}@{first_a['backend']}")
    assert running_image(ssh_target, "backend") == pinned
    assert http(ssh_target, "/api/v1/health/")["version"] == FIRST


def test_a_second_deploy_of_the_same_pinned_release_changes_nothing(ssh_target, first_a):
    run = deploy(ssh_target, A)
    assert run.returncode == 0, run.stdout[-5000:]
    assert changed(run.stdout) == 0, run.stdout[-5000:]


def test_a_rollback_brings_back_the_recorded_digest_not_what_the_tag_names_now(ssh_target, first_a):
    moved = push_as(SECOND, A)
    assert moved["backend"] != first_a["backend"]
    run = deploy(ssh_target, B, "-e", "deploy_warm_window=0")
    assert run.returncode == 0, run.stdout[-5000:]
    pulled = registry_digest(f"{PUSH_REGISTRY}/stickforstats/backend:{B}")
    assert manifest(ssh_target, B)["pins"]["backend"] == f"{REPO.format('backend')}:{B}@{pulled}"
    # The host's tag A names the new content; the image A ran is gone from the host.
    original = image_id(ssh_target, f"{REPO.format('backend')}@{first_a['backend']}")
    for service in SERVICES:
        on_target(ssh_target, f"docker pull -q {REPO.format(service)}:{A} >/dev/null")
    on_target(ssh_target, f"docker rmi -f {original} >/dev/null")

    run = playbook(ssh_target["inventory"], "rollback.yml")
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == A
    assert http(ssh_target, "/api/v1/health/")["version"] == FIRST
    assert running_image(ssh_target, "backend") == original
    tagged = image_id(ssh_target, f"{REPO.format('backend')}:{A}")
    assert tagged != original  # the tag names other content: it did not come back


def test_a_recorded_digest_that_cannot_be_pulled_is_refused_naming_service_and_digest(
    ssh_target, first_a
):
    pinned = manifest(ssh_target, B)["pins"]["backend"].rpartition("@")[2]
    files = f"{ROOT}/releases/{B}/release.json {ROOT}/releases/{B}/docker-compose.yml"
    on_target(ssh_target, f"sed -i 's/{pinned}/{GONE}/g' {files}")
    try:
        run = playbook(ssh_target["inventory"], "rollback.yml", "-e", f"rollback_to={B}")
    finally:
        on_target(ssh_target, f"sed -i 's/{GONE}/{pinned}/g' {files}")
    assert run.returncode != 0
    said = " ".join(run.stdout.split())
    assert f"Release {B} cannot come back as it ran (nothing was switched)" in said, said[-3000:]
    assert f"asgi, backend, beat, worker: {REPO.format('backend')}@{GONE} is not on this host" in (
        said
    )
    assert serving(ssh_target) == A
    assert http(ssh_target, "/api/v1/health/")["version"] == FIRST
