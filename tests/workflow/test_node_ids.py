"""String node ids ("KSampler", "node-1", ids with spaces or unicode) load in every format, mapped to fresh integer
ids; ids that cannot be taken keep E_NODE_ID / E_DUP_NODE; hostile ids never reach the export."""

from __future__ import annotations

import ast
import copy
import json

import pytest

from dnne.catalog.registry import default_catalog
from dnne.codegen.export import export_workflow
from dnne.codegen.validate import node_errors_report
from dnne.codegen.writer import read_tree
from dnne.server.node_errors import to_node_errors
from dnne.workflow.formats import read_ui
from dnne.workflow.load import load_workflow
from tests.workflow import test_subgraphs
from tests.workflow.builder import mnist

# mnist(): 1 MNISTDataset, 2 BatchSampler, 3 GetBatch, 4 Network, 5 LinearLayer, 6 SGDOptimizer,
# 7 CrossEntropyLoss, 8 TrainingStep, 9 EpochTracker.
STRING_IDS = {1: "MNIST data", 2: "node-1", 3: "ünï", 5: "KSampler", 6: "12:3", 7: "05", 8: "  "}
# Kept: 4 and 9 (plain integers). The others get 10, 11, … in file order.
EXPECTED = {"MNIST data": "10", "node-1": "11", "ünï": "12", "KSampler": "13", "12:3": "14", "05": "15", "  ": "16"}


def renumbered(doc: dict, new_ids: dict) -> dict:
    """A UI workflow (0.4 link arrays or version-1 link objects) with node ids replaced, links included."""
    for node in doc["nodes"]:
        node["id"] = new_ids.get(node["id"], node["id"])
    for link in doc["links"]:
        if isinstance(link, dict):
            link["origin_id"] = new_ids.get(link["origin_id"], link["origin_id"])
            link["target_id"] = new_ids.get(link["target_id"], link["target_id"])
        else:
            link[1], link[3] = new_ids.get(link[1], link[1]), new_ids.get(link[3], link[3])
    return doc


def renumbered_api(prompt: dict, new_ids: dict) -> dict:
    texts = {str(k): v for k, v in new_ids.items()}
    out = {}
    for key, node in prompt.items():
        for name, value in node["inputs"].items():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                node["inputs"][name] = [texts.get(value[0], value[0]), value[1]]
        out[texts.get(key, key)] = node
    return out


def mapped_edges(graph, internal: dict[str, str]) -> set[str]:
    """The graph's edges with the file's ids, to compare with the same workflow saved with integer ids."""
    back = {v: k for k, v in internal.items()}
    return {f"{back.get(e.src, e.src)}.{e.src_output} -> {back.get(e.dst, e.dst)}.{e.dst_input}" for e in graph.edges}


def reference_edges(catalog) -> set[str]:
    graph = load_workflow(mnist(catalog).to_ui(), catalog).graph
    texts = {str(k): v for k, v in STRING_IDS.items()}
    return {f"{texts.get(e.src, e.src)}.{e.src_output} -> {texts.get(e.dst, e.dst)}.{e.dst_input}" for e in graph.edges}


def assert_mapped(result, catalog) -> None:
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    graph = result.graph
    assert sorted(graph.nodes, key=int) == ["4", "9", *EXPECTED.values()]
    assert {n.id: n.user_id for n in graph} == {"4": None, "9": None} | {v: k for k, v in EXPECTED.items()}
    assert mapped_edges(graph, EXPECTED) == reference_edges(catalog)


@pytest.mark.parametrize("version", [0.4, 1])
def test_ui_string_ids_load_as_fresh_integers_in_file_order(catalog, version):
    doc = renumbered(mnist(catalog).to_ui(version=version), STRING_IDS)
    assert_mapped(load_workflow(doc, catalog), catalog)
    assert load_workflow(json.dumps(doc), catalog).graph.nodes.keys() == load_workflow(doc, catalog).graph.nodes.keys()


def test_api_string_keys_and_references(catalog):
    prompt = renumbered_api(mnist(catalog).to_api(), STRING_IDS)
    assert prompt["KSampler"]["class_type"] == "LinearLayer" and prompt["12:3"]["inputs"]["network"][0] == "4"
    result = load_workflow(prompt, catalog)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    # "4", "9" and the frontend's flattened-subgraph id "12:3" are kept; the rest are fresh above the largest kept
    # first part (12), in key order.
    kept = {"4", "9", "12:3"}
    expected = {key: str(13 + n) for n, key in enumerate(k for k in prompt if k not in kept)}
    assert {n.id: n.user_id for n in result.graph} == dict.fromkeys(kept) | {v: k for k, v in expected.items()}
    assert mapped_edges(result.graph, expected) == reference_edges(catalog)


def test_prompt_bodies_with_string_ids(catalog):
    ui = renumbered(mnist(catalog).to_ui(), STRING_IDS)
    body = {"client_id": "c", "prompt": {}, "extra_data": {"extra_pnginfo": {"workflow": ui}}}
    assert_mapped(load_workflow(body, catalog), catalog)
    prompt = renumbered_api(mnist(catalog).to_api(), STRING_IDS)
    result = load_workflow({"client_id": "c", "prompt": prompt}, catalog)
    assert result.graph is not None and result.graph.source_format == "prompt"
    assert {n.user_id for n in result.graph} == {None, *STRING_IDS.values()} - {"12:3"}


def test_subgraph_string_ids_flatten_with_the_users_path(catalog):
    doc = test_subgraphs.workflow()
    renumbered(doc, {5: "batches"})
    sub_a = doc["definitions"]["subgraphs"][0]
    renumbered(sub_a, {1: "get", 2: "inner", 3: "bypassed"})
    sub_b = sub_a["definitions"]["subgraphs"][0]
    renumbered(sub_b, {1: "lin"})
    sub_a["nodes"][1]["properties"]["proxyWidgets"] = [["lin", "output_size"]]  # names the inner node by its id
    result = load_workflow(doc, catalog)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    graph = result.graph
    # Top level: 1 2 6 7 8 are plain, "batches" → 9; inside: "get" → 1, "inner" → 2 (its "lin" → 1).
    assert list(graph.nodes) == ["1", "2", "6", "7", "8", "9:1", "9:2:1"]
    assert graph.nodes["9:1"].user_id == "batches:get"
    assert graph.nodes["9:2:1"].user_id == "batches:inner:lin"
    assert graph.nodes["6"].user_id is None
    assert graph.nodes["9:2:1"].widgets["output_size"] == 33
    assert "9:2:1.output -> 6.input" in {str(e) for e in graph.edges}  # through the bypassed one


def test_a_mapped_id_is_not_found_by_a_link_to_a_missing_number(catalog):
    doc = renumbered(mnist(catalog).to_ui(), {1: "data"})
    # Link 1 now leaves node 10, which does not exist: "data" must not become 10 and catch it.
    doc["links"][0][1] = 10
    result = load_workflow(doc, catalog)
    dangling = [d for d in result.diagnostics if d.code == "E_DANGLING_LINK"]
    assert dangling and "node 10," in dangling[0].message, [d.format() for d in result.diagnostics]
    level = read_ui(doc, "$")
    assert level.nodes["11"].user_id == "data" and "10" not in level.nodes  # fresh ids skip the linked 10
    assert [(c.src.name, c.dst_input) for c in level.conns if c.src.node == "11"] == [("schema", "schema")]


def test_diagnostics_name_the_users_id(catalog):
    doc = renumbered(mnist(catalog).to_ui(), {2: "sampler\nwith a newline", 5: "KSampler"})
    doc["nodes"][1]["widgets_values"][0] = "not a number"  # BatchSampler batch_size
    doc["nodes"][4]["type"] = "LinearLayr"
    result = load_workflow(doc, catalog)
    assert result.graph is None
    by_code = {d.code: d for d in result.diagnostics}
    widget, unknown = by_code["E_WIDGET_TYPE"], by_code["E_UNKNOWN_TYPE"]
    assert (widget.node_id, widget.user_id) == ("10", "sampler\nwith a newline")
    assert widget.format().startswith("E_WIDGET_TYPE: node 'sampler\\nwith a newline' (id 10) (BatchSampler")
    assert (unknown.node_id, unknown.user_id) == ("11", "KSampler")
    assert "node 'KSampler' (id 11)" in unknown.format()
    # The editor (dnne serve) finds the failing nodes under its own ids.
    assert {"sampler\nwith a newline", "KSampler"} <= set(node_errors_report(result.diagnostics)["node_errors"])
    assert {"sampler\nwith a newline", "KSampler"} <= set(to_node_errors(result.diagnostics)[1])


def test_a_long_id_is_cut_in_messages_but_kept_whole(catalog):
    long_id = "x" * 10_000
    doc = renumbered(mnist(catalog).to_ui(), {2: long_id})
    doc["nodes"][1]["widgets_values"][0] = "not a number"
    diag = next(d for d in load_workflow(doc, catalog).diagnostics if d.code == "E_WIDGET_TYPE")
    assert diag.user_id == long_id
    assert len(diag.format()) < 1_000


@pytest.mark.parametrize("bad", ["", -2, "-2", 2.5, True, None, [], {"a": 1}])
def test_ids_that_cannot_be_taken_keep_e_node_id(catalog, bad):
    doc = renumbered(mnist(catalog).to_ui(), {1: bad} if not isinstance(bad, (list, dict)) else {})
    if isinstance(bad, (list, dict)):
        doc["nodes"][0]["id"] = bad
    result = load_workflow(doc, catalog)
    assert result.graph is None
    assert [d.path for d in result.diagnostics if d.code == "E_NODE_ID"] == ["$.nodes[0].id"]


@pytest.mark.parametrize(("first", "second"), [("6", 6), ("a", "a"), (6, "6")])
def test_duplicates_after_mapping_are_e_dup_node(catalog, first, second):
    doc = renumbered(mnist(catalog).to_ui(), {5: first, 6: second})
    dups = [d for d in load_workflow(doc, catalog).diagnostics if d.code == "E_DUP_NODE"]
    assert len(dups) == 1 and dups[0].path == "$.nodes[5]", dups
    if type(first) is not type(second):
        assert "one id to the editor" in dups[0].message


def test_api_empty_key_is_e_node_id_and_others_load(catalog):
    prompt = mnist(catalog).to_api()
    prompt["  "] = prompt.pop("9")
    graph = load_workflow(prompt, catalog).graph
    assert graph is not None and graph.nodes["9"].user_id == "  "
    prompt[""] = {"class_type": "IntConstant", "inputs": {"value": 1}}
    result = load_workflow(prompt, catalog)
    assert [d.code for d in result.diagnostics if d.is_error] == ["E_NODE_ID"]


# Ids a hostile stranger may write: they must stay data (or be dropped), never code, paths or config keys.
HOSTILE_IDS = [
    '"',
    "'''",
    '"""',
    "back\\slash\\",
    "new\nline",
    "cr\rhere",
    "nul\x00byte",
    "{{ 7*7 }}{% raw %}",
    "\u202eright-to-left",
    "__import__('os').system('echo pwned')",
    'x"""; import os; os.system("echo pwned") #\n\\',
    "../../etc/passwd",
    "ﬁle",
    "\u2028\u2029\x85",
    "12:3",
    "y" * 100_000,
]


def _literal_strings(tree: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_hostile_ids_stay_data_in_the_export(tmp_path):
    catalog = default_catalog()
    builder = mnist(catalog)
    # Each id: two hostile strings around a unique marker, so that any trace of it in the export is found.
    ids = {
        n.id: f"{HOSTILE_IDS[i]}<id{i}>{HOSTILE_IDS[(i + 9) % len(HOSTILE_IDS)]}" for i, n in enumerate(builder.nodes)
    }
    doc = renumbered(builder.to_ui(), ids)
    out = export_workflow(doc, tmp_path / "out", catalog=catalog, name="hostile ids").out_dir
    tree = read_tree(out)
    runner, config_text = tree["runner.py"].decode(), tree["config.json"].decode()
    module = ast.parse(runner)
    config = json.loads(config_text)
    ids = sorted(config["nodes"], key=int)
    assert ids and all(i.isascii() and i.isdigit() for i in ids), ids
    # Every node id in runner.py is one of those digit strings (the first argument of each node class call).
    calls = [
        c
        for c in ast.walk(module)
        if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.args and isinstance(c.args[0], ast.Constant)
    ]
    node_ids = {c.args[0].value for c in calls if isinstance(c.args[0].value, str) and c.args[0].value.isdigit()}
    assert node_ids == set(ids)
    for i in range(len(ids)):
        leaked = [name for name, data in tree.items() if f"<id{i}>".encode() in data]
        assert not leaked, f"id {i} reached {leaked}"
    assert not any("<id" in s for s in _literal_strings(module))
    assert not {"system", "eval", "exec", "__import__", "popen"} & {
        c.func.id if isinstance(c.func, ast.Name) else getattr(c.func, "attr", "")
        for c in ast.walk(module)
        if isinstance(c, ast.Call)
    }
    again = export_workflow(copy.deepcopy(doc), tmp_path / "again", catalog=catalog, name="hostile ids").out_dir
    assert read_tree(again)["runner.py"] == tree["runner.py"] and read_tree(again)["config.json"] == tree["config.json"]
