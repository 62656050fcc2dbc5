"""Tests of plugins/module_utils/_image_reference.py."""

from __future__ import annotations

import dataclasses

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils._image_reference import (
    ImageReference,
    ImageReferenceError,
    validate_digest,
    validate_tag,
)
from hypothesis import assume, given
from hypothesis import strategies as st

SHA = "sha256:" + "0123456789abcdef" * 4
SHA512 = "sha512:" + "f" * 128

# text, registry, path, tag, digest, repository, canonical
VALID = [
    ("nginx", None, "nginx", None, None, "nginx", "docker.io/library/nginx:latest"),
    ("nginx:1.25", None, "nginx", "1.25", None, "nginx", "docker.io/library/nginx:1.25"),
    (
        "library/nginx",
        None,
        "library/nginx",
        None,
        None,
        "library/nginx",
        "docker.io/library/nginx:latest",
    ),
    (
        "docker.io/library/nginx",
        "docker.io",
        "library/nginx",
        None,
        None,
        "docker.io/library/nginx",
        "docker.io/library/nginx:latest",
    ),
    (
        "docker.io/nginx:1",
        "docker.io",
        "nginx",
        "1",
        None,
        "docker.io/nginx",
        "docker.io/library/nginx:1",
    ),
    (
        "index.docker.io/library/nginx",
        "index.docker.io",
        "library/nginx",
        None,
        None,
        "index.docker.io/library/nginx",
        "docker.io/library/nginx:latest",
    ),
    (
        "stickforstats/backend",
        None,
        "stickforstats/backend",
        None,
        None,
        "stickforstats/backend",
        "docker.io/stickforstats/backend:latest",
    ),
    ("localhost/foo", "localhost", "foo", None, None, "localhost/foo", "localhost/foo:latest"),
    # 'localhost' alone is an image name, and ':5000' its tag, as for Docker.
    (
        "localhost:5000",
        None,
        "localhost",
        "5000",
        None,
        "localhost",
        "docker.io/library/localhost:5000",
    ),
    (
        "localhost:5000/a/b/c:tag",
        "localhost:5000",
        "a/b/c",
        "tag",
        None,
        "localhost:5000/a/b/c",
        "localhost:5000/a/b/c:tag",
    ),
    (
        "registry:5000/stickforstats/backend:abc1234",
        "registry:5000",
        "stickforstats/backend",
        "abc1234",
        None,
        "registry:5000/stickforstats/backend",
        "registry:5000/stickforstats/backend:abc1234",
    ),
    (
        f"127.0.0.1:5000/x@{SHA}",
        "127.0.0.1:5000",
        "x",
        None,
        SHA,
        "127.0.0.1:5000/x",
        f"127.0.0.1:5000/x@{SHA}",
    ),
    (
        f"ghcr.io/org/img:tag@{SHA}",
        "ghcr.io",
        "org/img",
        "tag",
        SHA,
        "ghcr.io/org/img",
        f"ghcr.io/org/img:tag@{SHA}",
    ),
    (
        f"nginx@{SHA512}",
        None,
        "nginx",
        None,
        SHA512,
        "nginx",
        f"docker.io/library/nginx@{SHA512}",
    ),
    (
        "[::1]:5000/foo:bar",
        "[::1]:5000",
        "foo",
        "bar",
        None,
        "[::1]:5000/foo",
        "[::1]:5000/foo:bar",
    ),
    (
        "Registry.Example.COM/a__b/c---d/e.f_g:_T.a-g",
        "Registry.Example.COM",
        "a__b/c---d/e.f_g",
        "_T.a-g",
        None,
        "Registry.Example.COM/a__b/c---d/e.f_g",
        "Registry.Example.COM/a__b/c---d/e.f_g:_T.a-g",
    ),
    ("foo:" + "t" * 128, None, "foo", "t" * 128, None, "foo", "docker.io/library/foo:" + "t" * 128),
]


@pytest.mark.parametrize(
    ("text", "registry", "path", "tag", "digest", "repository", "canonical"),
    VALID,
    ids=[case[0][:60] for case in VALID],
)
def test_parse_valid(
    text: str,
    registry: str | None,
    path: str,
    tag: str | None,
    digest: str | None,
    repository: str,
    canonical: str,
) -> None:
    ref = ImageReference.parse(text)
    assert (ref.registry, ref.path, ref.tag, ref.digest) == (registry, path, tag, digest)
    assert ref.format() == text
    assert str(ref) == text
    assert ref.repository == repository
    assert ref.canonical == canonical
    assert ref.normalized().format() == canonical
    assert ImageReference.parse(canonical) == ref.normalized()


# text, fragment expected in the message
INVALID = [
    ("Nginx/Foo", "must be lower case"),
    ("Nginx", "must be lower case"),
    ("registry:5000/StickForStats/backend", "must be lower case"),
    ("foo:", "tag is empty"),
    ("foo:" + "t" * 129, "tag is 129 characters long"),
    ("foo:.tag", "is not valid"),
    ("foo:-tag", "is not valid"),
    ("foo@sha256:abc", "needs exactly 64 lower case hex digits"),
    ("foo@sha256:" + "A" * 64, "needs exactly 64 lower case hex digits"),
    ("foo@md5:" + "a" * 32, "not supported"),
    ("foo@sha256", "is not of the form 'algorithm:hex'"),
    ("foo@", "is not of the form 'algorithm:hex'"),
    (f"foo@{SHA}@{SHA}", "more than one '@'"),
    ("foo::bar", "repository path 'foo:' is not valid"),
    ("", "reference is empty"),
    ("a b", "contains whitespace"),
    (" nginx", "contains whitespace"),
    ("nginx\n", "contains whitespace"),
    ("/nginx", "is not valid"),
    ("nginx/", "is not valid"),
    ("a//b", "is not valid"),
    ("-nginx", "is not valid"),
    ("nginx_", "is not valid"),
    ("a___b", "is not valid"),
    ("registry:port/foo", "is not a valid host[:port]"),
    ("-registry.io/foo", "is not a valid host[:port]"),
    (":5000/foo", "is not a valid host[:port]"),
    ("docker.io/" + "a" * 246, "at most 255 are allowed"),
]


@pytest.mark.parametrize(("text", "fragment"), INVALID, ids=[case[0][:40] for case in INVALID])
def test_parse_invalid(text: str, fragment: str) -> None:
    with pytest.raises(ImageReferenceError) as excinfo:
        ImageReference.parse(text)
    message = str(excinfo.value)
    assert fragment in message
    assert repr(text) in message, "the message quotes the reference"
    assert isinstance(excinfo.value, ValueError)
    assert excinfo.value.reference == text


@pytest.mark.parametrize("value", [None, 42, b"nginx", ["nginx"]])
def test_parse_rejects_non_strings(value: object) -> None:
    with pytest.raises(ImageReferenceError, match="expected a string"):
        ImageReference.parse(value)  # type: ignore[arg-type]


def test_longest_name_is_valid() -> None:
    text = "docker.io/" + "a" * 245
    assert ImageReference.parse(text).format() == text


@pytest.mark.parametrize(
    ("registry", "path", "fragment"),
    [
        ("registry", "foo", "would be read as part of the path"),
        (None, "registry.io/foo", "would be read as a registry"),
        (None, "localhost/foo", "would be read as a registry"),
        (None, "", "repository path is empty"),
    ],
)
def test_constructor_rejects_ambiguous_fields(
    registry: str | None, path: str, fragment: str
) -> None:
    with pytest.raises(ImageReferenceError, match=fragment):
        ImageReference(registry=registry, path=path)


def test_frozen_and_hashable() -> None:
    ref = ImageReference.parse("nginx:1.25")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.tag = "1.26"  # type: ignore[misc]
    assert {ref, ImageReference.parse("nginx:1.25")} == {ref}
    assert repr(ref) == "ImageReference(registry=None, path='nginx', tag='1.25', digest=None)"


def test_with_tag_and_digest() -> None:
    ref = ImageReference.parse("registry:5000/stickforstats/backend")
    tagged = ref.with_tag("abc1234")
    assert tagged.format() == "registry:5000/stickforstats/backend:abc1234"
    pinned = tagged.with_digest(SHA)
    assert pinned.format() == f"registry:5000/stickforstats/backend:abc1234@{SHA}"
    assert pinned.with_tag("v2").format() == f"registry:5000/stickforstats/backend:v2@{SHA}"
    assert pinned.with_tag(None).format() == f"registry:5000/stickforstats/backend@{SHA}"
    assert pinned.with_digest(None) == tagged
    assert pinned.without_tag_and_digest() == ref
    assert ref.format() == "registry:5000/stickforstats/backend", "the original is unchanged"


@pytest.mark.parametrize(
    ("method", "value", "fragment"),
    [
        ("with_tag", "bad tag", "is not valid"),
        ("with_tag", "", "tag is empty"),
        ("with_tag", "x" * 129, "129 characters"),
        ("with_digest", "sha256:abc", "64 lower case hex digits"),
        ("with_digest", "abc", "algorithm:hex"),
    ],
)
def test_with_invalid_values(method: str, value: str, fragment: str) -> None:
    ref = ImageReference.parse("registry:5000/stickforstats/backend")
    with pytest.raises(ImageReferenceError, match=fragment) as excinfo:
        getattr(ref, method)(value)
    assert "registry:5000/stickforstats/backend" in str(excinfo.value)


def test_validate_helpers() -> None:
    assert validate_tag("abc1234") == "abc1234"
    assert validate_digest(SHA) == SHA
    with pytest.raises(ImageReferenceError, match="'v 1'"):
        validate_tag("v 1")
    with pytest.raises(ImageReferenceError, match="'sha256:00'"):
        validate_digest("sha256:00")


# ---------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------

_path_components = st.from_regex(r"\A[a-z0-9]{1,6}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,6}){0,2}\Z")
_paths = st.lists(_path_components, min_size=1, max_size=4).map("/".join)
_domain_components = st.from_regex(r"\A[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?\Z")
_ports = st.integers(min_value=1, max_value=65535).map(str)
_registries = st.one_of(
    st.none(),
    st.just("localhost"),
    st.builds(lambda port: f"localhost:{port}", _ports),
    st.builds(
        lambda parts, port: ".".join(parts) + (f":{port}" if port else ""),
        st.lists(_domain_components, min_size=2, max_size=4),
        st.one_of(st.none(), _ports),
    ),
    st.builds(lambda name, port: f"{name}:{port}", _domain_components, _ports),
    st.builds(
        lambda octets, port: ".".join(map(str, octets)) + f":{port}",
        st.lists(st.integers(0, 255), min_size=4, max_size=4),
        _ports,
    ),
)
_tags = st.one_of(st.none(), st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z"))
_digests = st.one_of(
    st.none(),
    st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map("sha256:".__add__),
    st.text(alphabet="0123456789abcdef", min_size=128, max_size=128).map("sha512:".__add__),
)


@st.composite
def references(draw: st.DrawFn) -> ImageReference:
    registry = draw(_registries)
    path = draw(_paths)
    if registry is None and "/" in path:
        first = path.split("/", 1)[0]
        assume("." not in first and first != "localhost")
    assume(len(path) + (len(registry) + 1 if registry else 0) <= 255)
    return ImageReference(registry=registry, path=path, tag=draw(_tags), digest=draw(_digests))


@given(references())
def test_parse_format_round_trip(ref: ImageReference) -> None:
    text = ref.format()
    assert ImageReference.parse(text) == ref
    assert ImageReference.parse(text).format() == text


@given(references())
def test_normalized_is_idempotent_and_round_trips(ref: ImageReference) -> None:
    normalized = ref.normalized()
    assert normalized.registry is not None
    assert normalized.normalized() == normalized
    assert ImageReference.parse(normalized.format()) == normalized
    assert normalized.tag is not None or normalized.digest is not None
    assert normalized.digest == ref.digest


@given(references(), _tags, _digests)
def test_with_tag_with_digest(ref: ImageReference, tag: str | None, digest: str | None) -> None:
    changed = ref.with_tag(tag).with_digest(digest)
    assert (changed.registry, changed.path, changed.tag, changed.digest) == (
        ref.registry,
        ref.path,
        tag,
        digest,
    )
    assert ImageReference.parse(changed.format()) == changed
    assert changed.repository == ref.repository


@given(st.text(max_size=40))
def test_parse_never_fails_unexpectedly(text: str) -> None:
    try:
        ref = ImageReference.parse(text)
    except ImageReferenceError as exc:
        assert repr(text) in str(exc)
    else:
        assert ref.format() == text
