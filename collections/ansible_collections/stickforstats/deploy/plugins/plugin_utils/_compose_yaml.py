"""Round-trip YAML for Docker Compose files, on ruamel.yaml.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice.  It is used on the controller only (by the
``compose_rewrite`` action and the ``compose_rewrite_problems`` filter): ruamel.yaml
is in the controller's runtime (``requirements/deploy-runtime.in``), not on the
managed hosts.

:func:`load` reads a compose file with ruamel.yaml's round-trip loader and
:func:`dump` writes it back: key order, comments, anchors, aliases, merge keys
(``<<``), Compose's local tags (``!reset``, ``!override``), flow and block
styles, and the way each scalar was written (quotes, ``0755``, ``0x1F``, ``1e3``)
are kept.  Scalars are read as YAML 1.2, as Compose (go-yaml v3) reads them:
``yes``, ``on`` and ``2024-01-01`` are written back unquoted, exactly as they
were.  What is normalised: indentation (2 spaces, sequences indented inside
mappings), ``True``/``False`` to ``true``/``false``, ``null``/``~`` to an empty
value, ``+1``/``-0`` to ``1``/``0``, and trailing spaces; ``---``, ``...`` and
``%YAML`` lines, and anchors no alias uses, are dropped.  Known quirk of
ruamel.yaml 0.19.1: an end-of-line comment after an anchor or a tag that opens a
block (``x-env: &env  # shared``) is written on a line of its own under the key;
the data and the comment stay, and the result reads back to itself.  A comment
after a value that the rewrite lengthens keeps its column, or one space.

Errors never quote the file's values (a compose file's environment may hold
secrets): ruamel.yaml's duplicate key message, which does, is replaced.
"""

from __future__ import annotations

import copy
import io
import warnings
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import Comment, CommentedMap, Format, LineCol, Tag, merge_attrib
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import YAMLError
from ruamel.yaml.resolver import VersionedResolver

__all__ = [
    "ComposeYamlError",
    "detached",
    "dump",
    "effective",
    "load",
    "own_keys",
    "remove_key",
    "source_index",
]

_DUMP_WIDTH = 1 << 30
"""Line width for the dumper: never fold long lines."""


class ComposeYamlError(ValueError):
    """The text is not valid YAML for a compose file; the message has no values."""


class _OwnError(ConstructorError):
    """An error of :class:`_ComposeConstructor`: its message has no value."""


_VALUELESS_PROBLEMS = (
    "expected a mapping",
    "expected a sequence",
    "expected a single document",
    "found duplicate",
    "found undefined alias",
    "found unhashable key",
)
"""ruamel.yaml's constructor and composer problems that quote no value.  Its other
constructor problems may (``failed to construct timestamp from "..."``)."""


class _ComposeConstructor(RoundTripConstructor):
    """Round-trip constructor whose errors do not show values.

    Duplicate keys are an error, as in Compose; the message names the key
    only (ruamel.yaml's names both values).  Tags are Compose's local ``!``
    tags or YAML's own; any other ``!!`` tag (``!!python/object``) is refused.
    """

    def check_mapping_key(
        self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any
    ) -> bool:
        del value  # never in a message: it may be a secret
        if key in mapping:
            raise _OwnError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {str(key)!r}",
                key_node.start_mark,
            )
        return True

    def construct_unknown(self, node: Any) -> Any:
        if not str(node.tag).startswith("!"):
            raise _OwnError(
                None,
                None,
                f"could not determine a constructor for the tag {str(node.tag)!r}",
                node.start_mark,
            )
        return super().construct_unknown(node)


_ComposeConstructor.add_constructor(None, _ComposeConstructor.construct_unknown)


class _Yaml12Resolver(VersionedResolver):
    """YAML 1.2 whatever the ``%YAML`` directive says, as Compose (go-yaml v3) reads:
    under ``%YAML 1.1`` ruamel.yaml would read ``yes`` as a boolean and write ``true``."""

    @property
    def processing_version(self) -> Any:
        return (1, 2)


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _ComposeConstructor
    yaml.Resolver = _Yaml12Resolver
    yaml.preserve_quotes = True
    yaml.width = _DUMP_WIDTH
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _message(exc: YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    context = getattr(exc, "context", None)
    if (
        isinstance(exc, ConstructorError)
        and not isinstance(exc, _OwnError)
        and not problem.startswith(_VALUELESS_PROBLEMS)
    ):
        problem, context = "a value that does not fit its tag", None
    if context:
        problem = f"{problem} ({context})"
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"


def load(text: str) -> Any:
    """The single document of ``text``, as round-trip data.

    :raises ComposeYamlError: With the line and column, without values.
    """
    try:
        with warnings.catch_warnings():
            # ruamel.yaml warns of a reused anchor with the lines around it.
            warnings.simplefilter("ignore")
            return _yaml().load(text)
    except YAMLError as exc:
        raise ComposeYamlError(_message(exc)) from None
    except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as exc:
        # ruamel.yaml's constructors of explicit tags (``!!int x``) raise these,
        # with the value in the message.
        raise ComposeYamlError(
            f"invalid YAML: a value that does not fit its tag ({type(exc).__name__})"
        ) from None


def dump(data: Any) -> str:
    """``data`` from :func:`load` as YAML text."""
    stream = io.StringIO()
    _yaml().dump(data, stream)
    return stream.getvalue()


# --------------------------------------------------------------------------
# Merge keys
# --------------------------------------------------------------------------


def _merge_sources(mapping: Any) -> list[Any]:
    """The mappings merged into ``mapping`` by its ``<<`` key, first first."""
    merge = getattr(mapping, merge_attrib, None)
    return [source for source in merge or () if isinstance(source, dict)]


def own_keys(mapping: Any) -> list[Any]:
    """The keys written in ``mapping`` itself (not those its ``<<`` brings)."""
    if isinstance(mapping, CommentedMap):
        return [key for key, _value in mapping.non_merged_items()]
    return list(mapping)


def _merged(mapping: Any, _seen: frozenset[int] = frozenset()) -> dict[Any, Any]:
    """Keys ``mapping`` gets from its merge keys (``<<``), YAML precedence."""
    if id(mapping) in _seen:
        return {}
    seen = _seen | {id(mapping)}
    result: dict[Any, Any] = {}
    for source in _merge_sources(mapping):
        for key, value in effective(source, seen).items():
            result.setdefault(key, value)
    return result


def effective(mapping: Any, _seen: frozenset[int] = frozenset()) -> dict[Any, Any]:
    """``mapping`` as a YAML reader sees it, merge keys applied."""
    result = _merged(mapping, _seen)
    result.update((key, dict.__getitem__(mapping, key)) for key in own_keys(mapping))
    return result


def _merge_position(mapping: CommentedMap) -> int:
    """Index of the ``<<`` key among ``mapping``'s own keys."""
    merge = getattr(mapping, merge_attrib, None)
    position = getattr(merge, "merge_pos", None)
    if not merge or position is None:
        return len(own_keys(mapping))
    return int(position)


def detached(mapping: CommentedMap, *, inline: bool) -> CommentedMap:
    """A new mapping with ``mapping``'s keys, comments and styles, without its anchor.

    The values are the same objects (aliases in them stay aliases), so that
    editing the new mapping leaves ``mapping``, which an alias or a merge key
    elsewhere may use, as it was.  Its merge key (``<<``) is kept, or with
    ``inline`` replaced by the keys it brings (copies), written where it was.
    """
    result = CommentedMap()
    for attrib in (Comment.attrib, Format.attrib, LineCol.attrib, Tag.attrib):
        if hasattr(mapping, attrib):
            setattr(result, attrib, copy.deepcopy(getattr(mapping, attrib)))
    keys = own_keys(mapping)
    merge = getattr(mapping, merge_attrib, None)
    position = _merge_position(mapping)
    merged = _merged(mapping) if inline else {}
    for key in keys[:position]:
        result[key] = dict.__getitem__(mapping, key)
    for key, value in merged.items():
        if key not in keys:
            result[key] = copy.deepcopy(value)
    for key in keys[position:]:
        result[key] = dict.__getitem__(mapping, key)
    if merge and not inline:
        result.add_yaml_merge(copy.copy(merge))
    return result


# --------------------------------------------------------------------------
# Removing a key, and the comments written after its value
# --------------------------------------------------------------------------


def _last_comment_holder(value: Any) -> tuple[Any, Any] | None:
    """(collection, key) holding the comment that follows ``value`` in the file.

    ruamel.yaml attaches the comment lines after a nested block to its last
    scalar; they belong to whatever follows the block.
    """
    holder = None
    while isinstance(value, (dict, list)) and len(value):
        key = own_keys(value)[-1] if isinstance(value, dict) else len(value) - 1
        holder = (value, key)
        value = value[key]
    return holder


def _comment_after(mapping: CommentedMap, key: Any, column: int) -> str:
    """The comment lines after ``mapping[key]``'s block, at ``column`` or left of it."""
    holder = _last_comment_holder(mapping[key])
    if holder is None:
        return ""
    collection, last = holder
    entry = collection.ca.items.get(last)
    if not entry:
        return ""
    token = entry[2] if isinstance(collection, dict) else entry[0]
    if token is None or "\n" not in token.value:
        return ""
    lines = token.value.split("\n", 1)[1].split("\n")
    kept = [line for line in lines if line.strip() and len(line) - len(line.lstrip()) <= column]
    # yaml_set_comment_before_after_key puts the "# " back.
    return "\n".join(_uncommented(line) for line in kept)


def _uncommented(line: str) -> str:
    text = line.strip()
    text = text[1:] if text.startswith("#") else text
    return text[1:] if text.startswith(" ") else text


def source_index(mapping: Any, key: Any) -> int:
    """Index of ``key`` among the keys written in ``mapping``, ``<<`` counted."""
    index = own_keys(mapping).index(key)
    merge = getattr(mapping, merge_attrib, None)
    position = getattr(merge, "merge_pos", None)
    if merge and position is not None and position <= index:
        return index + 1
    return index


def remove_key(mapping: CommentedMap, key: Any) -> None:
    """Delete ``key`` from ``mapping``, keeping the comment lines written after its
    value (ruamel.yaml keeps them with the value) above the next key."""
    keys = own_keys(mapping)
    index = keys.index(key)
    column = mapping.lc.data.get(key, (0, 0))[1] if mapping.lc.data else 0
    comment = _comment_after(mapping, key, column) if index + 1 < len(keys) else ""
    del mapping[key]
    if comment:
        mapping.yaml_set_comment_before_after_key(keys[index + 1], before=comment, indent=column)
