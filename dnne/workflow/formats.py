"""Format detection and readers: UI 0.4, UI version 1, API prompt, and the POST /api/prompt body."""

from __future__ import annotations

import re
from typing import Any

from dnne.workflow.raw import Conn, NodeIds, RawNode, Source, listing, short
from dnne.workflow.ui_graph import DefinitionInputs, Level, is_slot_text, read_level

# An API id kept as the internal id: plain integers, or the frontend's "outer:inner" execution ids of flattened
# subgraph nodes (each part plain, see raw.NUMERIC_ID). Any other key is mapped to a fresh integer.
API_ID = re.compile(r"(0|[1-9][0-9]{0,99})(:(0|[1-9][0-9]{0,99}))*")
UI_VERSIONS = {0.4: "ui-0.4", 1: "ui-1"}


def detect(doc: Any) -> tuple[str | None, Any, str]:
    """(format, the document part to read, JSON path) — format None when unrecognised."""
    if isinstance(doc, dict):
        if isinstance(doc.get("nodes"), list):
            version = doc.get("version")
            return ("ui-1" if version == 1 and not isinstance(version, bool) else "ui-0.4"), doc, "$"
        if isinstance(doc.get("prompt"), dict) and ("client_id" in doc or "extra_data" in doc or len(doc) <= 4):
            extra = doc.get("extra_data")
            pnginfo = extra.get("extra_pnginfo") if isinstance(extra, dict) else None
            workflow = pnginfo.get("workflow") if isinstance(pnginfo, dict) else None
            if isinstance(workflow, dict) and isinstance(workflow.get("nodes"), list):
                return "prompt", workflow, "$.extra_data.extra_pnginfo.workflow"
            return "prompt", doc["prompt"], "$.prompt"
        if doc and all(isinstance(v, dict) and "class_type" in v for v in doc.values()):
            return "api", doc, "$"
    return None, doc, "$"


def format_hint(doc: Any) -> str:
    if isinstance(doc, list):
        return (
            "the file holds a JSON list; a workflow is an object with `nodes` and `links` (File → Save in the editor)"
        )
    if isinstance(doc, dict) and doc and any(isinstance(v, dict) and "inputs" in v for v in doc.values()):
        return "this looks like an API prompt, but every node needs a `class_type`"
    return "save the workflow from the editor (File → Save, or File → Export (API)) and load that file"


def check_version(doc: dict, level: Level) -> None:
    version = doc.get("version")
    if not isinstance(version, (int, float)) or isinstance(version, bool) or version not in UI_VERSIONS:
        level.add(
            "W_FORMAT_VERSION",
            f"workflow version {short(version)} is not 0.4 or 1; read as a UI workflow by its shape",
            path="$.version",
            expected="0.4 or 1",
            got=short(version),
        )


def reroute_loops(doc: dict, level: Level) -> None:
    """Native reroutes (`extra.reroutes`, v1 `reroutes`): visual only, but a parentId loop is an error."""
    extra = doc.get("extra") if isinstance(doc.get("extra"), dict) else {}
    parents: dict[Any, Any] = {}
    for items in (extra.get("reroutes"), doc.get("reroutes")):
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("id"), int) and isinstance(item.get("parentId"), int):
                parents[item["id"]] = item["parentId"]
    # One walk per start, stopping at anything already walked: every reroute is visited once (linear), and the
    # position map makes "have I been here on this walk" O(1).
    done: set = set()
    for start in parents:
        position: dict[Any, int] = {}
        walk: list[Any] = []
        current = start
        while current in parents and current not in done:
            if current in position:
                loop = walk[position[current] :]
                level.add(
                    "E_REROUTE_LOOP",
                    "native reroutes form a parentId loop: " + listing(loop, sep=" → "),
                    path="$.extra.reroutes",
                    hint="delete and re-draw the rerouted link in the editor",
                )
                break
            position[current] = len(walk)
            walk.append(current)
            current = parents[current]
        done.update(walk)


def read_api(prompt: Any, path: str) -> Level:
    """An API prompt `{id: {class_type, inputs, _meta}}`: links are `[source id, output slot]`."""
    level = Level()
    if not isinstance(prompt, dict) or not prompt:
        level.add("E_FORMAT", "the API prompt must be a non-empty object of nodes", path=path)
        return level
    # Fresh ids lie above every kept id's first part: "7" never sits next to a user's "7:2" it has nothing to do with.
    ids = NodeIds.above(key.partition(":")[0] for key in prompt if API_ID.fullmatch(key))
    for key, obj in prompt.items():
        node_path = f"{path}.{key}" if API_ID.fullmatch(key) else f"{path}[{short(key)}]"
        class_type = obj.get("class_type") if isinstance(obj, dict) else None
        if not key:
            level.add(
                "E_NODE_ID",
                "node id is an empty string",
                node_type=class_type if isinstance(class_type, str) else None,
                path=node_path,
                expected="a non-empty string",
                got="''",
                hint="give the node an id (its key in the prompt)",
            )
            continue
        # JSON object keys are unique (parse.py rejects duplicates), so every key gets its own id.
        node_id = key if API_ID.fullmatch(key) else ids.assign(key)
        user_id = None if node_id == key else key
        if not isinstance(obj, dict) or not isinstance(class_type, str) or not class_type:
            level.add("E_UNKNOWN_TYPE", "the node has no class_type", node_id=node_id, user_id=user_id, path=node_path)
            continue
        meta = obj.get("_meta")
        title = meta.get("title") if isinstance(meta, dict) and isinstance(meta.get("title"), str) else ""
        inputs = obj.get("inputs", {})
        node = RawNode(id=node_id, type=class_type, title=title, literals={}, path=node_path, user_id=user_id)
        level.nodes[node_id] = node
        level.ids[key] = node_id
        if not isinstance(inputs, dict):
            level.add("E_FORMAT", "`inputs` must be an object", **node.where(), path=f"{node_path}.inputs")
            continue
        for name, value in inputs.items():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                slot = value[1]
                if is_slot_text(slot):
                    level.add("W_SLOT_COERCED", f"output slot {slot!r} is a string", **node.where(), field=name)
                    slot = int(slot)
                if not isinstance(slot, int) or isinstance(slot, bool) or slot < 0:
                    level.add(
                        "E_SLOT",
                        f"input {name!r} links to output slot {short(slot)}",
                        **node.where(),
                        field=name,
                        expected="a non-negative integer",
                        got=short(slot),
                    )
                    continue
                level.conns.append(Conn(Source(value[0], slot=slot), node_id, name))
            else:
                node.literals[name] = value  # type: ignore[index]
    kept = []
    for conn in level.conns:  # `src.node` is the key the input names, until it is found
        found = level.ids.get(conn.src.node) if conn.src.node is not None else None
        if found is None:
            node = level.nodes[conn.dst]
            level.add(
                "E_DANGLING_LINK",
                f"input {conn.dst_input!r} links to node {short(conn.src.node)}, which does not exist",
                **node.where(),
                field=conn.dst_input,
            )
            continue
        conn.src.node = found
        kept.append(conn)
    level.conns = kept
    return level


def read_ui(doc: dict, path: str, definition_inputs: DefinitionInputs | None = None) -> Level:
    level = read_level(doc, path, definition_inputs=definition_inputs)
    check_version(doc, level)
    reroute_loops(doc, level)
    return level
