"""Tests of the image filters (plugins/filter/image.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stickforstats.deploy.plugins.filter.image import (
    FilterModule,
    image_parse,
    image_repository,
    image_with_digest,
    image_with_tag,
)

SHA = "sha256:" + "ab" * 32
COLLECTIONS_ROOT = Path(__file__).resolve().parents[4] / "collections"

FILTERS = ("image_parse", "image_with_tag", "image_with_digest", "image_repository")


def test_filter_module_exposes_filters() -> None:
    assert sorted(FilterModule().filters()) == sorted(FILTERS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "registry:5000/stickforstats/backend:abc1234",
            {
                "registry": "registry:5000",
                "repository": "registry:5000/stickforstats/backend",
                "path": "stickforstats/backend",
                "tag": "abc1234",
                "digest": None,
                "canonical": "registry:5000/stickforstats/backend:abc1234",
            },
        ),
        (
            "nginx",
            {
                "registry": None,
                "repository": "nginx",
                "path": "nginx",
                "tag": None,
                "digest": None,
                "canonical": "docker.io/library/nginx:latest",
            },
        ),
        (
            f"ghcr.io/org/img:tag@{SHA}",
            {
                "registry": "ghcr.io",
                "repository": "ghcr.io/org/img",
                "path": "org/img",
                "tag": "tag",
                "digest": SHA,
                "canonical": f"ghcr.io/org/img:tag@{SHA}",
            },
        ),
    ],
)
def test_image_parse(value: str, expected: dict[str, str | None]) -> None:
    assert image_parse(value) == expected


@pytest.mark.parametrize(
    ("value", "tag", "expected"),
    [
        (
            "registry:5000/stickforstats/backend",
            "abc1234",
            "registry:5000/stickforstats/backend:abc1234",
        ),
        ("nginx:1.25", "1.26", "nginx:1.26"),
        (f"nginx:1.25@{SHA}", "1.26", f"nginx:1.26@{SHA}"),
        ("nginx:1.25", None, "nginx"),
    ],
)
def test_image_with_tag(value: str, tag: str | None, expected: str) -> None:
    assert image_with_tag(value, tag) == expected


@pytest.mark.parametrize(
    ("value", "digest", "expected"),
    [
        ("localhost:5000/app:v1", SHA, f"localhost:5000/app:v1@{SHA}"),
        (f"localhost:5000/app@{SHA}", None, "localhost:5000/app"),
    ],
)
def test_image_with_digest(value: str, digest: str | None, expected: str) -> None:
    assert image_with_digest(value, digest) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            f"registry:5000/stickforstats/backend:abc1234@{SHA}",
            "registry:5000/stickforstats/backend",
        ),
        ("nginx:1.25", "nginx"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000/x"),
    ],
)
def test_image_repository(value: str, expected: str) -> None:
    assert image_repository(value) == expected


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: image_parse("Nginx/Foo"), "image_parse: invalid image reference 'Nginx/Foo'"),
        (lambda: image_parse(""), "invalid image reference ''"),
        (lambda: image_parse(42), "image_parse: expected an image reference string, got int 42"),
        (lambda: image_parse(None), "expected an image reference string"),
        (lambda: image_repository("a b"), "image_repository: invalid image reference 'a b'"),
        (lambda: image_with_tag("foo::bar", "x"), "invalid image reference 'foo::bar'"),
        (
            lambda: image_with_tag("nginx", "bad tag"),
            "image_with_tag: invalid image reference 'nginx:bad tag'",
        ),
        (lambda: image_with_tag("nginx", "x" * 129), "129 characters"),
        (
            lambda: image_with_digest("nginx", "sha256:abc"),
            "invalid image reference 'nginx@sha256:abc'",
        ),
    ],
)
def test_errors(call: object, fragment: str) -> None:
    with pytest.raises(AnsibleFilterError) as excinfo:
        call()  # type: ignore[operator]
    assert fragment in str(excinfo.value)


def test_filters_load_in_ansible(tmp_path: Path) -> None:
    """The filters work when Ansible loads them from the collection."""
    ansible = Path(sys.executable).with_name("ansible")
    if not ansible.exists():
        pytest.skip("ansible is not installed next to this Python")
    expression = (
        "{{ 'registry:5000/stickforstats/backend' | stickforstats.deploy.image_with_tag('c0ffee1') }}"
        "|{{ ('nginx' | stickforstats.deploy.image_parse).canonical }}"
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")},
        "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path),
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
    }
    completed = subprocess.run(
        [
            str(ansible),
            "localhost",
            "-i",
            "localhost,",
            "-c",
            "local",
            "-m",
            "debug",
            "-a",
            f"msg={expression}",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (
        "registry:5000/stickforstats/backend:c0ffee1|docker.io/library/nginx:latest"
        in completed.stdout
    )
