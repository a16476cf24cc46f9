"""Property tests: valid-by-construction workflows load cleanly; one-defect mutations fail with that code."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnne.workflow.load import load_workflow
from dnne.workflow.raw import is_negative_id
from tests.fuzz.strategies import Drawn, Mutated, mutated_workflows, valid_workflows
from tests.workflow.mini_catalog import mini_catalog

CATALOG = mini_catalog()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(valid_workflows(CATALOG))
def test_valid_workflows_load_without_errors(drawn: Drawn) -> None:
    result = load_workflow(drawn.doc, CATALOG)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    assert {d.code for d in result.diagnostics} <= {"W_WIDGET_EXTRA"}
    assert len(result.graph.nodes) == len(drawn.builder.nodes)
    assert len(result.graph.edges) == len(drawn.builder.links)
    for built in drawn.builder.nodes:
        assert result.graph.nodes[str(built.id)].widgets == built.widgets


@SETTINGS
@given(mutated_workflows(CATALOG))
def test_single_defect_fails_with_its_code(mutated: Mutated) -> None:
    result = load_workflow(mutated.data, CATALOG)
    errors = {d.code for d in result.diagnostics if d.is_error}
    assert result.graph is None, mutated.description
    assert mutated.code in errors, (mutated.description, [d.format() for d in result.diagnostics])
    assert errors <= {mutated.code} | mutated.allowed, (mutated.description, sorted(errors))


NODE_ID_TEXT = st.text(min_size=1, max_size=20).filter(lambda t: not is_negative_id(t))


@SETTINGS
@given(valid_workflows(CATALOG), st.data())
def test_string_node_ids_give_the_same_graph(drawn: Drawn, data: st.DataObject) -> None:
    """Any non-empty string ids (numeric text, "a:b", unicode, control characters) in place of the integer ids: the
    same nodes, widgets and edges, each node found again by its own id."""
    built = [n.id for n in drawn.builder.nodes]
    texts = data.draw(st.lists(NODE_ID_TEXT, min_size=len(built), max_size=len(built), unique=True))
    new = dict(zip(built, texts, strict=True))
    doc = copy.deepcopy(drawn.doc)
    if drawn.fmt == "api":
        for node in doc.values():
            for name, value in node["inputs"].items():
                if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                    node["inputs"][name] = [new[int(value[0])], value[1]]
        doc = {new[int(key)]: node for key, node in doc.items()}
    else:
        for node in doc["nodes"]:
            node["id"] = new[node["id"]]
        for link in doc["links"]:
            if isinstance(link, dict):
                link["origin_id"], link["target_id"] = new[link["origin_id"]], new[link["target_id"]]
            else:
                link[1], link[3] = new[link[1]], new[link[3]]
    result = load_workflow(doc, CATALOG)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    graph = result.graph
    assert all(n.id.replace(":", "").isdigit() and n.id.isascii() for n in graph), list(graph.nodes)
    own = {n.id: n.user_id if n.user_id is not None else n.id for n in graph}
    original = {text: node_id for node_id, text in new.items()}
    for built_node in drawn.builder.nodes:
        internal = next(i for i, text in own.items() if text == new[built_node.id])
        assert graph.nodes[internal].widgets == built_node.widgets
    edges = {(original[own[e.src]], e.src_output, original[own[e.dst]], e.dst_input) for e in graph.edges}
    assert edges == {(src, out, dst, inp) for _, src, out, dst, inp in drawn.builder.links}
