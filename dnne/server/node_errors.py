"""Turn dnne diagnostics into ComfyUI's `/api/prompt` error shape, so the editor highlights the nodes at fault."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dnne.diagnostic_codes import comfy_error_type, docs_anchor
from dnne.errors import Diagnostic

# An error answer lists at most this many diagnostics (and says how many more there were): a small hostile request
# (a subgraph expansion bomb) can yield millions of them, and the answer must stay small enough for the editor.
MAX_LISTED_DIAGNOSTICS = 50
MAX_TEXT_CHARS = 2000  # one message, detail or value shown in an answer


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def _details(diag: Diagnostic) -> str:
    """What the editor shows verbatim (its own sentence replaces `message`): dnne's code, message, expected/got, hint."""
    parts = [f"{diag.code}: {diag.message}"]
    if diag.expected is not None or diag.got is not None:
        parts.append(f"expected {diag.expected}, got {diag.got}")
    text = "; ".join(parts)
    return f"{text}. Hint: {diag.hint}" if diag.hint else text


def _entry(diag: Diagnostic) -> dict[str, Any]:
    extra: dict[str, Any] = {"dnne_code": diag.code, "docs": docs_anchor(diag.code)}
    if diag.field:
        extra["input_name"] = diag.field
    return {
        "type": comfy_error_type(diag.code, has_field=bool(diag.field)),
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
        slot = node_errors.setdefault(  # the editor's own id when dnne mapped it (a string id such as "KSampler")
            str(diag.node_id if diag.user_id is None else diag.user_id),
            {"errors": [], "dependent_outputs": [], "class_type": diag.node_type or ""},
        )
        slot["errors"].append(_entry(diag))
    if general:
        first = general[0]
        error = {
            "type": comfy_error_type(first.code, has_field=False),
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
