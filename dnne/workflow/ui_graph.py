"""Read one UI graph level (a 0.4 / version-1 workflow, or a subgraph definition) into raw nodes and connections.

The link table is cross-checked with each node's `inputs[i].link` and `outputs[i].links` (bad-inputs cases 10–15).
Links from the subgraph input node (-10) and to the subgraph output node (-20) are returned separately; a link
from -10 straight to -20 becomes a synthetic Reroute node `pass<link id>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dnne.errors import Diagnostic, node_label
from dnne.workflow.raw import (
    Conn,
    NodeIds,
    RawNode,
    RawSlot,
    Source,
    id_text,
    is_negative_id,
    is_plain_id,
    listing,
    short,
    type_name,
)

# The subgraph input and output nodes, as link ends (id texts: see raw.id_text).
SUBGRAPH_INPUT_ID = "-10"
SUBGRAPH_OUTPUT_ID = "-20"
KNOWN_MODES = {0: "always", 2: "muted", 4: "bypassed"}
# A node type's inputs in definition order, as (name, widget name or None); None for a type the catalog lacks.
DefinitionInputs = Callable[[str], "list[tuple[str, str | None]] | None"]


@dataclass
class Level:
    nodes: dict[str, RawNode] = field(default_factory=dict)
    conns: list[Conn] = field(default_factory=list)
    from_inputs: list[tuple[int, str, str]] = field(default_factory=list)  # (subgraph input slot, dst, dst_input)
    to_outputs: list[tuple[int, Source]] = field(default_factory=list)  # (subgraph output slot, source)
    orphans: list[tuple[str, str, Any]] = field(default_factory=list)  # (node id, input name, link id)
    broken: set[tuple[str, str]] = field(default_factory=set)  # (node id, input name) already reported
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # This level's own node ids: the file's id text → internal id (proxyWidgets name inner nodes by the file's id).
    ids: dict[str, str] = field(default_factory=dict)

    def add(self, code: str, message: str, **where: Any) -> None:
        self.diagnostics.append(Diagnostic(code, message, **where))


@dataclass
class _Link:
    id: Any
    src: str  # internal id of the node at each end; the file's id text when no node has it (or -10 / -20)
    src_slot: int
    dst: str
    dst_slot: int
    type: str
    path: str


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_level(
    graph: dict, path: str, *, is_subgraph: bool = False, definition_inputs: DefinitionInputs | None = None
) -> Level:
    level = Level()
    raw_nodes = graph.get("nodes")
    if not isinstance(raw_nodes, list):
        level.add("E_FORMAT", "`nodes` must be a list of node objects", path=f"{path}.nodes", got=short(raw_nodes))
        return level
    links = _read_links(graph.get("links"), f"{path}.links", level)
    texts = [_node_id_text(obj, f"{path}.nodes[{index}]", level) for index, obj in enumerate(raw_nodes)]
    # Fresh ids lie above every plain number of the level, link ends included: a link to a missing node 7 must not
    # find the string-id node that happened to be given 7.
    ids = NodeIds.above(t for t in (*texts, *(e for k in links for e in (k.src, k.dst))) if t and is_plain_id(t))
    raw_ids: dict[str, Any] = {}  # internal id → the id as the file wrote it (5 or "5"), for E_DUP_NODE
    for index, (obj, text) in enumerate(zip(raw_nodes, texts, strict=True)):
        if not isinstance(obj, dict):
            level.add("E_FORMAT", "a node must be a JSON object", path=f"{path}.nodes[{index}]", got=short(obj))
            continue
        if text is None:
            continue
        node = _read_node(obj, f"{path}.nodes[{index}]", level, ids.assign(text), ids.user_id(text))
        if node is None:
            continue
        if definition_inputs is not None:
            _merge_definition_inputs(node, definition_inputs(node.type))
        if node.id in level.nodes:
            first = level.nodes[node.id]
            first_id, same = raw_ids[node.id], ""
            if type(first_id) is not type(obj["id"]):
                same = f"; {short(first_id)} and {short(obj['id'])} are one id to the editor, which keys nodes by text"
            level.add(
                "E_DUP_NODE",
                f"two nodes have the id {_id_shown(text)} (types {first.type!r} and {node.type!r}{same})",
                node_id=node.id,
                user_id=node.user_id,
                node_type=node.type,
                title=node.title or None,
                path=node.path,
                hint="give every node a unique id (the editor renumbers duplicates silently when loading)",
            )
            continue
        level.nodes[node.id] = node
        raw_ids[node.id] = obj["id"]
    level.ids = {text: ids.internal[text] for text in ids.internal if ids.internal[text] in level.nodes}
    for link in links:  # an end naming no node keeps the file's text (never an internal id: see `above`)
        link.src = level.ids.get(link.src, link.src)
        link.dst = level.ids.get(link.dst, link.dst)
    _connect(links, set(level.nodes), level, is_subgraph)
    return level


def _id_shown(text: str) -> str:
    """A file's id text in a message: a number as is, anything else repr'd (and cut)."""
    return text if is_plain_id(text) or is_negative_id(text) else short(text)


def _end(level: Level, node_id: str) -> str:
    """A link end in a message: the node as messages name it, or the file's text of a node that does not exist."""
    node = level.nodes.get(node_id)
    return node_label(node.id, node.user_id) if node is not None else _id_shown(node_id)


def _node_id_text(obj: Any, path: str, level: Level) -> str | None:
    """The id text of a node object (see raw.id_text), or None after reporting E_NODE_ID (or E_FORMAT)."""
    if not isinstance(obj, dict):
        return None  # read_level reports it (E_FORMAT)
    node_id = obj.get("id")
    text = id_text(node_id)
    if text is not None and not is_negative_id(text):
        return text
    node_type = obj.get("type") if isinstance(obj.get("type"), str) else None
    title = obj.get("title") if isinstance(obj.get("title"), str) and obj.get("title") else None
    if isinstance(node_id, int) and not isinstance(node_id, bool) and text is None:
        message, hint = f"node id is {short(node_id)}", "a node id has at most 100 digits"
    elif text is not None:
        message = f"node id {text} is negative; the editor keeps negative ids for itself"
        hint = "-10 and -20 are a subgraph's input and output nodes; give the node a non-negative id"
    elif node_id == "":
        message, hint = "node id is an empty string", "give the node an id (a number, or a non-empty string)"
    else:
        message = f"node id {short(node_id)} is not an integer or a string"
        hint = "a node id is a non-negative integer (the editor's own) or a non-empty string"
    level.add(
        "E_NODE_ID",
        message,
        node_type=node_type,
        title=title,
        path=f"{path}.id",
        expected="a non-negative integer or a non-empty string",
        got=short(node_id),
        hint=hint,
    )
    return None


def _merge_definition_inputs(node: RawNode, definition: list[tuple[str, str | None]] | None) -> None:
    """A node saved with fewer `inputs` entries than its type defines: litegraph builds the node from its definition
    and then copies the saved entries over it by index, so slots past the saved list keep the definition's inputs
    (and a link may target them). A name the saved list already holds is not added twice."""
    if not definition or len(definition) <= len(node.inputs):
        return
    saved = {slot.name for slot in node.inputs}
    for index in range(len(node.inputs), len(definition)):
        name, widget = definition[index]
        node.inputs.append(RawSlot(name if name not in saved else f"#{index}", widget=widget, from_definition=True))


def _read_node(obj: Any, path: str, level: Level, node_id: str, user_id: str | None) -> RawNode | None:
    """`node_id`: the internal id; `user_id`: the file's own id when it had to be mapped."""
    node_type = obj.get("type")
    title = obj.get("title") if isinstance(obj.get("title"), str) else ""
    if not isinstance(node_type, str) or not node_type:
        level.add(
            "E_UNKNOWN_TYPE",
            f"node type {short(node_type)} is not a type name",
            node_id=node_id,
            user_id=user_id,
            path=f"{path}.type",
            expected="a string",
            got=short(node_type),
        )
        return None
    mode = obj.get("mode", 0)
    if mode is None:
        mode = 0
    if not isinstance(mode, int) or isinstance(mode, bool) or mode not in KNOWN_MODES:
        level.add(
            "E_MODE",
            f"unknown node mode {short(mode)}",
            node_id=node_id,
            user_id=user_id,
            node_type=node_type,
            title=title or None,
            field="mode",
            expected="0 (always), 2 (muted) or 4 (bypassed)",
            got=short(mode),
        )
        mode = 0
    widgets_named = obj.get("widgets_values_named")
    node = RawNode(
        id=node_id,
        type=node_type,
        title=title,
        mode=mode,
        widgets_values=obj.get("widgets_values"),
        widgets_named=widgets_named if isinstance(widgets_named, dict) else None,
        properties=obj.get("properties") if isinstance(obj.get("properties"), dict) else {},
        path=path,
        user_id=user_id,
    )
    node.inputs = _read_slots(obj.get("inputs"), f"{path}.inputs", level, node, is_input=True)
    node.outputs = _read_slots(obj.get("outputs"), f"{path}.outputs", level, node, is_input=False)
    return node


def _read_slots(items: Any, path: str, level: Level, node: RawNode, *, is_input: bool) -> list[RawSlot]:
    where = {"node_id": node.id, "node_type": node.type, "user_id": node.user_id}
    if items is None:
        return []
    if not isinstance(items, list):
        level.add("E_FORMAT", "node inputs/outputs must be a list", **where, path=path)
        return []
    slots = []
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            level.add(
                "E_FORMAT",
                f"{'input' if is_input else 'output'} slot {index} has no name",
                **where,
                path=f"{path}[{index}]",
            )
            name = f"#{index}"
            item = item if isinstance(item, dict) else {}
        widget = item.get("widget")
        widget_name = widget.get("name") if isinstance(widget, dict) and isinstance(widget.get("name"), str) else None
        link = item.get("link")
        if not (link is None or _is_int(link)):
            level.add(
                "E_FORMAT",
                f"input {name!r} names link {short(link)}, which is not a link id",
                **where,
                path=f"{path}[{index}].link",
                expected="an integer or null",
                got=short(link),
            )
            link = None
        listed = item.get("links")
        links = tuple(x for x in listed if _is_int(x)) if isinstance(listed, list) else ()
        slots.append(RawSlot(name=name, type=type_name(item.get("type")), widget=widget_name, link=link, links=links))
    return slots


def is_slot_text(value: Any) -> bool:
    """A slot index saved as a short numeric string ("2"); longer digit runs are never a slot, and `int()` on them
    could hit Python's int-string conversion limit."""
    return isinstance(value, str) and 0 < len(value) <= 9 and value.isascii() and value.isdigit()


def _slot_value(value: Any, what: str, link_path: str, level: Level) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        if value >= 0:
            return value
    elif is_slot_text(value):
        level.add(
            "W_SLOT_COERCED",
            f"{what} {value!r} is a string; read as {int(value)}",
            path=link_path,
            expected="an integer",
            got=repr(value),
        )
        return int(value)
    level.add(
        "E_SLOT",
        f"{what} {short(value)} is not a valid slot index",
        path=link_path,
        expected="a non-negative integer",
        got=short(value),
    )
    return None


def _read_links(items: Any, path: str, level: Level) -> list[_Link]:
    if items is None:
        return []
    if not isinstance(items, list):
        level.add("E_FORMAT", "`links` must be a list", path=path, got=short(items))
        return []
    links: list[_Link] = []
    seen: set = set()
    for index, item in enumerate(items):
        link_path = f"{path}[{index}]"
        if isinstance(item, list) and len(item) >= 5:
            fields = item[:6] + [None] * (6 - len(item[:6]))
        elif isinstance(item, dict):
            fields = [item.get(k) for k in ("id", "origin_id", "origin_slot", "target_id", "target_slot", "type")]
        else:
            level.add(
                "E_FORMAT",
                "a link must be [id, origin, origin_slot, target, target_slot, type] or a link object",
                path=link_path,
                got=short(item),
            )
            continue
        link_id, src, src_slot, dst, dst_slot, link_type = fields
        if not (isinstance(link_id, int) and not isinstance(link_id, bool)):
            level.add("E_FORMAT", f"link id {short(link_id)} is not an integer", path=link_path, got=short(link_id))
            continue
        if link_id in seen:
            level.add(
                "E_DUP_LINK",
                f"link id {link_id} is used by more than one link",
                path=link_path,
                hint="each link needs its own id",
            )
            continue
        seen.add(link_id)
        src_text, dst_text = id_text(src), id_text(dst)
        if src_text is None or dst_text is None:
            bad = src if src_text is None else dst
            level.add(
                "E_FORMAT",
                f"link {link_id} has a node id that is not an integer or a string: {short(bad)}",
                path=link_path,
                expected="a node id (a non-negative integer or a non-empty string)",
                got=short(bad),
            )
            continue
        s_slot = _slot_value(src_slot, f"link {link_id} origin slot", link_path, level)
        d_slot = _slot_value(dst_slot, f"link {link_id} target slot", link_path, level)
        if s_slot is None or d_slot is None:
            continue
        links.append(_Link(link_id, src_text, s_slot, dst_text, d_slot, type_name(link_type), link_path))
    return links


def _connect(links: list[_Link], present: set[str], level: Level, is_subgraph: bool) -> None:
    """Turn link records into name-resolved connections, cross-checking both ends (cases 10–12, 14)."""
    claimed: dict[tuple[str, int], Any] = {}  # (node id, input slot) -> link id claimed by inputs[i].link
    for node_id in present:
        for slot, item in enumerate(level.nodes[node_id].inputs):
            if item.link is not None:
                claimed[(node_id, slot)] = item.link
    # An input filled in from the definition has no saved `link` field: the one link row into it stands in.
    into_filled: dict[tuple[str, int], list[Any]] = {}
    for link in links:
        node = level.nodes.get(link.dst) if link.dst in present else None
        if node is not None and link.dst_slot < len(node.inputs) and node.inputs[link.dst_slot].from_definition:
            into_filled.setdefault((link.dst, link.dst_slot), []).append(link.id)
    for key, ids in into_filled.items():
        if len(ids) == 1:
            claimed[key] = ids[0]
    claim_of = {link_id: key for key, link_id in claimed.items()}
    links = _drop_unreferenced(links, present, level, claim_of)
    links_by_id = {link.id: link for link in links}
    into: dict[tuple[str, int], list[Any]] = {}
    for link in links:
        into.setdefault((link.dst, link.dst_slot), []).append(link.id)
    for (dst, slot), ids in into.items():
        if len(ids) < 2 or dst not in level.nodes:
            continue
        node = level.nodes[dst]
        name = node.inputs[slot].name if slot < len(node.inputs) else f"#{slot}"
        claim = claimed.get((dst, slot))
        if claim in ids:  # the input names one of them: the others are stale (the editor's fixBadLinks drops them)
            level.add(
                "W_LINK_PATCHED",
                f"input {name!r} is the target of links {listing(ids)}; it names link {claim}, "
                "so the others are dropped as stale",
                **node.where(),
                field=name,
            )
            continue
        level.broken.add((node.id, name))
        level.add(
            "E_MULTI_INPUT",
            f"input {name!r} is fed by {len(ids)} links ({listing(ids)})",
            **node.where(),
            field=name,
            hint="an input takes one link; remove the extra ones",
        )
    taken: dict[tuple[str, int], Any] = {}
    for link in links:
        src_ok = link.src in present or (is_subgraph and link.src == SUBGRAPH_INPUT_ID)
        dst_ok = link.dst in present or (is_subgraph and link.dst == SUBGRAPH_OUTPUT_ID)
        if not (src_ok and dst_ok):
            missing = link.src if not src_ok else link.dst
            if link.id in claim_of:
                holder = claim_of[link.id]
                node = level.nodes[holder[0]]
                level.add(
                    "E_DANGLING_LINK",
                    f"link {link.id} into input slot {holder[1]} comes from or goes to node {_id_shown(missing)}, which does not exist",
                    **node.where(),
                    path=link.path,
                    hint="reconnect the input or delete the link in the editor",
                )
            else:
                level.add(
                    "W_ZOMBIE_LINK",
                    f"link {link.id} refers to node {_id_shown(missing)}, which does not exist; it is ignored",
                    path=link.path,
                )
            continue
        if link.dst == SUBGRAPH_OUTPUT_ID:
            if link.src == SUBGRAPH_INPUT_ID:
                _pass_through(link, level)
                continue
            source = _source(link, present, level)
            if source is not None:
                level.to_outputs.append((link.dst_slot, source))
            continue
        target_node = level.nodes[link.dst]
        inputs = target_node.inputs
        if link.dst_slot >= len(inputs):
            level.add(
                "E_SLOT",
                f"link {link.id} goes to input slot {link.dst_slot}, but the node has {len(inputs)} input(s)",
                **target_node.where(),
                path=link.path,
                expected=f"a slot below {len(inputs)}",
                got=str(link.dst_slot),
            )
            continue
        claim = claimed.get((link.dst, link.dst_slot))
        input_name = target_node.inputs[link.dst_slot].name
        if claim != link.id and len(into[(link.dst, link.dst_slot)]) > 1:
            continue  # reported above (stale duplicate or E_MULTI_INPUT)
        if claim != link.id:
            level.add(
                "E_LINK_CONFLICT",
                f"link {link.id} goes to input {input_name!r}, but that input says it is connected by "
                + ("nothing" if claim is None else f"link {claim}"),
                **target_node.where(),
                field=input_name,
                path=link.path,
                hint="re-draw the connection in the editor",
            )
            continue
        if (link.dst, link.dst_slot) in taken:
            level.add(
                "E_MULTI_INPUT",
                f"input {input_name!r} is fed by two links ({taken[(link.dst, link.dst_slot)]} and {link.id})",
                **target_node.where(),
                field=input_name,
                hint="an input takes one link; remove one of them",
            )
            continue
        taken[(link.dst, link.dst_slot)] = link.id
        if link.src == SUBGRAPH_INPUT_ID:
            level.from_inputs.append((link.src_slot, link.dst, input_name))
            continue
        source = _source(link, present, level)
        if source is not None:
            level.conns.append(Conn(source, link.dst, input_name, link.type, link.id))
    for (node_id, slot), link_id in claimed.items():
        if link_id not in links_by_id:
            node = level.nodes[node_id]
            name = node.inputs[slot].name if slot < len(node.inputs) else f"#{slot}"
            level.orphans.append((node.id, name, link_id))
        elif links_by_id[link_id].dst != node_id or links_by_id[link_id].dst_slot != slot:
            link = links_by_id[link_id]
            node = level.nodes[node_id]
            name = node.inputs[slot].name if slot < len(node.inputs) else f"#{slot}"
            level.add(
                "E_LINK_CONFLICT",
                f"input {name!r} says it is connected by link {link_id}, but that link goes to node {_end(level, link.dst)} "
                f"slot {link.dst_slot}",
                **node.where(),
                field=name,
                hint="re-draw the connection in the editor",
            )


def _drop_unreferenced(links: list[_Link], present: set[str], level: Level, claim_of: dict) -> list[_Link]:
    """A link row that neither its target input (`inputs[i].link`) nor its source output (`outputs[j].links`) names
    is a leftover the editor no longer draws: dropped with W_UNREFERENCED_LINK instead of contradicting the input
    that holds the real link (E_LINK_CONFLICT / E_MULTI_INPUT). Links of the subgraph input/output nodes (-10/-20)
    and links to missing nodes (W_ZOMBIE_LINK / E_DANGLING_LINK) are left to the checks below."""
    listed = {link_id for node_id in present for slot in level.nodes[node_id].outputs for link_id in slot.links}
    kept = []
    for link in links:
        inner_io = SUBGRAPH_INPUT_ID in (link.src, link.dst) or SUBGRAPH_OUTPUT_ID in (link.src, link.dst)
        ends_exist = link.src in present and link.dst in present
        if inner_io or not ends_exist or link.id in claim_of or link.id in listed:
            kept.append(link)
            continue
        level.add(
            "W_UNREFERENCED_LINK",
            f"link {link.id} (node {_end(level, link.src)} slot {link.src_slot} → node {_end(level, link.dst)} slot {link.dst_slot}) is not "
            "named by its source output or its target input; it is dropped",
            path=link.path,
            hint="a leftover of an edit; re-saving the workflow in the editor removes it",
        )
    return kept


def _pass_through(link: _Link, level: Level) -> None:
    """A subgraph input wired straight to a subgraph output becomes a Reroute, which flattening and modes.py
    then trace like any other: the outer consumer gets whatever feeds the instance's input."""
    node = RawNode(
        id=f"pass{link.id}",
        type="Reroute",
        title=f"subgraph pass-through (input {link.src_slot} to output {link.dst_slot})",
        inputs=[RawSlot("input", link.type)],
        outputs=[RawSlot("output", link.type, links=(link.id,))],
        path=link.path,
    )
    level.nodes[node.id] = node
    level.from_inputs.append((link.src_slot, node.id, "input"))
    level.to_outputs.append((link.dst_slot, Source(node.id, slot=0, name="output")))


def _source(link: _Link, present: set[str], level: Level) -> Source | None:
    node = level.nodes[link.src]
    outputs = node.outputs
    if not outputs:
        return Source(link.src, slot=link.src_slot)
    if link.src_slot >= len(outputs):
        level.add(
            "E_SLOT",
            f"link {link.id} leaves output slot {link.src_slot}, but the node has {len(outputs)} output(s)",
            **node.where(),
            path=link.path,
            expected=f"a slot below {len(outputs)}",
            got=str(link.src_slot),
        )
        return None
    if link.id not in outputs[link.src_slot].links:
        level.add(
            "W_LINK_PATCHED",
            f"link {link.id} was missing from output {node.outputs[link.src_slot].name!r}'s link list; "
            "the target input agrees, so it is kept",
            **node.where(),
            field=node.outputs[link.src_slot].name,
            path=link.path,
        )
    return Source(link.src, slot=link.src_slot, name=node.outputs[link.src_slot].name)
