"""Turn dnne diagnostics into ComfyUI's `/api/prompt` error shape, so the editor highlights the nodes at fault."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dnne.errors import Diagnostic

# An error answer lists at most this many diagnostics (and says how many more there were): a small hostile request
# (a subgraph expansion bomb) can yield millions of them, and the answer must stay small enough for the editor.
MAX_LISTED_DIAGNOSTICS = 50
MAX_TEXT_CHARS = 2000  # one message, detail or value shown in an answer

# dnne code fragment -> ComfyUI error type (the frontend shows `message`/`details`; the type only labels it)
_TYPE_BY_FRAGMENT = (
    ("UNKNOWN_TYPE", "missing_node_type"),
    ("UNKNOWN_NODE", "missing_node_type"),
    ("MISSING", "required_input_missing"),
    ("REQUIRED", "required_input_missing"),
    ("TYPE_MISMATCH", "return_type_mismatch"),
    ("LINK", "bad_linked_input"),
    ("CYCLE", "dependency_cycle"),
    ("NO_SINK", "prompt_no_outputs"),
    ("SMALL", "value_smaller_than_min"),
    ("MIN", "value_smaller_than_min"),
    ("BIG", "value_bigger_than_max"),
    ("MAX", "value_bigger_than_max"),
    ("COMBO", "value_not_in_list"),
    ("CHOICE", "value_not_in_list"),
)


def comfy_error_type(code: str) -> str:
    for fragment, kind in _TYPE_BY_FRAGMENT:
        if fragment in code:
            return kind
    return "invalid_input_type" if code.startswith("E_") else "dnne_warning"


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def _details(diag: Diagnostic) -> str:
    parts = []
    if diag.field:
        parts.append(f"input {diag.field!r}")
    if diag.expected is not None or diag.got is not None:
        parts.append(f"expected {diag.expected}, got {diag.got}")
    if diag.hint:
        parts.append(f"hint: {diag.hint}")
    return "; ".join(parts)


def _entry(diag: Diagnostic) -> dict[str, Any]:
    extra: dict[str, Any] = {"dnne_code": diag.code}
    if diag.field:
        extra["input_name"] = diag.field
    return {
        "type": comfy_error_type(diag.code),
        "message": clip(diag.message),
        "details": clip(_details(diag)),
        "extra_info": extra,
    }


def to_node_errors(
    diagnostics: Iterable[Diagnostic], total_errors: int | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(error, node_errors)` for an HTTP 400 body: errors attached to nodes go to `node_errors[<id>]`.

    Only errors count (warnings are left out). Problems without a node become the top-level `error`.
    `total_errors`: how many errors there were in all when `diagnostics` lists only some of them.
    """
    node_errors: dict[str, Any] = {}
    general: list[Diagnostic] = []
    errors = [d for d in diagnostics if d.is_error]
    total = len(errors) if total_errors is None else total_errors
    for diag in errors:
        if diag.node_id is None:
            general.append(diag)
            continue
        slot = node_errors.setdefault(
            str(diag.node_id), {"errors": [], "dependent_outputs": [], "class_type": diag.node_type or ""}
        )
        slot["errors"].append(_entry(diag))
    if general:
        first = general[0]
        error = {
            "type": comfy_error_type(first.code),
            "message": clip("; ".join(d.message for d in general)),
            "details": clip("\n".join(d.format() for d in errors), MAX_TEXT_CHARS * 10),
            "extra_info": {"dnne_codes": [d.code for d in general]},
        }
    else:
        error = {
            "type": "prompt_outputs_failed_validation",
            "message": f"Prompt outputs failed validation ({total} problem(s) found by dnne)",
            "details": clip("\n".join(d.format() for d in errors), MAX_TEXT_CHARS * 10),
            "extra_info": {},
        }
    return error, node_errors


def _clipped_json(diag: Diagnostic) -> dict[str, Any]:
    return {k: clip(v) if isinstance(v, str) else v for k, v in diag.to_json().items()}


def error_body(diagnostics: Iterable[Diagnostic]) -> dict[str, Any]:
    """The whole HTTP 400 body: `{"error": …, "node_errors": …, "diagnostics": [...]}`.

    Lists at most MAX_LISTED_DIAGNOSTICS (errors first); `diagnostics_omitted` counts the rest.
    """
    diagnostics = list(diagnostics)
    ordered = [d for d in diagnostics if d.is_error] + [d for d in diagnostics if not d.is_error]
    listed = ordered[:MAX_LISTED_DIAGNOSTICS]
    omitted = len(ordered) - len(listed)
    error, node_errors = to_node_errors(listed, total_errors=sum(1 for d in diagnostics if d.is_error))
    body = {"error": error, "node_errors": node_errors, "diagnostics": [_clipped_json(d) for d in listed]}
    if omitted:
        body["diagnostics_omitted"] = omitted
        error["extra_info"]["diagnostics_omitted"] = omitted
        error["message"] += f" (only the first {len(listed)} are listed; {omitted:,} more not shown)"
    return body


def plain_error(kind: str, message: str, details: str = "", code: str | None = None) -> dict[str, Any]:
    """A 4xx body for a problem that is not about one node (bad request shape, busy, …); `code` is dnne's E_… code."""
    extra = {"dnne_code": code} if code else {}
    body = {"type": kind, "message": clip(message), "details": clip(details), "extra_info": extra}
    return {"error": body, "node_errors": {}}
