"""The image_pins module (plugins/modules/image_pins.py) against a stand-in `docker`.

On real targets: tests/integration/test_digest_pinning.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.stickforstats.deploy.plugins.modules import image_pins
from ansible_collections.stickforstats.deploy.plugins.modules.image_pins import (
    Pins,
    pulled_digest,
    recorded_pins,
    repo_digests,
)

OLD, NEW, GONE = ("sha256:" + c * 64 for c in "abc")
REPO = "registry:5000/sfs/backend"


class FakeModule:
    """AnsibleModule's parts Pins uses, with `docker` answered from HOST (ref -> inspect)."""

    def __init__(self, host: dict, registry: dict, pull: str = "missing", missing: str = "fail",
                 check_mode: bool = False) -> None:  # fmt: skip
        self.host, self.registry, self.calls = host, registry, []
        self.params = {"pull": pull, "missing": missing}
        self.check_mode = check_mode

    def run_command(self, argv: list[str]) -> tuple[int, str, str]:
        self.calls.append(argv[1:])
        if argv[1:3] == ["image", "inspect"]:
            found = self.host.get(argv[3])
            return (0, json.dumps([found]), "") if found else (1, "[]", "No such image")
        if argv[1] == "pull":
            ref = argv[2]
            if ref not in self.registry:
                return 1, "", f"Error response from daemon: manifest for {ref} not found"
            digest = self.registry[ref]
            image = {"RepoDigests": [f"{REPO}@{digest}"]}
            self.host[ref] = self.host[f"{REPO}@{digest}"] = image
            return 0, f"c0ffee1: Pulling\nDigest: {digest}\nStatus: Downloaded newer image\n", ""
        raise AssertionError(argv)


def test_the_digest_is_the_one_the_pull_got_for_the_repository_the_reference_names() -> None:
    assert pulled_digest(f"a\nDigest: {NEW}\nStatus: Image is up to date\n") == NEW
    assert pulled_digest("no digest") is None
    image = {"RepoDigests": [f"{REPO}@{OLD}", f"other/repo@{NEW}"]}
    assert repo_digests(image, REPO) == [OLD]


def test_a_tag_pushed_again_is_pinned_to_what_this_pull_got_not_what_the_host_had() -> None:
    module = FakeModule({f"{REPO}:c0ffee1": {"RepoDigests": [f"{REPO}@{OLD}"]}},
                        {f"{REPO}:c0ffee1": NEW}, pull="always")  # fmt: skip
    result = Pins(module).run({"backend": f"{REPO}:c0ffee1", "worker": f"{REPO}:c0ffee1"})
    assert result["pinned"] == {
        "backend": f"{REPO}:c0ffee1@{NEW}",
        "worker": f"{REPO}:c0ffee1@{NEW}",
    }
    assert result["pulled"] == ["backend", "worker"]
    # one pull per image, not per service
    assert module.calls.count(["pull", f"{REPO}:c0ffee1"]) == 1


def test_without_pulling_the_digest_is_the_hosts_and_an_unknown_one_is_omitted_or_named() -> None:
    host = {f"{REPO}:c0ffee1": {"RepoDigests": [f"{REPO}@{OLD}"]}, "local:dev": {"RepoDigests": []}}
    images = {"backend": f"{REPO}:c0ffee1", "frontend": "local:dev"}
    omit = Pins(FakeModule(dict(host), {}, pull="never", missing="omit"))
    assert omit.run(images)["digests"] == {"backend": OLD} and omit.problems == []
    fail = Pins(FakeModule(dict(host), {}, pull="never"))
    fail.run(images)
    assert fail.problems == ["frontend: local:dev has no digest in local on this host"]


def test_a_pinned_image_gone_from_the_host_is_pulled_by_digest_never_by_tag() -> None:
    module = FakeModule({}, {f"{REPO}@{OLD}": OLD, f"{REPO}:c0ffee1": NEW})
    result = Pins(module).run({"backend": f"{REPO}:c0ffee1@{OLD}"})
    assert result == {"pinned": {"backend": f"{REPO}:c0ffee1@{OLD}"}, "digests": {"backend": OLD},
                      "pulled": ["backend"]}  # fmt: skip
    assert ["pull", f"{REPO}@{OLD}"] in module.calls
    assert ["pull", f"{REPO}:c0ffee1"] not in module.calls


def test_a_pinned_image_that_cannot_be_pulled_is_refused_naming_the_services_and_digest() -> None:
    pins = Pins(FakeModule({}, {f"{REPO}:c0ffee1": GONE}))
    result = pins.run({"backend": f"{REPO}:c0ffee1@{GONE}", "worker": f"{REPO}:c0ffee1@{GONE}"})
    assert result["pinned"] == {}
    assert len(pins.problems) == 1
    assert pins.problems[0].startswith(
        f"backend, worker: {REPO}@{GONE} is not on this host and could not be pulled by digest"
    ), pins.problems


def test_check_mode_pulls_nothing() -> None:
    module = FakeModule({}, {f"{REPO}@{OLD}": OLD}, check_mode=True)
    assert Pins(module).run({"backend": f"{REPO}:c0ffee1@{OLD}"})["pulled"] == ["backend"]
    assert not [call for call in module.calls if call[0] == "pull"]


def test_a_release_recorded_before_pinning_has_no_pins(tmp_path: Path) -> None:
    (tmp_path / "release.json").write_text(json.dumps({"version": "c0ffee1", "images": {}}))
    assert recorded_pins(str(tmp_path)) is None
    (tmp_path / "release.json").write_text(json.dumps({"pins": {"backend": f"{REPO}:c@{OLD}"}}))
    assert recorded_pins(str(tmp_path)) == {"backend": f"{REPO}:c@{OLD}"}
    assert recorded_pins(str(tmp_path / "missing")) is None


@pytest.mark.parametrize("name", ["repo_digests", "pulled_digest", "recorded_pins", "Pins", "main"])
def test_the_module_has_its_parts(name: str) -> None:
    assert callable(getattr(image_pins, name))
