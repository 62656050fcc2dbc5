"""The images per service a deploy would change (plugins/filter/compose.py)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stickforstats.deploy.plugins.filter.compose import (
    FilterModule,
    release_image_changes,
)

SOURCE = """\
services:
  backend:
    build: {context: .}
  frontend:
    build: {context: frontend}
  db:
    image: postgres:15
"""
IMAGES = {"backend": "r:5000/sfs/backend", "frontend": "r:5000/sfs/frontend"}
SERVING = """\
services:
  backend: {image: "r:5000/sfs/backend:c0ffee1"}
  frontend: {image: "r:5000/sfs/frontend:c0ffee1"}
  db: {image: "postgres:15"}
  old: {image: "busybox:1"}
"""


def test_only_changed_services_are_listed_with_the_recorded_digest_before() -> None:
    manifest = {
        "images": {"r:5000/sfs/backend:c0ffee1": "r:5000/sfs/backend@sha256:aa r:5000/x@sha256:bb"}
    }
    changes = release_image_changes(SERVING, SOURCE, IMAGES, "c0ffee2", manifest)
    assert changes == [
        {"service": "backend", "before": "r:5000/sfs/backend:c0ffee1",
         "after": "r:5000/sfs/backend:c0ffee2", "before_digest": "sha256:aa"},
        {"service": "frontend", "before": "r:5000/sfs/frontend:c0ffee1",
         "after": "r:5000/sfs/frontend:c0ffee2", "before_digest": ""},
        {"service": "old", "before": "busybox:1", "after": "(removed)", "before_digest": ""},
    ]  # fmt: skip


def test_the_same_version_changes_no_image() -> None:
    assert release_image_changes(SERVING.replace("  old: {image: \"busybox:1\"}\n", ""),
                                 SOURCE, IMAGES, "c0ffee1") == []  # fmt: skip


def test_a_first_deploy_lists_every_service_as_new() -> None:
    changes = release_image_changes("", SOURCE, IMAGES, "c0ffee2")
    assert [(c["service"], c["before"]) for c in changes] == [
        ("backend", "(none)"), ("db", "(none)"), ("frontend", "(none)"),
    ]  # fmt: skip


def test_a_compose_file_that_cannot_be_rewritten_is_an_error_naming_the_service() -> None:
    with pytest.raises(AnsibleFilterError, match="frontend"):
        release_image_changes(SERVING, SOURCE, {"backend": "r/b"}, "c0ffee2")


def test_the_filter_is_exposed() -> None:
    assert "release_image_changes" in FilterModule().filters()


def test_a_serving_file_pinned_by_digest_compares_by_tag_and_gives_its_digest_before() -> None:
    pin = "sha256:" + "a" * 64
    serving = f'services:\n  backend: {{image: "r:5000/sfs/backend:c0ffee1@{pin}"}}\n'
    source = "services:\n  backend:\n    build: {context: .}\n"
    images = {"backend": "r:5000/sfs/backend"}
    assert release_image_changes(serving, source, images, "c0ffee1") == []
    assert release_image_changes(serving, source, images, "c0ffee2") == [
        {"service": "backend", "before": "r:5000/sfs/backend:c0ffee1",
         "after": "r:5000/sfs/backend:c0ffee2", "before_digest": pin},
    ]  # fmt: skip
