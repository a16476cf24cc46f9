from dnne.errors import Diagnostic
from dnne.server.node_errors import comfy_error_type, error_body


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
    assert first["extra_info"] == {"input_name": "batch_size", "dnne_code": "E_WIDGET_RANGE"}
    assert "expected a value ≥ 1, got 0" in first["details"]
    assert get_batch["errors"][1]["type"] == "required_input_missing"
    assert body["node_errors"]["3"]["errors"][0]["type"] == "missing_node_type"
    assert "did you mean" in body["node_errors"]["3"]["errors"][0]["details"]
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    assert "E_UNKNOWN_TYPE" in body["error"]["details"]
    assert len(body["diagnostics"]) == 4


def test_graph_level_errors_become_the_top_level_error():
    body = error_body([Diagnostic("E_NO_SINK", "the graph has no terminal node")])
    assert body["node_errors"] == {}
    assert body["error"]["type"] == "prompt_no_outputs"
    assert body["error"]["message"] == "the graph has no terminal node"


def test_error_type_mapping():
    assert comfy_error_type("E_CYCLE") == "dependency_cycle"
    assert comfy_error_type("E_TYPE_MISMATCH") == "return_type_mismatch"
    assert comfy_error_type("E_SOMETHING_ELSE") == "invalid_input_type"
