"""Writes the inputs of tests/bad_workflows/ (one file per bad-input case of docs/bad-inputs.md).

Run `python -m tests.workflow.make_bad_cases` after changing a case, then regenerate the expected texts with
`python -m tests.workflow.regen_snapshots`.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.workflow.builder import WorkflowBuilder, mnist
from tests.workflow.mini_catalog import mini_catalog

OUT = Path(__file__).resolve().parent.parent / "bad_workflows"


def small(catalog) -> WorkflowBuilder:
    """Dataset → sampler → GetBatch ⇄ TrainingStep loop, as in MNIST but with a constant loss source."""
    b = WorkflowBuilder(catalog)
    ds = b.add("MNISTDataset")
    bs = b.add("BatchSampler")
    gb = b.add("GetBatch")
    net = b.add("Network")
    opt = b.add("SGDOptimizer")
    step = b.add("TrainingStep")
    b.link(ds, "dataset", bs, "dataset")
    b.link(ds, "schema", bs, "schema")
    b.link(bs, "dataloader", gb, "dataloader")
    b.link(bs, "schema", gb, "schema")
    b.link(step, "ready", gb, "trigger")
    b.link(gb, "images", net, "input")
    b.link(gb, "images", net, "to_output")
    b.link(net, "model", opt, "network")
    b.link(opt, "optimizer", step, "optimizer")
    b.link(net, "output", step, "loss")
    return b


def node(doc: dict, node_id: int | str) -> dict:
    return next(n for n in doc["nodes"] if n["id"] == node_id)


def renumbered(doc: dict, new_ids: dict[int, object]) -> dict:
    """A UI 0.4 workflow with some node ids replaced (in the nodes and at both ends of their links)."""
    for item in doc["nodes"]:
        item["id"] = new_ids.get(item["id"], item["id"])
    for link in doc["links"]:
        link[1], link[3] = new_ids.get(link[1], link[1]), new_ids.get(link[3], link[3])
    return doc


def cases() -> dict[str, bytes | dict | list]:
    c = mini_catalog()
    out: dict[str, bytes | dict | list] = {}
    good = json.dumps(small(c).to_ui())
    out["01_truncated"] = good[: len(good) // 2].encode()
    out["01_bad_encoding"] = good.replace('"./data"', '"./d\u00e4ta"').encode("latin-1")
    out["02_nesting_too_deep"] = ("[" * 1000 + "]" * 1000).encode()
    out["02_over_size_limit"] = good.encode()  # loaded with max_bytes=1000 (see OPTIONS)
    out["03_nan"] = good.replace("[0.01, 0.9]", "[NaN, 0.9]").encode()
    out["04_duplicate_key"] = good.replace('"mode": 0,', '"mode": 0, "mode": 4,', 1).encode()
    out["05_not_a_workflow"] = {"hello": "world", "items": [1, 2, 3]}
    doc = small(c).to_ui()
    del doc["version"]
    out["05_missing_version"] = doc
    out["05_api_prompt"] = small(c).to_api()
    out["05_v1_object_links"] = small(c).to_ui(version=1)
    doc = small(c).to_ui()
    node(doc, 5)["id"] = 4
    out["06_duplicate_node_ids"] = doc
    # Ids dnne cannot take: empty, negative (the editor's own), not an integer or a string, and "6" next to 6
    # (the same id to the editor, which keys nodes by the id's text).
    out["07_bad_node_ids"] = renumbered(small(c).to_ui(), {1: "", 2: -2, 3: 2.5, 4: True, 5: "6"})
    # String ids load (the frontend accepts them; ComfyUI's API examples use them), mapped to fresh integers.
    doc = renumbered(small(c).to_ui(), {1: "12:3", 2: "KSampler", 3: "node 1\n", 4: "ünï", 5: "__import__('os')"})
    node(doc, "KSampler")["widgets_values"][3] = "randomize"  # a warning that names the node by its own id
    out["07_string_node_ids"] = doc
    doc = small(c).to_ui()
    node(doc, 1)["type"] = "KSampler"
    node(doc, 5)["type"] = "SGDOptimiser"
    node(doc, 6)["type"] = "CLIPTextEncode"
    out["08_unknown_types"] = doc
    b = small(c)
    b.node(1).title = 'x"""; import os; os.system("echo pwned") #\n\\'
    b.node(2).title = "../../etc/passwd"
    b.node(3).title = "/abs/path \u202egnp.exe"
    b.node(6).title = "{{ config }} ${HOME} %s"
    out["09_hostile_titles"] = b.to_ui()
    doc = small(c).to_ui()
    doc["links"].append([99, 42, 0, 43, 0, "TENSOR"])  # zombie: no node refers to it
    doc["links"][5][1] = 77  # link 6 (GetBatch.images → Network.input) now comes from a missing node
    out["10_dangling_and_zombie_links"] = doc
    doc = small(c).to_ui()
    node(doc, 3)["inputs"][2]["link"] = 555  # GetBatch.trigger (required) → missing link
    doc["links"] = [lk for lk in doc["links"] if lk[0] != 5]
    out["11_orphan_input_link_required"] = doc
    b = WorkflowBuilder(c)
    env = b.add("IsaacGymEnvNode")
    stp = b.add("IsaacGymStepNode")
    b.link(env, "sim_handle", stp, "sim_handle")
    doc = b.to_ui()
    node(doc, 2)["inputs"][2]["link"] = 404  # optional trigger → missing link
    node(doc, 2)["inputs"][1]["link"] = 405  # required actions → missing link
    out["11_orphan_input_link_optional"] = doc
    doc = small(c).to_ui()
    node(doc, 1)["outputs"][0]["links"] = []  # link 1 missing on the origin side only: patched
    node(doc, 2)["inputs"][1]["link"] = None  # link 2's target input disagrees: conflict
    out["12_link_table_disagrees"] = doc
    doc = small(c).to_ui()
    doc["links"][0][4] = "0"  # numeric string: coerced
    doc["links"][1][4] = 9  # out of range
    doc["links"][2][2] = -1  # negative
    doc["links"][3][2] = "first"  # not numeric
    out["13_bad_slots"] = doc
    doc = small(c).to_ui()
    doc["links"].append([11, 3, 0, 6, 0, "TENSOR"])  # a second link into TrainingStep.loss (slot 0) …
    node(doc, 6)["inputs"][0]["link"] = None  # … and the input names neither: ambiguous
    node(doc, 3)["outputs"][0]["links"].append(11)
    bs = node(doc, 2)
    bs["inputs"].append(dict(bs["inputs"][2]))  # two inputs bound to the widget batch_size, both linked
    bs["inputs"][2]["link"], bs["inputs"][5]["link"] = 30, 31
    doc["nodes"].append(
        {"id": 9, "type": "IntConstant", "mode": 0, "inputs": [],
         "outputs": [{"name": "INT", "type": "INT", "links": [30, 31]}], "widgets_values": [8]}
    )  # fmt: skip
    doc["links"] += [[30, 9, 0, 2, 2, "INT"], [31, 9, 0, 2, 5, "INT"]]
    out["14_two_links_into_one_input"] = doc
    doc = small(c).to_ui()
    doc["links"][3][0] = 3  # two links with id 3
    out["15_duplicate_link_ids"] = doc
    doc = small(c).to_ui()
    doc["links"][7] = [8, 3, 0, 5, 0, "TENSOR"]  # GetBatch.images (TENSOR) → SGDOptimizer.network (MODEL)
    node(doc, 3)["outputs"][0]["links"].append(8)
    node(doc, 4)["outputs"][2]["links"] = []
    out["16_type_mismatch"] = doc
    b = small(c)
    b.links = [lk for lk in b.links if lk[4] != "optimizer"]
    out["17_required_input_unconnected"] = b.to_ui()
    b = small(c)
    extra = b.add("LinearLayer")
    b.links = [lk for lk in b.links if lk[4] != "input"]
    b.link(4, "output", extra, "input")
    b.link(extra, "output", 4, "input")  # Network ⇄ LinearLayer with no seed token
    out["18_cycle_without_seed"] = b.to_ui()
    doc = small(c).to_ui()
    node(doc, 2)["widgets_values"] = [32]
    out["19_widgets_short"] = doc
    doc = small(c).to_ui()
    node(doc, 2)["widgets_values"] = [32, None, True, -1, "randomize"]  # null hole + control value: warning
    node(doc, 5)["widgets_values"] = [0.01, 0.9, 0.5, "nesterov"]  # unknown extras: error
    out["20_widgets_long"] = doc
    doc = small(c).to_ui()
    node(doc, 2)["widgets_values"] = {"batch_size": 16, "shuffle": False, "seed": 3}  # accepted
    node(doc, 5)["widgets_values"] = {"learning_rate": 0.1, "momentun": 0.9}  # typo: rejected
    out["21_widgets_dict"] = doc
    doc = small(c).to_ui()
    node(doc, 2)["widgets_values"] = ["32", "true", True, "fixed"]
    node(doc, 5)["widgets_values"] = [0.01, [0.9]]
    node(doc, 1)["widgets_values"] = ["./data", 1, True]
    node(doc, 4)["widgets_values"] = [True, "epoch", 50, False]
    out["22_widget_types"] = doc
    doc = small(c).to_ui()
    node(doc, 2)["widgets_values"] = [100000, True, -1, "fixed"]
    node(doc, 5)["widgets_values"] = [2.5, 0.9]
    node(doc, 4)["widgets_values"] = [True, "every_step", "50", False]
    out["23_widget_range_and_choices"] = doc
    b = small(c)
    b.node(1).widgets["data_path"] = "a\"b'c\\d\ne\x00f\u202eg{{h}}"
    b.node(4).widgets["checkpoint_trigger_value"] = '"""; import os #'
    out["24_hostile_string_values"] = b.to_ui()
    b = small(c)
    b.node(3).mode = 2  # muted GetBatch: Network loses its required inputs
    b.node(5).mode = 4  # bypassed SGDOptimizer: no MODEL→OPTIMIZER pass-through exists
    doc = b.to_ui()
    node(doc, 1)["mode"] = 7
    out["25_muted_bypassed_unknown_mode"] = doc
    b = WorkflowBuilder(c)
    b.add("MNISTDataset")
    out["26_no_sink"] = b.to_ui()
    b = small(c)
    ds2 = b.add("MNISTDataset", title="spare dataset")
    bs2 = b.add("BatchSampler")
    b.link(ds2, "dataset", bs2, "dataset")
    b.link(ds2, "schema", bs2, "schema")
    out["26_island_without_sink"] = b.to_ui()
    out["27_huge_graph"] = mnist(c).to_ui()  # loaded with max_nodes=5 (see OPTIONS)
    doc = small(c).to_ui()
    doc["nodes"].append(
        {
            "id": 20,
            "type": "Reroute",
            "mode": 0,
            "inputs": [{"name": "", "type": "*", "link": 21}],
            "outputs": [{"name": "", "type": "*", "links": [20, 22]}],
        }
    )
    doc["nodes"].append(
        {
            "id": 21,
            "type": "Reroute",
            "mode": 0,
            "inputs": [{"name": "", "type": "*", "link": 20}],
            "outputs": [{"name": "", "type": "*", "links": [21]}],
        }
    )
    doc["links"] = [lk for lk in doc["links"] if lk[0] != 10]
    doc["links"] += [[20, 20, 0, 21, 0, "*"], [21, 21, 0, 20, 0, "*"], [22, 20, 0, 6, 0, "*"]]
    node(doc, 6)["inputs"][0]["link"] = 22
    node(doc, 4)["outputs"][1]["links"] = []
    out["27_reroute_loop"] = doc
    doc = small(c).to_ui()
    doc["nodes"].append({"id": 30, "type": "workflow>My Group", "mode": 0, "inputs": [], "outputs": []})
    out["27_legacy_group_node"] = doc
    doc = small(c).to_ui()  # Network.output → SetNode "net out"; a GetNode with a misspelt name feeds TrainingStep.loss
    wormhole = {"mode": 0, "widgets_values": ["net out"]}
    doc["nodes"] += [
        {"id": 40, "type": "SetNode", "title": "Set_net out", **wormhole},
        {"id": 41, "type": "GetNode", "title": "Get_net_out", **wormhole, "widgets_values": ["net_out"]},
        {"id": 42, "type": "SetNode", "title": "Set_net out", **wormhole},
    ]
    node(doc, 40)["inputs"] = [{"name": "TENSOR", "type": "TENSOR", "link": 10}]
    node(doc, 40)["outputs"] = [{"name": "*", "type": "*", "links": None}]
    node(doc, 41)["outputs"] = [{"name": "TENSOR", "type": "TENSOR", "links": [40]}]
    node(doc, 42)["inputs"] = [{"name": "TENSOR", "type": "TENSOR", "link": None}]
    next(lk for lk in doc["links"] if lk[0] == 10)[3:5] = [40, 0]
    doc["links"].append([40, 41, 0, 6, 0, "TENSOR"])
    node(doc, 6)["inputs"][0]["link"] = 40
    out["27_wormhole_mismatch"] = doc
    return out


OPTIONS = {"02_over_size_limit": {"max_bytes": 1000}, "27_huge_graph": {"max_nodes": 5}}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, content in cases().items():
        data = content if isinstance(content, bytes) else (json.dumps(content, indent=1) + "\n").encode()
        (OUT / f"{name}.json").write_bytes(data)
    print(f"wrote {len(cases())} cases to {OUT}")


if __name__ == "__main__":
    main()
