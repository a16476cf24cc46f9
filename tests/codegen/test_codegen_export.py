"""The export pipeline: tree contents, determinism, atomic writes, folding, post-conditions."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from testpack import HERE, TYPES, chain_graph, chain_workflow, make_graph, pack_catalog

from dnne.catalog.registry import Catalog
from dnne.catalog.spec import NodeExport, NodeType, socket, widget
from dnne.codegen.checks import PostConditionError
from dnne.codegen.export import build_export, export_graph, export_workflow
from dnne.codegen.format import lint_code
from dnne.codegen.render import RenderError
from dnne.codegen.writer import MANIFEST, RUNTIME_DIR, ExportError, read_manifest, read_tree, safe_dir_name
from dnne.errors import DiagnosticError


def test_export_tree(tmp_path):
    out = tmp_path / "out"
    result = export_graph(chain_graph(), out)
    tree = read_tree(out)
    assert sorted(set(tree) - {MANIFEST}) == result.files
    assert sorted(read_manifest(out)) == result.files  # the manifest lists exactly the generated files
    assert {"runner.py", "config.json", "requirements.txt", "README.md", "dnne_runtime/__init__.py"} <= set(tree)
    config = json.loads(tree["config.json"])
    assert config["workflow"] == "chain" and config["dnne_version"] and len(config["graph_hash"]) == 64
    assert config["workflow_id"] is None  # a graph without a workflow id
    assert config["nodes"] == {
        "1": {"count": 3, "label": "counter"},
        "2": {"factor": 0.5},
        "3": {"expect": 3, "name": "collect"},
        "6": {"sizes": [4, 6]},
    }
    assert tree["requirements.txt"].decode().splitlines() == [
        "numpy>=1.24",
        "rich>=13",
        "safetensors>=0.4",
        "torch>=2.6,<3",
        "tqdm>=4",
    ]
    runner = tree["runner.py"].decode()
    assert lint_code(runner) == []
    assert "class TestLayer" not in runner  # absorbed by the bundle
    assert runner.count("class TestScale(") == 1
    assert 'test_scale_1 = runner.add(TestScale("2", "Scale", **params["2"]))' in runner
    assert 'runner.connect(test_counter_1, "value", test_scale_1, "x")' in runner
    assert "chain" in tree["README.md"].decode()


def test_runtime_copy_is_byte_identical(tmp_path):
    tree = read_tree(export_graph(chain_graph(), tmp_path / "out").out_dir)
    runtime = read_tree(RUNTIME_DIR)
    copied = {k.removeprefix("dnne_runtime/"): v for k, v in tree.items() if k.startswith("dnne_runtime/")}
    assert copied and all(runtime[rel] == data for rel, data in copied.items())
    assert {rel for rel in runtime if "/" not in rel} <= set(copied)  # the whole core; packs: only those used


def test_deterministic(tmp_path):
    first = read_tree(export_workflow(chain_workflow(), tmp_path / "a", catalog=pack_catalog(), name="w").out_dir)
    second = read_tree(export_workflow(chain_workflow(), tmp_path / "b", catalog=pack_catalog(), name="w").out_dir)
    assert first == second
    third = build_export(chain_graph(name="w"))
    assert third.contents == {k: v for k, v in first.items() if k != MANIFEST}


def test_topological_order_and_instance_numbering():
    graph = make_graph(
        [
            ("10", "TestCollect", "C2", {"expect": 1}),
            ("3", "TestScale", "S2", {}),
            ("2", "TestScale", "S1", {}),
            ("1", "TestCounter", "Counter", {}),
            ("9", "TestCollect", "C1", {"expect": 1}),
        ],
        [("1", "value", "2", "x"), ("2", "y", "3", "x"), ("3", "y", "10", "x"), ("2", "y", "9", "x")],
    )
    runner = build_export(graph).contents["runner.py"].decode()
    adds = [line.strip().split(" = ")[0] for line in runner.splitlines() if "runner.add(" in line]
    assert adds == ["test_counter_1", "test_scale_1", "test_scale_2", "test_collect_1", "test_collect_2"]
    assert 'test_collect_1 = runner.add(TestCollect("9", "C1"' in runner


def test_failed_export_leaves_nothing(tmp_path):
    graph = make_graph(
        [("1", "TestCounter", "Counter", {}), ("2", "TestScale", "Scale", {})], [("1", "value", "2", "x")]
    )
    out = tmp_path / "deep" / "out"
    with pytest.raises(DiagnosticError) as info:
        export_graph(graph, out)
    assert "E_NO_SINK" in {d.code for d in info.value.diagnostics}
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_previous_export(tmp_path):
    out = tmp_path / "out"
    export_graph(chain_graph(), out)
    before = read_tree(out)
    broken = _pack_with("bad.py.jinja", "class {{ class_name }}:\n    X = {{ 1 }}\n")
    with pytest.raises(RenderError):
        export_graph(_single(broken), out)
    assert read_tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_replaces_previous_export_but_not_other_folders(tmp_path):
    out = tmp_path / "out"
    export_graph(chain_graph(count=2), out)
    (out / "mine.txt").write_text("a user file")
    export_graph(chain_graph(count=5), out)
    assert (out / "mine.txt").read_text() == "a user file"  # re-export replaces only generated files
    assert json.loads((out / "config.json").read_text())["nodes"]["1"]["count"] == 5
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="not a dnne export"):
        export_graph(chain_graph(), precious)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_strict_turns_warnings_into_errors(tmp_path):
    graph = make_graph(
        [("6", "TestBundle", "Bundle", {}), ("3", "TestCollect", "C", {"expect": 1}), ("1", "TestCounter", "N", {})],
        [("6", "total", "3", "extra"), ("1", "value", "3", "x")],
    )
    result = export_graph(graph, tmp_path / "lenient")
    assert [d.code for d in result.diagnostics] == ["W_EMPTY_BUNDLE"]
    assert result.diagnostics[0].node_id == "6"
    with pytest.raises(DiagnosticError):
        export_graph(graph, tmp_path / "strict", strict=True)
    assert not (tmp_path / "strict").exists()


def test_default_out_dir_is_sanitised(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = export_graph(chain_graph(name="../../etc/My Flow!"))
    assert result.out_dir == Path("exports") / "etc_My_Flow"
    assert (tmp_path / "exports" / "etc_My_Flow" / "runner.py").is_file()
    assert safe_dir_name("") == safe_dir_name("../") == "workflow"
    assert safe_dir_name("-rf") == "rf"


def test_generated_program_runs(tmp_path):
    out = export_graph(chain_graph(count=3), tmp_path / "out").out_dir
    proc = subprocess.run(
        [sys.executable, "runner.py", "--quiet", "--run-dir", str(tmp_path / "run")],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "collect: 0.0 (extra=10)" in proc.stdout and "collect: 1.0 (extra=10)" in proc.stdout


# -- post-conditions: a misbehaving node pack is caught -------------------------------------------------------------

_GOOD = """from dnne_runtime import Input, QueueNode


class {{ class_name }}(QueueNode):
    INPUTS = {"x": Input.CONSUME}
    OUTPUTS = ()

    def __init__(self, node_id, title="", *, level):
        super().__init__(node_id, title)
        self.level = level

    async def compute(self, x):
        self.ctx.request_stop("done")
"""


def _pack_with(name: str, template: str, tmp: Path | None = None, **overrides) -> NodeType:
    folder = tmp or Path(__import__("tempfile").mkdtemp())
    (folder / name).write_text(template)
    fields = dict(
        key="Probe",
        display_name="Probe",
        category="test",
        inputs=(socket("x", "NUMBER"), widget("level", "INT", 1)),
        outputs=(),
        template=name,
        template_dir=folder,
        is_sink=True,
    )
    return NodeType(**(fields | overrides))


def _single(probe: NodeType):
    catalog = Catalog([*TYPES, probe])
    return make_graph(
        [("1", "TestCounter", "N", {}), ("2", probe.key, "P", {})], [("1", "value", "2", "x")], catalog=catalog
    )


def test_good_probe_exports(tmp_path):
    build_export(_single(_pack_with("good.py.jinja", _GOOD, tmp_path)))


@pytest.mark.parametrize(
    "change, error, match",
    [
        (('{"x": Input.CONSUME}', '{"x": Input.STICKY}'), PostConditionError, "INPUTS"),
        (('{"x": Input.CONSUME}', "{}"), PostConditionError, "INPUTS"),
        (("OUTPUTS = ()", 'OUTPUTS = ("y",)'), PostConditionError, "OUTPUTS"),
        (("compute(self, x)", "compute(self, y)"), PostConditionError, "compute"),
        (("compute(self, x)", "compute(self, **inputs)"), PostConditionError, "compute"),
        (("*, level", "*, other"), PostConditionError, "level"),
        (("self.level = level", "self.level = eval(str(level))"), PostConditionError, "eval"),
        (("self.level = level", "self.level = __import__('os').system('true')"), PostConditionError, "forbidden"),
        (("from dnne_runtime", "import subprocess\nfrom dnne_runtime"), PostConditionError, "subprocess"),
        (("from dnne_runtime", "import json\nfrom dnne_runtime"), ExportError, "F401"),
        (("OUTPUTS = ()", "OUTPUTS = {{ 'raw' }}"), RenderError, "untrusted"),
        (("OUTPUTS = ()", "OUTPUTS = ("), RenderError, "invalid Python"),
        (("class {{ class_name }}", "class Fixed"), RenderError, "does not define"),
    ],
)
def test_bad_templates_are_caught(tmp_path, change, error, match):
    probe = _pack_with("probe.py.jinja", _GOOD.replace(*change), tmp_path)
    with pytest.raises(error, match=match):
        export_graph(_single(probe), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_exporter_problems(tmp_path):
    def non_json(node, ctx):
        return NodeExport(params={"level": float("nan")})

    def crashes(node, ctx):
        raise KeyError("oops")

    probe = _pack_with("p.py.jinja", _GOOD, tmp_path, exporter=non_json)
    with pytest.raises(DiagnosticError) as info:
        export_graph(_single(probe), tmp_path / "out")
    assert [d.code for d in info.value.diagnostics] == ["E_PARAM"]
    probe = _pack_with("p.py.jinja", _GOOD, tmp_path, exporter=crashes)
    with pytest.raises(ExportError, match="bug in the node pack"):
        export_graph(_single(probe), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_class_names_avoid_imported_names(tmp_path):
    template = _GOOD.replace(
        "from dnne_runtime import", "from dnne_runtime.node import QueueNode as Probe\nfrom dnne_runtime import"
    )
    template = template.replace("(QueueNode)", "(Probe)").replace("Input, QueueNode", "Input")
    runner = build_export(_single(_pack_with("p.py.jinja", template, tmp_path))).contents["runner.py"].decode()
    tree = ast.parse(runner)
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert "Probe_2" in classes and "class Probe_2(Probe):" in runner


def test_templates_in_the_pack_exist():
    assert all((HERE / t.template).is_file() for t in TYPES)


def test_readme_documents_only_real_runner_flags():
    import re

    from dnne.runtime.flags import build_parser

    readme = build_export(chain_graph()).contents["README.md"].decode()
    documented = set(re.findall(r"`(--[a-z-]+)", readme)) | set(re.findall(r", (--[a-z-]+)", readme))
    known = {opt for action in build_parser()._actions for opt in action.option_strings}
    assert documented and documented <= known, documented - known


def test_symlinked_output_folder_replaces_its_target(tmp_path):
    real = tmp_path / "real"
    export_graph(chain_graph(count=2), real)
    (tmp_path / "link").symlink_to(real)
    export_graph(chain_graph(count=7), tmp_path / "link")
    assert (tmp_path / "link").is_symlink()
    assert json.loads((real / "config.json").read_text())["nodes"]["1"]["count"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]
