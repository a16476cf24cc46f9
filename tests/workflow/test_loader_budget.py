"""Loader hardening after the outside review: budgets that hold after expansion (A), linear passes (B), huge numbers
(C), real files that used to be refused (D) and widgets_values vs widgets_values_named (E)."""

from __future__ import annotations

import json
import time
import tracemalloc

import pytest

from dnne.errors import Diagnostic, cap_per_code
from dnne.graph.analysis import analyze
from dnne.workflow.load import load_workflow
from tests.workflow.bombs import expansion_bomb, native_reroute_chain, reroute_node_chain
from tests.workflow.builder import WorkflowBuilder
from tests.workflow.make_bad_cases import small
from tests.workflow.real_catalog import real_catalog

BIG = {"max_nodes": 300_000, "max_links": 300_000}


def _codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


# -- A: expansion budget ------------------------------------------------------------------------------------------
def test_small_file_that_expands_to_millions_is_refused_early(catalog):
    text = json.dumps(expansion_bomb(levels=7, fanout=10))  # 10^7 LinearLayers, ~1.2·10^7 links
    assert len(text) < 50_000
    tracemalloc.start()
    start = time.perf_counter()
    result = load_workflow(text, catalog)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    message = f"{len(text):,} B file: {seconds * 1000:.1f} ms, peak {peak / 1e6:.2f} MB"
    print(message)
    assert _codes(result) == ["E_EXPANSION_BUDGET"], message
    diag = result.diagnostics[0]
    assert "'level-6'" in diag.message and "10,000,000 nodes" in diag.got and "2,000 nodes" in diag.expected
    assert "12,222,221 links" in diag.got, diag.got
    assert peak < 50_000_000, message  # a memory bound, not a time bound: the expansion was never built


def test_budget_counts_every_instance_of_a_level(catalog):
    """The old guard compared each instance alone with the limit; 3 × 1,000 inner nodes passed a 2,000 limit."""
    doc = expansion_bomb(levels=1, fanout=1000)
    doc["nodes"] = [dict(doc["nodes"][0], id=i) for i in (1, 2, 3)]
    result = load_workflow(doc, catalog)
    assert _codes(result) == ["E_EXPANSION_BUDGET"]
    assert "3,000 nodes" in result.diagnostics[0].got


def test_diagnostics_of_one_code_are_capped():
    many = [Diagnostic("E_UNKNOWN_TYPE", f"unknown {i}", node_id=str(i)) for i in range(500)]
    capped = cap_per_code(many, 50)
    assert len(capped) == 51 and capped[-1].message.startswith("… and 450 more E_UNKNOWN_TYPE")


def test_report_of_a_hostile_file_stays_small(catalog):
    doc = {"version": 0.4, "nodes": [{"id": i, "type": "NoSuchType"} for i in range(1, 1_900)], "links": []}
    result = load_workflow(doc, catalog)
    text = "\n".join(d.format() for d in result.diagnostics)
    assert len(result.diagnostics) == 51 and len(text) < 20_000, len(text)


# -- B: linear passes -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loop", [False, True])
def test_200k_native_reroute_chain(catalog, loop):
    doc = native_reroute_chain(200_000, loop=loop)
    start = time.perf_counter()
    result = load_workflow(doc, catalog)
    print(f"native reroutes, 200k, loop={loop}: {time.perf_counter() - start:.2f} s")
    loops = [d for d in result.diagnostics if d.code == "E_REROUTE_LOOP"]
    assert len(loops) == (1 if loop else 0)
    if loop:
        assert "(200,000 in all)" in loops[0].message and len(loops[0].message) < 400


@pytest.mark.parametrize("loop", [False, True])
def test_200k_reroute_node_chain(catalog, loop):
    doc = reroute_node_chain(200_000, loop=loop)
    start = time.perf_counter()
    result = load_workflow(doc, catalog, **BIG)
    print(f"Reroute nodes, 200k, loop={loop}: {time.perf_counter() - start:.2f} s")
    codes = _codes(result)
    # the chain starts nowhere, so the LinearLayer's input is unconnected either way; a loop is named as one
    assert "E_REQUIRED_INPUT" in codes
    assert ("E_REROUTE_LOOP" in codes) is loop


# -- C: huge numbers --------------------------------------------------------------------------------------------
def _one_value(catalog, value) -> tuple[dict, list[str]]:
    b = small(catalog)
    b.node(2).widgets["batch_size"] = 1
    doc = b.to_ui()
    doc["nodes"][1]["widgets_values"][0] = value
    return doc, []


def test_huge_integer_widget_is_a_range_error(catalog):
    doc, _ = _one_value(catalog, 0)
    text = json.dumps(doc).replace('"widgets_values": [0,', '"widgets_values": [' + "9" * 5000 + ",", 1)
    result = load_workflow(text, catalog)
    assert _codes(result) == ["E_NUMBER_RANGE"]
    d = result.diagnostics[0]
    assert d.path == "$.nodes[1].widgets_values[0]" and "5,000 digits" in d.got and len(d.got) < 40


def test_huge_python_int_in_a_dict_source(catalog):
    doc, _ = _one_value(catalog, 10**5000)
    result = load_workflow(doc, catalog)
    assert _codes(result) == ["E_NUMBER_RANGE"] and "digits" in result.diagnostics[0].got


def test_long_but_parseable_integer_is_out_of_range(catalog):
    doc, _ = _one_value(catalog, 10**40)
    result = load_workflow(doc, catalog)
    assert "E_WIDGET_RANGE" in _codes(result)


def test_100k_digit_string_for_an_int(catalog):
    doc, _ = _one_value(catalog, "7" * 100_000)
    result = load_workflow(doc, catalog)
    bad = [d for d in result.diagnostics if d.code == "E_WIDGET_TYPE"]
    assert bad and bad[0].expected == "an integer" and len(bad[0].got) <= 60


def test_100k_digit_slot_and_node_id(catalog):
    doc = small(catalog).to_ui()
    doc["links"][0][2] = "1" * 100_000
    result = load_workflow(doc, catalog)
    assert "E_SLOT" in _codes(result)
    prompt = small(catalog).to_api()
    prompt["9" * 100_000] = prompt.pop("1")
    result = load_workflow(prompt, catalog)  # sorting the ids must not call int() on them
    assert result.graph is None and all(len(d.format()) < 2_000 for d in result.diagnostics)


# -- D: real files --------------------------------------------------------------------------------------------
def test_fewer_saved_inputs_are_merged_by_index(catalog):
    b = small(catalog)
    doc = b.to_ui()
    net = doc["nodes"][3]
    assert net["type"] == "Network"
    net["inputs"] = net["inputs"][:1]  # saved before `to_output` existed; the link still targets slot 1
    result = load_workflow(doc, catalog)
    assert result.ok, [d.format() for d in result.diagnostics]


def test_unreferenced_link_row_is_dropped_with_a_warning(catalog):
    doc = small(catalog).to_ui()
    # a leftover row into GetBatch.dataloader (slot 0), which names link 3: neither end names link 99
    doc["links"].append([99, 1, 0, 3, 0, "DATASET"])
    result = load_workflow(doc, catalog)
    assert result.ok and [c for c in _codes(result) if c != "W_WIDGET_EXTRA"] == ["W_UNREFERENCED_LINK"]


def test_early_original_network_without_checkpoint_widgets():
    catalog_real = real_catalog()
    assert catalog_real is not None, "the real node catalog does not import"
    b = WorkflowBuilder(catalog_real)
    node = b.add("Network")
    doc = b.to_ui()
    doc["nodes"][0]["widgets_values"] = [True]  # only checkpoint_enabled existed
    result = load_workflow(doc, catalog_real)
    defaults = [d for d in result.diagnostics if d.code == "W_WIDGET_DEFAULT"]
    assert not [d for d in result.errors if d.code == "E_WIDGETS_SHORT"], [d.format() for d in result.errors]
    assert defaults and "checkpoint_trigger_type='epoch'" in defaults[0].message
    assert node == 1


def test_no_expected_none_and_no_sink_says_what_is_there(catalog):
    b = small(catalog)
    doc = b.to_ui()
    for n in doc["nodes"]:
        n["mode"] = 4
    doc["nodes"].append({"id": 50, "type": "Note", "mode": 0, "widgets_values": ["hello"]})
    result = load_workflow(doc, catalog)
    assert result.ok
    analysis = analyze(result.graph)
    (no_sink,) = [d for d in analysis.diagnostics if d.code == "E_NO_SINK"]
    assert "6 bypassed" in no_sink.message and "1 note" in no_sink.message
    assert "None" not in Diagnostic("E_X", "m", got="x").format()


# -- E: widgets_values vs widgets_values_named ------------------------------------------------------------------
def test_disagreeing_named_and_positional_widgets(catalog):
    b = small(catalog)
    doc = b.to_ui(named=True)
    sampler = doc["nodes"][1]
    sampler["widgets_values"][0] = "sixty-four"  # hand-edited list; the named copy still says the old value
    result = load_workflow(doc, catalog)
    codes = _codes(result)
    assert "W_WIDGETS_DISAGREE" in codes and "E_WIDGET_TYPE" in codes, codes
    (warn,) = [d for d in result.diagnostics if d.code == "W_WIDGETS_DISAGREE"]
    assert warn.field == "batch_size" and "'sixty-four'" in warn.message and "widgets_values is used" in warn.message


def test_named_wins_only_when_the_list_does_not_fit(catalog):
    b = small(catalog)
    doc = b.to_ui(named=True)
    sampler = doc["nodes"][1]
    sampler["widgets_values"] = [1, 2, 3, 4, 5, 6, 7, 8, 9]  # not this node's widgets at all
    result = load_workflow(doc, catalog)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert result.graph.nodes["2"].widgets == sampler["widgets_values_named"]
