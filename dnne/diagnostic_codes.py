"""Every diagnostic code dnne reports, in one table: severity, the ComfyUI error type the editor gets, a docs anchor.

The pinned ComfyUI frontend replaces the server's text by its own generic sentence for most error types (e.g.
`invalid_input_type` → "couldn't convert unknown input to the expected type"). It shows the server's `details`
verbatim, on the node's error card and in its toast, for `exception_during_inner_validation` (an input of a node),
`exception_during_validation` (a whole node) and `dependency_cycle` (in the card). dnne therefore maps every code to one
of those, and puts its message and hint into `details` (see dnne/server/node_errors.py).

A test (tests/server/test_server_node_errors.py) fails when a code used anywhere in dnne/ is missing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

INPUT = "exception_during_inner_validation"  # shown on the input slot and the node, with the server's details
NODE = "exception_during_validation"  # shown on the node, with the server's details
CYCLE = "dependency_cycle"  # a loop of nodes: the frontend marks every node of it
REQUEST = "invalid_request"  # not about a node: a refused or malformed HTTP request (plain 4xx answers)
WARNING = "dnne_warning"  # warnings are never sent as node errors; the type only labels them in JSON

BAD_INPUTS = "docs/bad-inputs.md#bad-workflow-inputs-what-dnne-reports"
EDITOR_SAFETY = "docs/editor.md#safety"
EDITOR_HTTP = "docs/editor.md#http-additions-beyond-comfyuis-routes"
ARCHITECTURE = "docs/architecture.md#node-types-dnnecatalogpacksnake_namepy--snake_namepyjinja"
ROBOTICS = "docs/robotics.md#nodes"
EXPORT = "README.md#what-it-does"


@dataclass(frozen=True)
class CodeInfo:
    severity: Severity
    comfy_type: str
    docs: str


def _e(comfy_type: str, docs: str = BAD_INPUTS) -> CodeInfo:
    return CodeInfo("error", comfy_type, docs)


def _w(docs: str = BAD_INPUTS) -> CodeInfo:
    return CodeInfo("warning", WARNING, docs)


CODES: dict[str, CodeInfo] = {
    # reading the workflow file
    "E_PARSE": _e(NODE),
    "E_TOO_LARGE": _e(NODE),
    "E_NONFINITE": _e(NODE),
    "E_DUP_KEY": _e(NODE),
    "E_NUMBER_RANGE": _e(NODE),
    "E_FORMAT": _e(NODE),
    "E_EXPANSION_BUDGET": _e(NODE),
    "W_FORMAT_VERSION": _w(),
    # nodes and links
    "E_DUP_NODE": _e(NODE),
    "E_NODE_ID": _e(NODE),
    "E_UNKNOWN_TYPE": _e(NODE),
    "E_DANGLING_LINK": _e(INPUT),
    "E_ORPHAN_INPUT_LINK": _e(INPUT),
    "E_LINK_CONFLICT": _e(INPUT),
    "E_SLOT": _e(INPUT),
    "E_MULTI_INPUT": _e(INPUT),
    "E_DUP_LINK": _e(NODE),
    "E_TYPE_MISMATCH": _e(INPUT),
    "E_REQUIRED_INPUT": _e(INPUT),
    "E_UNKNOWN_INPUT": _e(INPUT),
    "E_UNKNOWN_OUTPUT": _e(NODE),
    "E_MODE": _e(NODE),
    "E_BYPASS": _e(NODE),
    "E_WORMHOLE": _e(NODE),
    "E_REROUTE_LOOP": _e(CYCLE),
    "E_UNSUPPORTED": _e(NODE),
    "W_ZOMBIE_LINK": _w(),
    "W_ORPHAN_INPUT_LINK": _w(),
    "W_LINK_PATCHED": _w(),
    "W_SLOT_COERCED": _w(),
    "W_UNREFERENCED_LINK": _w(),
    "W_LEGACY_TYPE": _w(),
    "W_LEGACY_INPUT": _w(),
    "W_LEGACY_SOCKET": _w(),
    "W_MUTED": _w(),
    # widget values
    "E_WIDGETS_SHORT": _e(NODE),
    "E_WIDGETS_LONG": _e(NODE),
    "E_WIDGET_TYPE": _e(INPUT),
    "E_WIDGET_RANGE": _e(INPUT),
    "E_NOT_IN_LIST": _e(INPUT),
    "W_WIDGET_DEFAULT": _w(),
    "W_WIDGET_EXTRA": _w(),
    "W_WIDGETS_DISAGREE": _w(),
    # graph analysis
    "E_CYCLE": _e(CYCLE),
    "E_NO_SINK": _e(NODE),
    "W_UNREACHABLE": _w(),
    # node types (their own checks)
    "E_BAD_VALUE": _e(INPUT, ARCHITECTURE),
    "E_NETWORK_CHAIN": _e(NODE, ARCHITECTURE),
    "E_SHAPE": _e(NODE, ARCHITECTURE),
    "W_LAYER_NOT_TRAINED": _w(ARCHITECTURE),
    "E_ENV_ID": _e(INPUT, ROBOTICS),
    "W_IGNORED_PATH": _w(ROBOTICS),
    # export
    "E_EXPORT": _e(NODE, EXPORT),
    "E_PARAM": _e(INPUT, EXPORT),
    "W_CONFIG_KEPT": _w(EXPORT),
    "W_CONFIG_REPLACED": _w(EXPORT),
    # the editor server (plain HTTP answers, not about one node)
    "E_DNNE": _e(REQUEST, EDITOR_HTTP),
    "E_BAD_REQUEST": _e(REQUEST, EDITOR_HTTP),
    "E_BODY_TOO_LARGE": _e(REQUEST, EDITOR_SAFETY),
    "E_NAME_TOO_LONG": _e(REQUEST, EDITOR_SAFETY),
    "E_PATH_REJECTED": _e(REQUEST, EDITOR_SAFETY),
    "E_HOST_REFUSED": _e(REQUEST, EDITOR_SAFETY),
    "E_ORIGIN_REFUSED": _e(REQUEST, EDITOR_SAFETY),
    "E_TOKEN_REQUIRED": _e(REQUEST, EDITOR_SAFETY),
    "E_FORBIDDEN": _e(REQUEST, EDITOR_SAFETY),
    "E_NOT_FOUND": _e(REQUEST, EDITOR_HTTP),
    "E_METHOD_NOT_ALLOWED": _e(REQUEST, EDITOR_HTTP),
    "E_RUN_IN_PROGRESS": _e(REQUEST, EDITOR_SAFETY),
    "E_RUN_ARGS": _e(REQUEST, EDITOR_SAFETY),
    "W_SETTINGS_UNREADABLE": _w(EDITOR_SAFETY),
}


def info(code: str) -> CodeInfo:
    """The table entry for `code`; an unlisted code (a bug the test catches) is shown like a node-level error."""
    known = CODES.get(code)
    if known is not None:
        return known
    return _w() if code.startswith("W_") else _e(NODE)


def docs_anchor(code: str) -> str:
    """Where the docs explain `code` (a path#anchor in this repository)."""
    return info(code).docs


def comfy_error_type(code: str, *, has_field: bool = True) -> str:
    """The ComfyUI error type for `code`; an input-level code without an input falls back to the node level."""
    kind = info(code).comfy_type
    return NODE if kind == INPUT and not has_field else kind
