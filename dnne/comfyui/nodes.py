"""ComfyUI V1 node classes generated from dnne's catalog (the same definitions `dnne serve` sends as object_info).

The classes let ComfyUI draw, wire and save dnne graphs. They do not run in ComfyUI: dnne graphs are exported to a
standalone Python program instead, so executing one raises an error that says so.
"""

from __future__ import annotations

from typing import Any

from dnne.catalog.spec import NodeType

EXPORT_HINT = (
    "dnne nodes do not run inside ComfyUI: export the graph with dnne (menu dnne > Export to Python, "
    "or `dnne export workflow.json -o out/`) and run out/runner.py"
)


class DnneNodeNotExecutable(RuntimeError):
    """A dnne node was queued for execution inside ComfyUI."""


def _input_types(node_type: NodeType) -> dict[str, Any]:
    required = {i.name: tuple(i.object_info()) for i in node_type.inputs if i.required}
    optional = {i.name: tuple(i.object_info()) for i in node_type.inputs if not i.required}
    result: dict[str, Any] = {"required": required}
    if optional:
        result["optional"] = optional
    return result


def node_class(node_type: NodeType) -> type:
    """One V1 node class (INPUT_TYPES, RETURN_TYPES, RETURN_NAMES, FUNCTION, CATEGORY, …) for `node_type`."""
    key = node_type.key

    def input_types(cls) -> dict[str, Any]:
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
        "OUTPUT_NODE": node_type.output_node,
        "DESCRIPTION": node_type.description,
        "execute": execute,
        "DNNE_TYPE": key,
        "__doc__": node_type.description or f"dnne node {key}",
        "__module__": __name__,
    }
    class_name = "Dnne_" + "".join(ch if ch.isalnum() else "_" for ch in key)
    return type(class_name, (), attrs)


def build_mappings(catalog) -> tuple[dict[str, type], dict[str, str]]:
    """`(NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS)` for every type in `catalog`."""
    classes = {t.key: node_class(t) for t in catalog}
    names = {t.key: t.display_name for t in catalog}
    return classes, names
