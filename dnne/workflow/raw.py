"""The loader's intermediate form: every workflow format read into plain nodes and name-resolved connections.

`RawWorkflow` is what the format readers produce and what subgraph flattening, mode handling, virtual-node
elimination and validation work on. Nothing in it has been checked against the catalog yet.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dnne.errors import Diagnostic

LEGACY_TYPE_NAMES = {"POLICY_OUTPUT": "POLICY"}
# A node id kept as the internal id: a plain non-negative integer of at most 100 digits (parse.py's MAX_INT_DIGITS:
# `int()` on it is cheap and never hits Python's int-string limit). Leading zeros are not plain: "05" is not 5.
NUMERIC_ID = re.compile(r"0|[1-9][0-9]{0,99}")
NEGATIVE_ID = re.compile(r"-[1-9][0-9]{0,99}")


@dataclass
class RawSlot:
    """One entry of a UI node's `inputs[]` or `outputs[]`."""

    name: str
    type: str = "*"
    widget: str | None = None  # inputs: the widget this socket is bound to
    link: int | None = None  # inputs: the link id it names
    links: tuple[int, ...] = ()  # outputs: the link ids it lists
    from_definition: bool = False  # inputs: not in the saved list, filled in from the node type (by index)


@dataclass
class RawNode:
    id: str
    type: str
    title: str
    mode: int = 0
    inputs: list[RawSlot] = field(default_factory=list)
    outputs: list[RawSlot] = field(default_factory=list)
    widgets_values: Any = None  # list, dict or None (UI formats)
    widgets_named: dict | None = None  # widgets_values_named (UI formats)
    literals: dict[str, Any] | None = None  # API format: widget values given by input name
    overrides: dict[str, Any] = field(default_factory=dict)  # promoted subgraph widget values, by widget name
    properties: dict = field(default_factory=dict)
    path: str = ""  # JSON path of the node, for diagnostics
    user_id: str | None = None  # the file's own id ("5:a" after flattening) when `id` is a mapped one, else None

    def where(self) -> dict[str, Any]:
        return {"node_id": self.id, "node_type": self.type, "title": self.title, "user_id": self.user_id}


@dataclass
class Source:
    """Where a connection comes from: a node output (by slot index and/or name) or a constant value."""

    node: str | None
    slot: int | None = None
    name: str | None = None
    constant: Any = None
    is_constant: bool = False


@dataclass
class Conn:
    """A link, already resolved to the target input's name."""

    src: Source
    dst: str
    dst_input: str
    type: str = "*"
    link_id: Any = None


@dataclass
class RawWorkflow:
    format: str  # ui-0.4 | ui-1 | api | prompt
    nodes: dict[str, RawNode] = field(default_factory=dict)
    conns: list[Conn] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    name: str | None = None

    def add(self, code: str, message: str, **where: Any) -> None:
        self.diagnostics.append(Diagnostic(code, message, **where))


def id_text(value: Any) -> str | None:
    """A node id (or a link end) as the editor keys it: litegraph looks nodes up by the id's text, so 5 and "5" are
    the same node. None for what is no id at all (bool, float, null, an empty string, an integer too long to print)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 330 else None  # about 100 digits, like a plain id's limit
    if isinstance(value, str) and value:
        return value
    return None


def is_plain_id(text: str) -> bool:
    """A non-negative integer's text: kept as the internal id."""
    return NUMERIC_ID.fullmatch(text) is not None


def is_negative_id(text: str) -> bool:
    return NEGATIVE_ID.fullmatch(text) is not None


@dataclass
class NodeIds:
    """The node ids of one graph level: the file's id text → the internal id. Plain integers are kept; any other
    string ("KSampler", "node-1", "12:3", ids with spaces, quotes or newlines) gets a fresh integer above every
    number the level uses, in file order. Internal ids are therefore always digits (joined with ':' when subgraphs
    are flattened), deterministic, and never a user's text: config keys, checkpoint folders and messages stay safe."""

    internal: dict[str, str] = field(default_factory=dict)
    mapped: set[str] = field(default_factory=set)  # the texts that got a fresh id
    next_fresh: int = 1

    @classmethod
    def above(cls, numbers: Iterable[str]) -> NodeIds:
        """Fresh ids start above the largest of `numbers` (plain ids' texts)."""
        return cls(next_fresh=max((int(n) for n in numbers), default=0) + 1)

    def assign(self, text: str) -> str:
        """The internal id of `text` (the same one again for a repeated text: a duplicate is the caller's to report)."""
        found = self.internal.get(text)
        if found is None:
            if is_plain_id(text):
                found = text
            else:
                found = str(self.next_fresh)
                self.next_fresh += 1
                self.mapped.add(text)
            self.internal[text] = found
        return found

    def user_id(self, text: str) -> str | None:
        return text if text in self.mapped else None


def type_name(value: Any) -> str:
    """A link/slot type as saved (string, list of strings, or number) as one comparable string."""
    if isinstance(value, str):
        return value or "*"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value) or "*"
    return "*"


@functools.lru_cache(maxsize=4096)
def canonical_type(name: str) -> str:
    return ",".join(LEGACY_TYPE_NAMES.get(t.strip(), t.strip()) for t in name.split(","))


def short(value: Any, limit: int = 60) -> str:
    """A one-line repr of untrusted data for messages (never raises: a huge int is described, not converted)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    if isinstance(value, str) and len(value) > 4 * limit:
        value = value[: 4 * limit]  # repr of a multi-megabyte string only to cut it down is wasted work
    try:
        text = repr(value)
    except ValueError:  # an int nested in a list/dict past the int-string limit
        return f"a {type(value).__name__} holding a number too long to show"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listing(items: Any, *, limit: int = 20, sep: str = ", ") -> str:
    """Items joined for a message, at most `limit` of them: a 200,000-node loop must not become a 2 MB message."""
    items = list(items)
    shown = sep.join(str(x) for x in items[:limit])
    return shown if len(items) <= limit else f"{shown}{sep}… ({len(items):,} in all)"
