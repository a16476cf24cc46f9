"""runner.py's header (`# Regenerate:` command) and the comments that map each generated class to its node type."""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
from testpack import TYPES, chain_graph, make_graph

from dnne.catalog.registry import Catalog
from dnne.catalog.spec import NodeType, OutputSpec, socket, widget
from dnne.codegen.export import ExportCommand, build_export, export_graph
from dnne.codegen.literals import GENERIC_COMMAND, UnsafeLiteralError, command_comment


def _comments(source: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [tok.string for tok in tokens if tok.type == tokenize.COMMENT]


def _runner(command: ExportCommand | None) -> str:
    return build_export(chain_graph(), command=command).contents["runner.py"].decode()


def test_regenerate_line_is_the_real_command():
    runner = _runner(ExportCommand("examples/mnist_mlp.json", "exports/mnist_mlp"))
    assert "# Regenerate: dnne export examples/mnist_mlp.json -o exports/mnist_mlp\n" in runner
    assert f"# Regenerate: {GENERIC_COMMAND}\n" in _runner(None)
    assert "# Regenerate: dnne export wf.json -o exports/chain --strict\n" in _runner(
        ExportCommand("wf.json", strict=True)
    )


def test_regenerate_paths_are_normalised_relative_and_quoted(tmp_path):
    command = ExportCommand(tmp_path / "my flows" / "a.json", "./out//x")
    assert command.text("w", cwd=tmp_path) == "dnne export 'my flows/a.json' -o out/x"
    outside = ExportCommand("/elsewhere/a.json", "o")
    assert outside.text("w", cwd=tmp_path) == "dnne export /elsewhere/a.json -o o"
    assert ExportCommand("$(touch x).json").text("My Flow!") == "dnne export '$(touch x).json' -o exports/My_Flow"


HOSTILE_PATHS = [
    "a\nimport os; os.system('echo pwned')\n#.json",
    "cr\rimport os.json",
    "x\u2028y\x85z.json",
    "caf\u00e9 \u202e.json",
    'q"""\'\\.json',
    "{{ 7*7 }}.json",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_hostile_paths_stay_inside_one_comment(path):
    runner = _runner(ExportCommand(path, "out"))
    module = ast.parse(runner)
    assert not any(isinstance(n, (ast.Import, ast.ImportFrom)) and n.names[0].name == "os" for n in ast.walk(module))
    lines = [c for c in _comments(runner) if c.startswith("# Regenerate: ")]
    assert len(lines) == 1 and lines[0].isascii()
    shown, expected = lines[0].removeprefix("# Regenerate: "), ExportCommand(path, "out").text("chain")
    if expected.isascii() and expected.isprintable():
        assert shown == expected
    else:
        assert ast.literal_eval(shown) == expected  # escaped, nothing lost
    assert all(line.isascii() for line in runner.splitlines() if line.lstrip().startswith("#"))


def test_command_comment():
    assert command_comment("dnne export a.json -o b") == "dnne export a.json -o b"
    assert command_comment(None) == GENERIC_COMMAND
    assert command_comment("x" * 401) == GENERIC_COMMAND
    assert command_comment("a\nb") == "'a\\nb'"
    assert command_comment(" lead") == "' lead'"
    with pytest.raises(UnsafeLiteralError):
        command_comment(b"a.json")


def test_every_class_names_its_node_type():
    runner = _runner(None)
    lines = runner.splitlines()
    classes = [i for i, line in enumerate(lines) if line.startswith("class ")]
    assert len(classes) == 4
    for i in classes:
        name = re.match(r"class (\w+)\(", lines[i]).group(1)
        assert lines[i - 1] == f"# Node type {name!r} (template {_template_of(name)!r})"


def _template_of(key: str) -> str:
    return next(t.template for t in TYPES if t.key == key)


BOOM_TEMPLATE = '''from dnne_runtime import Input, QueueNode


class {{ class_name }}(QueueNode):
    """Test boom: divides by `divisor` (0 fails inside compute)."""

    INPUTS = {"x": Input.CONSUME}
    OUTPUTS = ("y",)

    def __init__(self, node_id: str, title: str = "", *, divisor: float):
        super().__init__(node_id, title)
        self.divisor = float(divisor)

    async def compute(self, x):
        return {"y": x / self.divisor}
'''


def test_node_failure_traceback_points_at_its_class(tmp_path):
    (tmp_path / "boom.py.jinja").write_text(BOOM_TEMPLATE, encoding="utf-8")
    boom = NodeType(
        key="TestBoom",
        display_name="Test Boom",
        category="test",
        inputs=(socket("x", "NUMBER"), widget("divisor", "FLOAT", 0.0)),
        outputs=(OutputSpec("y", "NUMBER"),),
        template="boom.py.jinja",
        template_dir=tmp_path,
    )
    catalog = Catalog((*TYPES, boom))
    graph = make_graph(
        [
            ("1", "TestCounter", "Counter", {"count": 2}),
            ("2", "TestBoom", "Boom", {}),
            ("3", "TestCollect", "Collect", {"expect": 2}),
        ],
        [("1", "value", "2", "x"), ("2", "y", "3", "x")],
        catalog=catalog,
    )
    out = export_graph(graph, tmp_path / "out").out_dir
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "runner.py", "--quiet", "--run-dir", str(tmp_path / "run")],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 1, proc.stderr
    assert "node 2 (TestBoom 'Boom')" in proc.stderr and "ZeroDivisionError" in proc.stderr
    frames = re.findall(r'File "([^"]*runner\.py)", line (\d+), in compute', proc.stderr)
    assert frames, proc.stderr
    lines = (out / "runner.py").read_text(encoding="utf-8").splitlines()
    line = int(frames[-1][1])
    assert lines[line - 1].strip() == 'return {"y": x / self.divisor}'
    header = next(lines[i] for i in range(line - 1, -1, -1) if lines[i].startswith("# Node type "))
    assert header == "# Node type 'TestBoom' (template 'boom.py.jinja')"
    assert Path(frames[-1][0]).name == "runner.py"
