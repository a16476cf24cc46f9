"""Constants and PrintValue through the whole pipeline: API-format workflow → export → run runner.py."""

import subprocess
import sys

WORKFLOW = {
    "1": {"class_type": "IntConstant", "inputs": {"value": 7}},
    "2": {"class_type": "PrintValue", "inputs": {"value": ["1", 0], "prefix": "n ="}},
    "3": {"class_type": "StringConstant", "inputs": {"value": 'hi """; import os #'}},
    "4": {"class_type": "PrintValue", "inputs": {"value": ["3", 0], "prefix": "s ="}},
    "5": {"class_type": "FloatConstant", "inputs": {"value": 0.25}},
    "6": {"class_type": "PrintValue", "inputs": {"value": ["5", 0], "prefix": ""}},
}


def test_exported_utils_program_prints_each_constant(tmp_path):
    from dnne.codegen.export import export_workflow

    result = export_workflow(WORKFLOW, tmp_path / "out", name="utils demo")
    assert "runner.py" in result.files
    run = subprocess.run(
        [sys.executable, "runner.py", "--quiet", "--run-dir", str(tmp_path / "run")],
        cwd=tmp_path / "out",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "n = 7" in lines and 's = hi """; import os #' in lines and "0.25" in lines
