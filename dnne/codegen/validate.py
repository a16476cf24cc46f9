"""Validation without writing anything: load, run exporters, analyse the folded graph; and the JSON report shape."""

from __future__ import annotations

from typing import Any

from dnne.diagnostic_codes import comfy_error_type, docs_anchor
from dnne.errors import Diagnostic, Diagnostics


def validate_workflow(
    source: Any, catalog: Any = None, *, strict: bool = False, name: str | None = None
) -> list[Diagnostic]:
    """Every diagnostic an export of `source` would report (sorted); nothing is rendered or written."""
    from dnne.codegen.export import run_exporters
    from dnne.graph.analysis import analyze
    from dnne.workflow.load import load_workflow

    loaded = load_workflow(source, catalog, strict=strict, name=name)
    diags = Diagnostics(list(loaded.diagnostics))
    if loaded.graph is not None and not diags.has_errors():
        _params, folded = run_exporters(loaded.graph, diags)
        if not diags.has_errors():
            diags.extend(analyze(folded).diagnostics)
    return diags.sorted()


def is_failure(diagnostics: list[Diagnostic], strict: bool = False) -> bool:
    return any(d.is_error for d in diagnostics) or (strict and bool(diagnostics))


def node_errors_report(diagnostics: list[Diagnostic], strict: bool = False) -> dict[str, Any]:
    """ComfyUI's `/api/prompt` error shape (`error` + `node_errors` by node id) plus every diagnostic in our form."""
    failing = [d for d in diagnostics if d.is_error or strict]
    node_errors: dict[str, dict[str, Any]] = {}
    general: list[str] = []
    for diag in failing:
        entry = {
            # error type and docs anchor from the one diagnostics registry, as the editor server sends them
            "type": comfy_error_type(diag.code, has_field=bool(diag.field)),
            "message": diag.message,
            "details": diag.format(),
            "extra_info": {"code": diag.code, "docs": docs_anchor(diag.code)}
            | ({"input_name": diag.field} if diag.field else {}),
        }
        if diag.node_id is None:
            general.append(diag.format())
            continue
        # Keyed by the workflow's own id (a string id is mapped internally): the editor marks the node it knows.
        slot = node_errors.setdefault(
            str(diag.node_id if diag.user_id is None else diag.user_id),
            {"errors": [], "dependent_outputs": [], "class_type": diag.node_type or ""},
        )
        slot["errors"].append(entry)
    report: dict[str, Any] = {
        "ok": not failing,
        "node_errors": node_errors,
        "diagnostics": [d.to_json() for d in diagnostics],
    }
    if failing:
        first = failing[0]
        no_sink = any(d.code == "E_NO_SINK" for d in failing)
        report["error"] = {
            "type": "prompt_no_outputs" if no_sink else "prompt_outputs_failed_validation",
            "message": "Prompt has no outputs" if no_sink else "Prompt outputs failed validation",
            "details": "\n".join(general) if general else first.format(),
            "extra_info": {"error_count": len(failing)},
        }
    return report
