import re
from pathlib import Path

import pytest

from dnne.diagnostic_codes import CODES, CYCLE, INPUT, NODE, REQUEST, WARNING, comfy_error_type
from dnne.errors import Diagnostic
from dnne.server.node_errors import error_body, to_node_errors

DNNE = Path(__file__).resolve().parents[2] / "dnne"
NOT_CODES = {"W_OK", "E_CODE"}  # os.W_OK; a placeholder in a docstring


def test_errors_are_grouped_by_node_in_comfyui_shape():
    diags = [
        Diagnostic(
            "E_UNKNOWN_TYPE", "unknown node type 'Foo'", node_id="3", node_type="Foo", hint="did you mean 'Food'?"
        ),
        Diagnostic(
            "E_WIDGET_RANGE",
            "batch_size is too small",
            node_id="5:2",
            node_type="GetBatch",
            field="batch_size",
            expected="a value ≥ 1",
            got="0",
        ),  # fmt: skip
        Diagnostic(
            "E_MISSING_INPUT",
            "required input 'dataset' is not connected",
            node_id="5:2",
            node_type="GetBatch",
            field="dataset",
        ),  # fmt: skip
        Diagnostic("W_LEGACY_TYPE", "old name", node_id="7", node_type="X"),
    ]
    body = error_body(diags)
    assert set(body["node_errors"]) == {"3", "5:2"}  # warnings do not mark nodes
    get_batch = body["node_errors"]["5:2"]
    assert get_batch["class_type"] == "GetBatch" and get_batch["dependent_outputs"] == []
    first = get_batch["errors"][0]
    assert set(first) == {"type", "message", "details", "extra_info"}
    assert first["extra_info"] == {
        "input_name": "batch_size",
        "dnne_code": "E_WIDGET_RANGE",
        "docs": "docs/bad-inputs.md#bad-workflow-inputs-what-dnne-reports",
    }
    assert first["details"] == "E_WIDGET_RANGE: batch_size is too small; expected a value ≥ 1, got 0"
    assert first["type"] == INPUT  # the frontend shows `details` verbatim for this type, on the input
    unknown = body["node_errors"]["3"]["errors"][0]
    assert unknown["type"] == NODE
    assert unknown["details"] == "E_UNKNOWN_TYPE: unknown node type 'Foo'. Hint: did you mean 'Food'?"
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    assert "E_UNKNOWN_TYPE" in body["error"]["details"]
    assert len(body["diagnostics"]) == 4


def test_graph_level_errors_become_the_top_level_error():
    body = error_body([Diagnostic("E_NO_SINK", "the graph has no terminal node")])
    assert body["node_errors"] == {}
    assert body["error"]["type"] == NODE  # not prompt_no_outputs: the frontend would show its own sentence
    assert body["error"]["message"] == "the graph has no terminal node"


def test_error_type_mapping():
    assert comfy_error_type("E_CYCLE") == CYCLE
    assert comfy_error_type("E_TYPE_MISMATCH") == INPUT
    assert comfy_error_type("E_TYPE_MISMATCH", has_field=False) == NODE  # no input to attach it to
    assert comfy_error_type("E_ORIGIN_REFUSED") == REQUEST
    assert comfy_error_type("E_SOMETHING_ELSE") == NODE


def test_every_code_used_in_dnne_is_in_the_table():
    used = set()
    for path in DNNE.rglob("*"):
        if path.suffix in (".py", ".jinja", ".js") and path.is_file():
            used |= set(re.findall(r"\b[EW]_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    used -= NOT_CODES
    assert len(used) > 50, used
    missing = sorted(used - set(CODES))
    assert not missing, f"add these codes to dnne/diagnostic_codes.py CODES: {missing}"
    for code, entry in CODES.items():
        assert entry.severity == ("warning" if code.startswith("W_") else "error"), code
        assert (entry.comfy_type == WARNING) == code.startswith("W_"), code
        doc, _, anchor = entry.docs.partition("#")
        assert (DNNE.parent / doc).is_file() and anchor, (code, entry.docs)


@pytest.mark.parametrize("with_field", [True, False])
def test_cli_json_and_server_node_errors_agree_for_every_code(with_field):
    """One registry: `dnne validate --json` (codegen.validate.node_errors_report) and the editor server's
    node_errors give every code the same ComfyUI error type and docs anchor."""
    from dnne.codegen.validate import node_errors_report

    for code in sorted(c for c in CODES if c.startswith("E_")):
        diag = Diagnostic(code, "a problem", node_id="3", node_type="T", field="x" if with_field else None)
        cli = node_errors_report([diag])["node_errors"]["3"]["errors"][0]
        _error, server = to_node_errors([diag])
        served = server["3"]["errors"][0]
        assert cli["type"] == served["type"], code
        assert cli["extra_info"]["docs"] == served["extra_info"]["docs"] == CODES[code].docs, code
        assert cli["extra_info"]["code"] == served["extra_info"]["dnne_code"] == code
