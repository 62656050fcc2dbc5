"""Parse, validate and format Docker image references.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice.

The grammar follows ``github.com/distribution/reference``::

    reference      := name [ ":" tag ] [ "@" digest ]
    name           := [domain "/"] path
    domain         := host [ ":" port ]
    host           := domain-name | IPv4 | "[" IPv6 "]"
    path           := path-component [ "/" path-component ]*
    path-component := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
    tag            := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
    digest         := algorithm ":" hex

The first component of a name is the registry (domain) only when it contains
a ``.`` or a ``:``, is ``localhost``, or contains upper case letters, exactly
as the Docker CLI decides it.  A reference without a registry implicitly lives
on ``docker.io``, and a single-component path there implicitly lives under
``library/``; :meth:`ImageReference.normalized` makes both explicit, while
:meth:`ImageReference.format` always reproduces the reference as it was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = [
    "DEFAULT_REGISTRY",
    "DEFAULT_TAG",
    "OFFICIAL_REPOSITORY_PREFIX",
    "ImageReference",
    "ImageReferenceError",
    "validate_digest",
    "validate_tag",
]

DEFAULT_REGISTRY = "docker.io"
"""Registry of references that do not name one."""

LEGACY_DEFAULT_REGISTRY = "index.docker.io"
"""Old spelling of :data:`DEFAULT_REGISTRY`, normalized to it."""

OFFICIAL_REPOSITORY_PREFIX = "library"
"""Namespace of single-component (official) images on :data:`DEFAULT_REGISTRY`."""

DEFAULT_TAG = "latest"
"""Tag implied by a reference with neither tag nor digest."""

NAME_TOTAL_LENGTH_MAX = 255
"""Maximum length of registry plus path, as enforced by the Docker tooling."""

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_RE = re.compile(rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?", re.ASCII)

_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*", re.ASCII)

_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)

_DIGEST_ALGORITHM_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[+._-][A-Za-z][A-Za-z0-9]*)*", re.ASCII)
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
"""Supported digest algorithms and the length of their lower case hex encoding."""
_LOWER_HEX_RE = re.compile(r"[a-f0-9]+", re.ASCII)


class ImageReferenceError(ValueError):
    """An image reference (or one of its parts) is not valid.

    The message always quotes the offending reference.
    """

    def __init__(self, reference: object, reason: str) -> None:
        self.reference = reference
        self.reason = reason
        super().__init__(f"invalid image reference {reference!r}: {reason}")


def _check_tag(tag: str) -> str | None:
    """Return why ``tag`` is not a valid tag, or ``None`` when it is."""
    if not isinstance(tag, str):
        return f"tag must be a string, not {type(tag).__name__}"
    if not tag:
        return "tag is empty"
    if len(tag) > 128:
        return f"tag is {len(tag)} characters long, at most 128 are allowed"
    if not _TAG_RE.fullmatch(tag):
        return (
            f"tag {tag!r} is not valid (it must start with a letter, digit or underscore, "
            "followed by letters, digits, '_', '.' or '-')"
        )
    return None


def _check_digest(digest: str) -> str | None:
    """Return why ``digest`` is not a valid digest, or ``None`` when it is."""
    if not isinstance(digest, str):
        return f"digest must be a string, not {type(digest).__name__}"
    algorithm, sep, encoded = digest.partition(":")
    if not sep or not algorithm or not encoded:
        return f"digest {digest!r} is not of the form 'algorithm:hex'"
    if not _DIGEST_ALGORITHM_RE.fullmatch(algorithm):
        return f"digest algorithm {algorithm!r} is not valid"
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        supported = ", ".join(sorted(_DIGEST_HEX_LENGTHS))
        return f"digest algorithm {algorithm!r} is not supported (use one of {supported})"
    if len(encoded) != expected or not _LOWER_HEX_RE.fullmatch(encoded):
        return (
            f"digest {digest!r} is not valid: {algorithm} needs exactly {expected} "
            f"lower case hex digits, got {encoded!r}"
        )
    return None


def validate_tag(tag: str) -> str:
    """Return ``tag`` if it is a valid Docker tag, else raise :class:`ImageReferenceError`."""
    reason = _check_tag(tag)
    if reason is not None:
        raise ImageReferenceError(tag, reason)
    return tag


def validate_digest(digest: str) -> str:
    """Return ``digest`` if it is a valid digest, else raise :class:`ImageReferenceError`."""
    reason = _check_digest(digest)
    if reason is not None:
        raise ImageReferenceError(digest, reason)
    return digest


def _looks_like_registry(component: str) -> bool:
    """Whether the first component of a name is a registry (Docker's rule)."""
    return (
        "." in component
        or ":" in component
        or component == "localhost"
        or component.lower() != component
    )


def _join(registry: str | None, path: str, tag: str | None, digest: str | None) -> str:
    text = f"{registry}/{path}" if registry is not None else path
    if tag is not None:
        text += f":{tag}"
    if digest is not None:
        text += f"@{digest}"
    return text


@dataclass(frozen=True)
class ImageReference:
    """A Docker image reference such as ``registry:5000/team/app:1.0@sha256:...``.

    Instances are immutable and always valid: the constructor checks every
    field, so ``ImageReference.parse(str(ref)) == ref`` holds for every instance.
    """

    registry: str | None
    """Registry host (with optional port) as written, or ``None`` if implicit."""
    path: str
    """Repository path inside the registry, e.g. ``stickforstats/backend``."""
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        reason = self._check()
        if reason is not None:
            raise ImageReferenceError(self.format(), reason)

    def _check(self) -> str | None:
        if not isinstance(self.path, str):
            return f"repository path must be a string, not {type(self.path).__name__}"
        if not self.path:
            return "repository path is empty"
        if self.registry is not None:
            if not isinstance(self.registry, str) or not _DOMAIN_RE.fullmatch(self.registry):
                return f"registry {self.registry!r} is not a valid host[:port]"
            if not _looks_like_registry(self.registry):
                return (
                    f"registry {self.registry!r} would be read as part of the path; "
                    "a registry needs a '.', a ':port' or to be 'localhost'"
                )
        if not _PATH_RE.fullmatch(self.path):
            if self.path.lower() != self.path:
                return f"repository path {self.path!r} must be lower case"
            return f"repository path {self.path!r} is not valid"
        if self.registry is None and "/" in self.path:
            first = self.path.split("/", 1)[0]
            if _looks_like_registry(first):
                return f"first path component {first!r} would be read as a registry"
        name_length = len(self.path) + (len(self.registry) + 1 if self.registry else 0)
        if name_length > NAME_TOTAL_LENGTH_MAX:
            return (
                f"repository name is {name_length} characters long, "
                f"at most {NAME_TOTAL_LENGTH_MAX} are allowed"
            )
        if self.tag is not None:
            reason = _check_tag(self.tag)
            if reason is not None:
                return reason
        if self.digest is not None:
            reason = _check_digest(self.digest)
            if reason is not None:
                return reason
        return None

    @classmethod
    def parse(cls, text: str) -> ImageReference:
        """Parse ``text`` into an :class:`ImageReference`.

        Raises :class:`ImageReferenceError` (a :class:`ValueError`) when ``text``
        is not a valid reference.
        """
        if not isinstance(text, str):
            raise ImageReferenceError(text, f"expected a string, not {type(text).__name__}")
        if not text:
            raise ImageReferenceError(text, "reference is empty")
        if any(char.isspace() for char in text):
            raise ImageReferenceError(text, "reference contains whitespace")

        rest, at, digest = text.partition("@")
        if at:
            if "@" in digest:
                raise ImageReferenceError(text, "reference contains more than one '@'")
            reason = _check_digest(digest)
            if reason is not None:
                raise ImageReferenceError(text, reason)

        tag: str | None = None
        name = rest
        colon = rest.rfind(":")
        if colon > rest.rfind("/"):
            name, tag = rest[:colon], rest[colon + 1 :]
            reason = _check_tag(tag)
            if reason is not None:
                raise ImageReferenceError(text, reason)

        registry: str | None = None
        path = name
        first, slash, remainder = name.partition("/")
        if slash and _looks_like_registry(first):
            registry, path = first, remainder

        try:
            return cls(registry=registry, path=path, tag=tag, digest=digest if at else None)
        except ImageReferenceError as exc:
            raise ImageReferenceError(text, exc.reason) from None

    def format(self) -> str:
        """Return the reference as text, exactly as it was parsed or built."""
        return _join(self.registry, self.path, self.tag, self.digest)

    def __str__(self) -> str:
        return self.format()

    @property
    def repository(self) -> str:
        """Registry (if given) and path, without tag or digest."""
        return _join(self.registry, self.path, None, None)

    @property
    def domain(self) -> str:
        """The registry with the implicit default made explicit."""
        if self.registry is None or self.registry == LEGACY_DEFAULT_REGISTRY:
            return DEFAULT_REGISTRY
        return self.registry

    def normalized(self) -> ImageReference:
        """Return the fully qualified form of this reference.

        The registry is made explicit (``docker.io``), official images get their
        ``library/`` namespace and a reference with neither tag nor digest gets
        the ``latest`` tag: ``nginx`` becomes ``docker.io/library/nginx:latest``.
        """
        domain = self.domain
        path = self.path
        if domain == DEFAULT_REGISTRY and "/" not in path:
            path = f"{OFFICIAL_REPOSITORY_PREFIX}/{path}"
        tag = self.tag
        if tag is None and self.digest is None:
            tag = DEFAULT_TAG
        return ImageReference(registry=domain, path=path, tag=tag, digest=self.digest)

    @property
    def canonical(self) -> str:
        """Text of :meth:`normalized`, e.g. ``docker.io/library/nginx:latest``."""
        return self.normalized().format()

    def with_tag(self, tag: str | None) -> ImageReference:
        """Return a copy with the tag replaced (``None`` removes it); the digest is kept."""
        return self._replace(tag=tag)

    def with_digest(self, digest: str | None) -> ImageReference:
        """Return a copy with the digest replaced (``None`` removes it); the tag is kept."""
        return self._replace(digest=digest)

    def without_tag_and_digest(self) -> ImageReference:
        """Return the bare repository reference."""
        return self._replace(tag=None, digest=None)

    def _replace(self, **changes: str | None) -> ImageReference:
        return replace(self, **changes)
