"""ComfyUI V1 node classes generated from dnne's catalog (the same definitions `dnne serve` sends as object_info).

The classes let ComfyUI draw, wire and save dnne graphs. They do not run in ComfyUI: dnne graphs are exported to a
standalone Python program instead. ComfyUI's own Run must therefore fail at once, saying so, and never with "Prompt
has no outputs" (dnne graphs often have no ComfyUI output node), a RecursionError or a "circular connection" (dnne
graphs have loops, which ComfyUI's validation follows link by link, recursively, from every output node):

* every class is an OUTPUT_NODE, so validation starts at every node;
* validation asks each node for INPUT_TYPES before it follows any link; asked from ComfyUI's `validate_inputs`,
  dnne's classes raise `DnneNodeNotExecutable`, which ComfyUI reports on the node as `exception_during_validation`
  with this message, before it follows any link (so a loop is never walked);
* FUNCTION raises the same error, should a ComfyUI version execute without validating first.

Inside ComfyUI the keys carry the `dnne.` prefix (`dnne.FloatConstant`): other packs define `FloatConstant` too, and
ComfyUI merges every pack's NODE_CLASS_MAPPINGS into one dict. Everywhere else dnne uses the plain keys; the pack's
export route maps the prefixed ones back (`unprefixed`).
"""

from __future__ import annotations

import sys
from typing import Any

from dnne.catalog.registry import COMFYUI_PREFIX as KEY_PREFIX
from dnne.catalog.spec import NodeType

EXPORT_HINT = (
    "dnne graphs do not run inside ComfyUI: use the menu dnne ▸ Export only (or `dnne export workflow.json -o out/`) "
    "and run out/runner.py"
)
# ComfyUI's validation functions (execution.py): INPUT_TYPES asked from them means "about to run this graph"
_COMFY_VALIDATION = {("execution", "validate_inputs"), ("execution", "validate_prompt")}
_MAX_FRAMES = 6


class DnneNodeNotExecutable(RuntimeError):
    """A dnne node was queued for execution inside ComfyUI."""


def _input_types(node_type: NodeType) -> dict[str, Any]:
    required = {i.name: tuple(i.object_info()) for i in node_type.inputs if i.required}
    optional = {i.name: tuple(i.object_info()) for i in node_type.inputs if not i.required}
    result: dict[str, Any] = {"required": required}
    if optional:
        result["optional"] = optional
    return result


def asked_by_comfyui_validation() -> bool:
    """True when the caller's caller is ComfyUI validating a prompt (not /object_info drawing the editor)."""
    frame = sys._getframe(2)
    for _ in range(_MAX_FRAMES):
        if frame is None:
            return False
        if (frame.f_globals.get("__name__"), frame.f_code.co_name) in _COMFY_VALIDATION:
            return True
        frame = frame.f_back
    return False


def node_class(node_type: NodeType) -> type:
    """One V1 node class (INPUT_TYPES, RETURN_TYPES, RETURN_NAMES, FUNCTION, CATEGORY, …) for `node_type`."""
    key = node_type.key

    def input_types(cls) -> dict[str, Any]:
        if asked_by_comfyui_validation():
            raise DnneNodeNotExecutable(f"{node_type.display_name or key}: {EXPORT_HINT}")
        return _input_types(node_type)

    def execute(self, **inputs: Any) -> tuple:
        raise DnneNodeNotExecutable(f"{key}: {EXPORT_HINT}")

    attrs = {
        "INPUT_TYPES": classmethod(input_types),
        "RETURN_TYPES": tuple(o.type for o in node_type.outputs),
        "RETURN_NAMES": tuple(o.name for o in node_type.outputs),
        "OUTPUT_TOOLTIPS": tuple(o.tooltip for o in node_type.outputs),
        "OUTPUT_IS_LIST": tuple(False for _ in node_type.outputs),
        "FUNCTION": "execute",
        "CATEGORY": node_type.category,
        "OUTPUT_NODE": True,  # see the module docstring: ComfyUI's Run must reach a dnne node and stop there
        "DESCRIPTION": node_type.description,
        "execute": execute,
        "DNNE_TYPE": key,
        "__doc__": node_type.description or f"dnne node {key}",
        "__module__": __name__,
    }
    class_name = "Dnne_" + "".join(ch if ch.isalnum() else "_" for ch in key)
    return type(class_name, (), attrs)


def build_mappings(catalog, prefix: str = KEY_PREFIX) -> tuple[dict[str, type], dict[str, str]]:
    """`(NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS)` for every type in `catalog`, keys `prefix + key`."""
    classes = {prefix + t.key: node_class(t) for t in catalog}
    names = {prefix + t.key: t.display_name for t in catalog}
    return classes, names


def unprefixed(value: Any, known: set[str], prefix: str = KEY_PREFIX) -> Any:
    """`value` (a workflow, API prompt or export body) with every `type`/`class_type` `dnne.X` of a known X as `X`.

    Iterative (a hostile body may be nested deeply); everything else is left exactly as it is.
    """
    root = {"": value}
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for field in ("type", "class_type"):
                name = item.get(field)
                if isinstance(name, str) and name.startswith(prefix) and name[len(prefix) :] in known:
                    item[field] = name[len(prefix) :]
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, (dict, list)))
    return root[""]
