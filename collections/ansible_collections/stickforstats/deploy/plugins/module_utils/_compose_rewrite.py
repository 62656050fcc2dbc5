"""Rewrite a Docker Compose file so that built services use pushed images.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice.

For every service that has a ``build:`` section and an entry in the image
mapping, ``build:`` is dropped and ``image:`` is set to
``<repository>:<version>`` (or ``<repository>:<version>@<digest>``).  Nothing
else is touched: ``${VAR}`` interpolations stay unexpanded, keys keep their
order, ``x-`` extensions, anchors, aliases and merge keys (``<<``) survive, and
scalars keep the way they were written (an unquoted ``80:80``, ``0755`` or
``yes`` is written back unquoted, exactly as Compose, a YAML 1.2 reader, reads
it).  Comments are lost.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml
from ansible_collections.stickforstats.deploy.plugins.module_utils._image_reference import (
    ImageReference,
    ImageReferenceError,
    validate_digest,
    validate_tag,
)
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "ComposeRewrite",
    "ComposeRewriteError",
    "RewrittenService",
    "rewrite_compose",
    "rewrite_compose_text",
]

_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_KEY = "<<"
_DUMP_WIDTH = 1 << 30
"""Line width for the dumper: never fold long lines."""


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
# Round-tripping YAML representation
# --------------------------------------------------------------------------


class _Plain(str):
    """A plain (unquoted) scalar from the source, written back unquoted."""

    __slots__ = ()


class _SingleQuoted(str):
    __slots__ = ()


class _DoubleQuoted(str):
    __slots__ = ()


class _Literal(str):
    __slots__ = ()


class _Folded(str):
    __slots__ = ()


_STYLE_TYPES: dict[str | None, type[str]] = {
    None: _Plain,
    "'": _SingleQuoted,
    '"': _DoubleQuoted,
    "|": _Literal,
    ">": _Folded,
}


class _FlowSeq(list):
    """A sequence written in flow style (``[a, b]``) in the source."""


class _FlowMap(dict):
    """A mapping written in flow style (``{a: b}``) in the source."""


class _Tagged:
    """A node with a local tag such as Compose's ``!reset`` or ``!override``."""

    def __init__(self, tag: str, value: Any, style: str | None = None) -> None:
        self.tag = tag
        self.value = value
        self.style = style

    def __repr__(self) -> str:
        return f"_Tagged({self.tag!r}, {self.value!r})"


class _ComposeLoader(yaml.SafeLoader):
    """Safe loader that resolves implicit types like YAML 1.2 and keeps styles.

    Only ``true``/``false``, ``null``/``~``/empty and plain decimal integers get
    a type; every other plain scalar (``yes``, ``0755``, ``80:80``, dates...)
    stays a string, as Compose reads it.  Duplicate keys are an error, as in
    Compose.  Merge keys are not expanded (they are written back as they are).
    """

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.anchored: dict[int, tuple[object, str]] = {}
        self._node_anchors: dict[Node, str] = {}

    def compose_document(self) -> Node:
        self.get_event()  # DOCUMENT-START
        node = self.compose_node(None, None)
        self.get_event()  # DOCUMENT-END
        self._node_anchors = {anchor_node: name for name, anchor_node in self.anchors.items()}
        self.anchors = {}
        return node

    def compose_scalar_node(self, anchor: str | None) -> Node:
        event = self.peek_event()
        node = super().compose_scalar_node(anchor)
        node.explicit_tag = event.tag not in (None, "!")  # type: ignore[attr-defined]
        return node

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        data = super().construct_object(node, deep=deep)
        name = self._node_anchors.get(node)
        if name is not None and isinstance(data, (dict, list, _Tagged)):
            self.anchored[id(data)] = (data, name)
        return data

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _value_node in node.value:
                if isinstance(key_node, ScalarNode):
                    key = self.construct_object(key_node)
                    if key in seen:
                        raise ConstructorError(
                            "while constructing a mapping",
                            node.start_mark,
                            f"found duplicate key {str(key)!r}",
                            key_node.start_mark,
                        )
                    seen.add(key)
        return super().construct_mapping(node, deep=deep)


_ComposeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_ComposeLoader.add_implicit_resolver(
    _INT_TAG, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_ComposeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    ["~", "n", "N", ""],
)


def _construct_str(loader: _ComposeLoader, node: ScalarNode) -> str:
    value = loader.construct_scalar(node)
    if getattr(node, "explicit_tag", False):
        return str(value)
    return _STYLE_TYPES.get(node.style, str)(value)


def _construct_seq(loader: _ComposeLoader, node: SequenceNode) -> Any:
    data: list[Any] = _FlowSeq() if node.flow_style else []
    yield data
    data.extend(loader.construct_sequence(node))


def _construct_map(loader: _ComposeLoader, node: MappingNode) -> Any:
    data: dict[Any, Any] = _FlowMap() if node.flow_style else {}
    yield data
    data.update(loader.construct_mapping(node))


def _construct_tagged(loader: _ComposeLoader, _suffix: str, node: Node) -> _Tagged:
    if isinstance(node, ScalarNode):
        return _Tagged(node.tag, loader.construct_scalar(node), node.style)
    if isinstance(node, SequenceNode):
        items = loader.construct_sequence(node, deep=True)
        return _Tagged(node.tag, _FlowSeq(items) if node.flow_style else items)
    mapping = loader.construct_mapping(node, deep=True)
    return _Tagged(node.tag, _FlowMap(mapping) if node.flow_style else mapping)


_ComposeLoader.add_constructor(_STR_TAG, _construct_str)
_ComposeLoader.add_constructor(_SEQ_TAG, _construct_seq)
_ComposeLoader.add_constructor(_MAP_TAG, _construct_map)
_ComposeLoader.add_multi_constructor("!", _construct_tagged)


class _ComposeDumper(yaml.SafeDumper):
    """Safe dumper that writes back what :class:`_ComposeLoader` kept."""

    _YAML12_ONLY_INT = re.compile(r"^[-+]?0o[0-7]+$")

    def __init__(
        self, stream: io.StringIO, anchored: dict[int, tuple[object, str]], **kwargs: Any
    ) -> None:
        super().__init__(stream, **kwargs)
        self._anchored = anchored
        self._used_anchors: set[str] = set()

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent block sequences inside mappings, as Compose files usually do.
        return super().increase_indent(flow, False)

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and implicit[0]:
            if isinstance(value, _Plain):
                # Written back exactly as it was read: unquoted.
                return _STR_TAG
            if isinstance(value, str) and self._YAML12_ONLY_INT.match(value):
                # An int to YAML 1.2 readers such as Compose: keep it quoted.
                return _INT_TAG
        return super().resolve(kind, value, implicit)

    def choose_scalar_style(self) -> str:
        style = super().choose_scalar_style()
        event = self.event
        if (
            style != ""
            and event.style is None
            and event.tag is not None
            and not event.tag.startswith("tag:yaml.org,2002:")
            and not (self.simple_key_context and self.analysis.multiline)
            and (
                self.analysis.allow_flow_plain
                if self.flow_level
                else self.analysis.allow_block_plain
            )
        ):
            # A plain scalar with a local tag, such as ``!reset null``: PyYAML
            # would quote it, write it back plain instead.
            return ""
        return style

    def generate_anchor(self, node: Node) -> str:
        name: str | None = None
        for obj_id, represented in self.represented_objects.items():
            if represented is node:
                original = self._anchored.get(obj_id)
                if original is not None:
                    name = original[1]
                break
        while name is None or name in self._used_anchors:
            name = super().generate_anchor(node)
        self._used_anchors.add(name)
        return name


def _represent_styled(style: str | None) -> Any:
    def represent(dumper: _ComposeDumper, data: str) -> ScalarNode:
        return dumper.represent_scalar(_STR_TAG, data, style=style)

    return represent


def _represent_str(dumper: _ComposeDumper, data: str) -> ScalarNode:
    return dumper.represent_scalar(_STR_TAG, data, style="|" if "\n" in data else None)


def _represent_none(dumper: _ComposeDumper, _data: None) -> ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:null", "")


def _represent_flow_seq(dumper: _ComposeDumper, data: list[Any]) -> SequenceNode:
    return dumper.represent_sequence(_SEQ_TAG, data, flow_style=True)


def _represent_flow_map(dumper: _ComposeDumper, data: dict[Any, Any]) -> MappingNode:
    return dumper.represent_mapping(_MAP_TAG, data, flow_style=True)


def _represent_tagged(dumper: _ComposeDumper, data: _Tagged) -> Node:
    if isinstance(data.value, dict):
        flow = True if isinstance(data.value, _FlowMap) else None
        return dumper.represent_mapping(data.tag, data.value, flow_style=flow)
    if isinstance(data.value, list):
        flow = True if isinstance(data.value, _FlowSeq) else None
        return dumper.represent_sequence(data.tag, data.value, flow_style=flow)
    return dumper.represent_scalar(data.tag, data.value, style=data.style)


_ComposeDumper.add_representer(str, _represent_str)
_ComposeDumper.add_representer(_Plain, _represent_styled(None))
_ComposeDumper.add_representer(_SingleQuoted, _represent_styled("'"))
_ComposeDumper.add_representer(_DoubleQuoted, _represent_styled('"'))
_ComposeDumper.add_representer(_Literal, _represent_styled("|"))
_ComposeDumper.add_representer(_Folded, _represent_styled(">"))
_ComposeDumper.add_representer(type(None), _represent_none)
_ComposeDumper.add_representer(_FlowSeq, _represent_flow_seq)
_ComposeDumper.add_representer(_FlowMap, _represent_flow_map)
_ComposeDumper.add_representer(_Tagged, _represent_tagged)


def _load(text: str) -> tuple[Any, dict[int, tuple[object, str]]]:
    loader = _ComposeLoader(text)
    try:
        return loader.get_single_data(), loader.anchored
    finally:
        loader.dispose()


def _dump(data: Any, anchored: dict[int, tuple[object, str]]) -> str:
    stream = io.StringIO()
    dumper = _ComposeDumper(
        stream,
        anchored,
        default_flow_style=False,
        allow_unicode=True,
        width=_DUMP_WIDTH,
        sort_keys=False,
    )
    try:
        dumper.open()
        dumper.represent(data)
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue()


def _describe(value: object) -> str:
    if value is None:
        return "empty"
    for kind, name in ((bool, "a boolean"), ((int, float), "a number"), (str, "a string")):
        if isinstance(value, kind):
            return f"{name} ({value!r})"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _yaml_error(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if context:
        problem = f"{problem} ({context})"
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"


# --------------------------------------------------------------------------
# Merge keys
# --------------------------------------------------------------------------


def _is_merge_key(key: object) -> bool:
    return isinstance(key, _Plain) and key == _MERGE_KEY


def _merge_sources(value: Any) -> list[dict[Any, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _merged(mapping: dict[Any, Any], _seen: frozenset[int] = frozenset()) -> dict[Any, Any]:
    """Keys ``mapping`` gets from its merge keys (``<<``), YAML precedence."""
    if id(mapping) in _seen:
        return {}
    seen = _seen | {id(mapping)}
    result: dict[Any, Any] = {}
    for key, value in mapping.items():
        if _is_merge_key(key):
            for source in _merge_sources(value):
                for source_key, source_value in _effective(source, seen).items():
                    result.setdefault(source_key, source_value)
    return result


def _effective(mapping: dict[Any, Any], _seen: frozenset[int] = frozenset()) -> dict[Any, Any]:
    """``mapping`` as a YAML reader sees it, merge keys applied."""
    result = _merged(mapping, _seen)
    result.update((k, v) for k, v in mapping.items() if not _is_merge_key(k))
    return result


def _inline_merges(mapping: dict[Any, Any]) -> dict[Any, Any]:
    """Copy of ``mapping`` with merged keys written out where ``<<`` was."""
    merged = _merged(mapping)
    result: dict[Any, Any] = type(mapping)()
    for key, value in mapping.items():
        if _is_merge_key(key):
            for merged_key, merged_value in merged.items():
                if merged_key not in mapping and merged_key not in result:
                    result[merged_key] = copy.deepcopy(merged_value)
        else:
            result[key] = value
    return result


# --------------------------------------------------------------------------
# Rewrite
# --------------------------------------------------------------------------


def _service_body(service: Any) -> dict[Any, Any] | None:
    if isinstance(service, dict):
        return service
    if isinstance(service, _Tagged) and isinstance(service.value, dict):
        return service.value
    return None


def _rewrite_service(body: dict[Any, Any], image: str) -> dict[Any, Any]:
    """Return ``body`` with ``build:`` dropped and ``image:`` set to ``image``."""
    merged = _merged(body)
    if "build" in merged or "pull_policy" in merged:
        # build: comes (also) from a merge key; it cannot be removed there,
        # so write this service's merged keys out.
        body = _inline_merges(body)
    has_image = "image" in body
    result: dict[Any, Any] = type(body)()
    for key, value in body.items():
        if key == "build":
            if not has_image:
                result["image"] = image
        elif key == "image":
            result[key] = image
        elif key == "pull_policy" and value == "build":
            # 'pull_policy: build' needs a build section; use the default.
            continue
        else:
            result[key] = value
    return result


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

    if not isinstance(text, str):
        errors.append(f"compose file must be text, not {type(text).__name__}")
        raise ComposeRewriteError(errors)
    try:
        data, anchored = _load(text)
    except yaml.YAMLError as exc:
        errors.append(_yaml_error(exc))
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

    defined = {str(name) for name in services}
    for service in images:
        if str(service) not in defined:
            errors.append(
                f"service {service!r} has an image mapping but is not in the compose file"
            )

    rewritten: list[RewrittenService] = []
    for key, service in list(services.items()):
        name = str(key)
        body = _service_body(service)
        if body is None:
            if name in images:
                errors.append(f"service {name!r} must be a mapping")
            continue
        has_build = "build" in _effective(body)
        if not has_build:
            if name in images:
                errors.append(
                    f"service {name!r} has an image mapping but no build: "
                    "(only built services are rewritten)"
                )
            continue
        if name not in images:
            errors.append(f"service {name!r} has build: but no image mapping")
            continue
        reference = references.get(name)
        if reference is None or errors:
            continue  # already reported; keep collecting errors
        image = _image(reference, version, digests.get(name))
        new_body = _rewrite_service(body, image)
        if isinstance(service, _Tagged):
            service.value = new_body
        else:
            services[key] = new_body
        rewritten.append(RewrittenService(name=name, image=image))

    if errors:
        raise ComposeRewriteError(errors)
    return ComposeRewrite(text=_dump(data, anchored), services=tuple(rewritten))


def _image(reference: ImageReference, version: str, digest: str | None) -> str:
    return reference.with_tag(version).with_digest(digest).format()


def rewrite_compose_text(
    text: str,
    images: Mapping[str, str],
    version: str,
    digests: Mapping[str, str] | None = None,
) -> str:
    """Like :func:`rewrite_compose`, but return only the rewritten text."""
    return rewrite_compose(text, images, version, digests).text
