"""Rewrite a Docker Compose file so that built services use pushed images.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice.  It runs on the controller only (the
``compose_rewrite`` action and the ``compose_rewrite_problems`` filter import it;
no module does), where ruamel.yaml is installed.

For every service that has a ``build:`` section and an entry in the image
mapping, ``build:`` is dropped and ``image:`` is set to
``<repository>:<version>`` (or ``<repository>:<version>@<digest>``).  Nothing
else is touched: ``${VAR}`` interpolations stay unexpanded, keys keep their
order, comments, ``x-`` extensions, anchors, aliases and merge keys (``<<``)
survive, and scalars keep the way they were written (an unquoted ``80:80``,
``0755`` or ``yes`` is written back unquoted, exactly as Compose, a YAML 1.2
reader, reads it).  The YAML is read and written by :mod:`._compose_yaml`
(ruamel.yaml's round-trip mode), which says what it normalises.

Comments written inside a removed ``build:`` section go with it.  Rewriting an
already rewritten file changes nothing (the services have no ``build:`` left),
and rewriting the same file twice gives the same bytes.

Errors never quote a value of the file: an environment may hold secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.stickforstats.deploy.plugins.module_utils._image_reference import (
    ImageReference,
    ImageReferenceError,
    validate_digest,
    validate_tag,
)
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._compose_yaml import (
    ComposeYamlError,
    detached,
    dump,
    effective,
    load,
    own_keys,
    remove_key,
    source_index,
)

__all__ = [
    "ComposeRewrite",
    "ComposeRewriteError",
    "RewrittenService",
    "rewrite_compose",
]


class ComposeRewriteError(ValueError):
    """The compose file or the rewrite arguments are not valid.

    ``errors`` holds every problem found; the message lists them all.
    """

    def __init__(self, errors: list[str] | tuple[str, ...]) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        if len(self.errors) == 1:
            message = self.errors[0]
        else:
            message = f"{len(self.errors)} errors: " + "; ".join(self.errors)
        super().__init__(message)


@dataclass(frozen=True)
class RewrittenService:
    """A service whose ``build:`` was replaced by ``image:``."""

    name: str
    image: str


@dataclass(frozen=True)
class ComposeRewrite:
    """Result of :func:`rewrite_compose`."""

    text: str
    services: tuple[RewrittenService, ...]


# --------------------------------------------------------------------------
# Rewrite
# --------------------------------------------------------------------------


def _describe(value: object) -> str:
    """What VALUE is, by its type only: a compose file pointed at by mistake (an env
    file, a secret) must not have its content quoted in the error."""
    if value is None:
        return "empty"
    for kind, name in ((bool, "a boolean"), ((int, float), "a number"), (str, "a string")):
        if isinstance(value, kind):
            return name
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _rewrite_service(body: Any, image: str) -> Any:
    """A copy of ``body`` with ``build:`` dropped and ``image:`` set to ``image``.

    ``body`` itself is left as it is: an alias or a merge key elsewhere may use
    it.  When ``build:`` (or ``pull_policy:``) comes from a merge key, it
    cannot be removed there: the copy has the merged keys written out.
    """
    own = set(own_keys(body))
    from_merge = {"build", "pull_policy"} & (set(effective(body)) - own)
    body = detached(body, inline=bool(from_merge))
    own_list = own_keys(body)
    if "image" in own_list:
        body["image"] = image
    else:
        body.insert(source_index(body, "build"), "image", image)
    if "build" in own_list:
        remove_key(body, "build")
    if dict.get(body, "pull_policy") == "build":
        # 'pull_policy: build' needs a build section; use the default.
        remove_key(body, "pull_policy")
    return body


def _check_arguments(
    images: Any, version: Any, digests: Any, errors: list[str]
) -> dict[str, ImageReference]:
    """Validate the arguments, return the usable image references."""
    try:
        validate_tag(version)
    except ImageReferenceError as exc:
        errors.append(f"version {version!r} is not a valid image tag: {exc.reason}")

    references: dict[str, ImageReference] = {}
    if not isinstance(images, Mapping):
        errors.append(
            f"images must be a mapping of service name to image repository, "
            f"not {type(images).__name__}"
        )
        images = {}
    for service, repository in images.items():
        try:
            reference = ImageReference.parse(repository)
        except ImageReferenceError as exc:
            errors.append(f"image repository for service {service!r} is invalid: {exc}")
            continue
        if reference.tag is not None or reference.digest is not None:
            errors.append(
                f"image repository for service {service!r} must not include a tag or "
                f"digest: {repository!r} (the tag is the version)"
            )
            continue
        references[str(service)] = reference

    if not isinstance(digests, Mapping):
        errors.append(
            f"digests must be a mapping of service name to digest, not {type(digests).__name__}"
        )
        digests = {}
    for service, digest in digests.items():
        if service not in images:
            errors.append(f"digest given for service {service!r}, which has no image mapping")
        try:
            validate_digest(digest)
        except ImageReferenceError as exc:
            errors.append(f"digest for service {service!r} is invalid: {exc.reason}")
    return references


def _compose_services(text: Any, errors: list[str]) -> tuple[Any, Any]:
    """The loaded document and its ``services`` mapping; raise with ``errors``."""
    if not isinstance(text, str):
        errors.append(f"compose file must be text, not {type(text).__name__}")
        raise ComposeRewriteError(errors)
    try:
        data = load(text)
    except ComposeYamlError as exc:
        errors.append(str(exc))
        raise ComposeRewriteError(errors) from None
    if not isinstance(data, dict):
        errors.append(
            f"top level of the compose file must be a mapping, but it is {_describe(data)}"
        )
        raise ComposeRewriteError(errors)
    services = data.get("services")
    if not isinstance(services, dict):
        if "services" not in data:
            errors.append("compose file has no 'services' mapping")
        else:
            errors.append(f"'services' must be a mapping, but it is {_describe(services)}")
        raise ComposeRewriteError(errors)
    return data, services


def _built_services(
    services: Any, images: Mapping[str, str], errors: list[str]
) -> list[tuple[Any, str]]:
    """(key, name) of the services to rewrite, in file order; problems to ``errors``."""
    defined = {str(name) for name in services}
    for service in images:
        if str(service) not in defined:
            errors.append(
                f"service {service!r} has an image mapping but is not in the compose file"
            )
    built: list[tuple[Any, str]] = []
    for key, body in list(services.items()):
        name = str(key)
        if not isinstance(body, dict):
            if name in images:
                errors.append(f"service {name!r} must be a mapping")
        elif "build" not in effective(body):
            if name in images:
                errors.append(
                    f"service {name!r} has an image mapping but no build: "
                    "(only built services are rewritten)"
                )
        elif name not in images:
            errors.append(f"service {name!r} has build: but no image mapping")
        else:
            built.append((key, name))
    return built


def rewrite_compose(
    text: str,
    images: Mapping[str, str],
    version: str,
    digests: Mapping[str, str] | None = None,
) -> ComposeRewrite:
    """Rewrite the compose file ``text`` to use pushed images for built services.

    :param text: The compose file (YAML).
    :param images: Service name to image repository without tag, for instance
        ``{"backend": "registry:5000/stickforstats/backend"}``.  Several
        services may share one repository.  Every service with ``build:``
        needs an entry, and every entry must name a service with ``build:``.
    :param version: The tag to use, for instance a git commit sha.
    :param digests: Optional service name to digest (``sha256:<64 hex>``);
        such services get ``<repository>:<version>@<digest>``.
    :returns: The rewritten text and the rewritten services, in file order.
    :raises ComposeRewriteError: Listing every problem found.
    """
    if digests is None:
        digests = {}
    errors: list[str] = []
    references = _check_arguments(images, version, digests, errors)
    if not isinstance(images, Mapping):
        images = {}
    data, services = _compose_services(text, errors)
    built = _built_services(services, images, errors)
    if errors:
        raise ComposeRewriteError(errors)

    rewritten: list[RewrittenService] = []
    for key, name in built:
        image = _image(references[name], version, digests.get(name))
        services[key] = _rewrite_service(services[key], image)
        rewritten.append(RewrittenService(name=name, image=image))
    return ComposeRewrite(text=dump(data), services=tuple(rewritten))


def _image(reference: ImageReference, version: str, digest: str | None) -> str:
    return reference.with_tag(version).with_digest(digest).format()
