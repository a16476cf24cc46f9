"""Hostile strings in every string widget, title, workflow name and type field: data, or rejected; never code."""

from __future__ import annotations

import ast
import json

import pytest
from testpack import chain_workflow, pack_catalog, ui_workflow

from dnne.codegen.export import export_workflow
from dnne.codegen.writer import read_tree
from dnne.errors import DiagnosticError

HOSTILE = [
    '"',
    "'''",
    '"""',
    "\\",
    "back\\slash\\",
    "new\nline",
    "cr\rhere",
    "nul\x00byte",
    "{{ 7*7 }}{% raw %}",
    "\u202eright-to-left",
    "__import__('os').system('echo pwned')",
    'x"""; import os; os.system("echo pwned") #\n\\',
    "'); import os; os.system('echo pwned'); ('",
    "../../etc/passwd",
    "ﬁle",
    "\u2028\u2029\x85",
]


def _calls(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
    return names


def _names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        a.attr for a in ast.walk(tree) if isinstance(a, ast.Attribute)
    }


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_stay_data(tmp_path, text):
    doc = chain_workflow(label=text, name=text, title=text)
    for node in doc["nodes"]:
        node["title"] = text
    out = export_workflow(doc, tmp_path / "out", catalog=pack_catalog(), name=text).out_dir
    tree = read_tree(out)
    runner = tree["runner.py"].decode()
    module = ast.parse(runner)
    assert not {"system", "eval", "exec", "__import__", "popen"} & _calls(module)
    assert "os" not in _names(module)
    # every title reaches the constructor as an equal string constant
    titles = [
        call.args[1].value
        for call in ast.walk(module)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id.startswith("Test")
    ]
    assert titles == [text] * 4
    config = json.loads(tree["config.json"])
    assert config["workflow"] == text
    assert config["nodes"]["1"]["label"] == text and config["nodes"]["3"]["name"] == text
    readme = tree["README.md"].decode()
    assert "\u202e" not in readme and "\x00" not in readme and readme.splitlines()[0].startswith("# ")
    assert all(line.isascii() for line in runner.splitlines() if line.lstrip().startswith("#"))
    assert list(out.parent.iterdir()) == [out]


@pytest.mark.parametrize("text", HOSTILE + ["TestCounter ", "/abs/TestCounter", ["TestCounter"], {"a": 1}, 7])
def test_hostile_type_fields_are_rejected(tmp_path, text):
    doc = ui_workflow([(1, "TestCounter", "N", [3, "c"]), (2, "TestCollect", "C", [3, "x"])], [(1, "value", 2, "x")])
    doc["nodes"][0]["type"] = text
    with pytest.raises(DiagnosticError) as info:
        export_workflow(doc, tmp_path / "out", catalog=pack_catalog())
    assert any(d.is_error and d.node_id == "1" for d in info.value.diagnostics)
    assert not (tmp_path / "out").exists()
