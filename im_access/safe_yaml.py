"""YAML from places a change or an attacker controls (stack files, break_glass.yaml), read with limits.

An alias repeats an earlier node without copying it, so a few hundred bytes can stand for a
document of billions of nodes ("billion laughs"): parsing is cheap, but anything that walks or
prints the result (validation, an error message quoting a value) never ends. Size, nesting depth,
aliases and the size the aliases expand to are all checked on the parser's events, before
anything is built.
"""

from __future__ import annotations

import reprlib
from typing import Any

import yaml

MAX_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_ALIASES = 100
MAX_NODES = 100_000  # after expanding every alias


class UnsafeYamlError(ValueError):
    """The text is over one of the limits; nothing of it was built."""


def _check_events(text: str, source: str) -> None:
    anchored: dict[str, int] = {}  # anchor -> expanded node count of the node it names
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, expanded nodes so far) per open collection
    total = aliases = 0

    def count(nodes: int, *, inside: bool = True) -> None:
        nonlocal total
        total += nodes
        if total > MAX_NODES:
            raise UnsafeYamlError(f"{source}: expands to more than {MAX_NODES} nodes")
        if inside and open_nodes:
            anchor, size = open_nodes[-1]
            open_nodes[-1] = (anchor, size + nodes)

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise UnsafeYamlError(f"{source}: more than {MAX_ALIASES} aliases")
            count(anchored.get(str(event.anchor), 1))
        elif isinstance(event, yaml.ScalarEvent):
            count(1)
            if event.anchor is not None:
                anchored[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            count(1, inside=False)  # counted in its parent when it ends, with what it holds
            open_nodes.append((event.anchor, 1))
            if len(open_nodes) > MAX_DEPTH:
                raise UnsafeYamlError(f"{source}: nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_nodes.pop()
            if anchor is not None:
                anchored[anchor] = size
            if open_nodes:
                parent_anchor, parent_size = open_nodes[-1]
                open_nodes[-1] = (parent_anchor, parent_size + size)


MAX_INT_DIGITS = 100  # far beyond any uin, id or count; Python refuses to convert past 4,300


class _Loader(yaml.SafeLoader):
    """A date that is no day (2027-02-30) and an integer longer than any value the project reads stay
    the text they are written as: the reader that expects a date or a number then names the key and
    what it allows, where constructing them would end in a traceback."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


def _int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    if len(text) > MAX_INT_DIGITS:
        return text
    return yaml.SafeLoader.construct_yaml_int(loader, node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_Loader.add_constructor("tag:yaml.org,2002:int", _int)


def load(text: str, source: str) -> Any:
    """The document in `text` (named `source` in errors): UnsafeYamlError over a limit, yaml.YAMLError
    when it is not YAML."""
    if len(text.encode()) > MAX_BYTES:
        raise UnsafeYamlError(f"{source}: larger than {MAX_BYTES} bytes")
    _check_events(text, source)
    return yaml.load(text, Loader=_Loader)  # a SafeLoader with two constructors of its own


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 3, 6, 6, 60, 60


def shown(value: Any, limit: int = 60) -> str:
    """A value as an error message quotes it: bounded however large or self-repeating it is."""
    text = _SHORT.repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."
