"""Property tests: valid-by-construction workflows load cleanly; one-defect mutations fail with that code."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from dnne.workflow.load import load_workflow
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
