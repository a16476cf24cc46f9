"""ruff as the formatter/linter of generated code: found through the `ruff` package itself, else a clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dnne.codegen import format as fmt


def test_format_sorts_merges_and_formats():
    source = "import torch\nimport sys\nfrom dnne_runtime import b\nfrom dnne_runtime import a\nx=[sys,torch,a,b]\n"
    assert fmt.format_code(source) == (
        "import sys\n\nimport torch\n\nfrom dnne_runtime import a, b\n\nx = [sys, torch, a, b]\n"
    )
    assert fmt.format_code(fmt.format_code(source)) == fmt.format_code(source)
    assert fmt.lint_code(fmt.format_code(source)) == []
    assert any("F401" in line for line in fmt.lint_code("import os\n"))


REPO = Path(__file__).resolve().parents[2]


def test_ruff_is_found_through_its_package_not_next_to_python_or_on_path(tmp_path, monkeypatch):
    from ruff.__main__ import find_ruff_bin

    fmt.find_ruff.cache_clear()
    # neither a ruff beside the interpreter nor one on PATH: the package knows where its binary is
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    try:
        assert fmt.find_ruff() == find_ruff_bin()
        assert fmt.format_code("x=1\n") == "x = 1\n"
    finally:
        fmt.find_ruff.cache_clear()


def test_missing_ruff_package_is_a_clear_error():
    # -S: no site-packages, so the ruff package really is absent (dnne.codegen.format needs nothing else)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from dnne.codegen.format import FormatError, format_code\n"
        "try:\n    format_code('x = 1\\n')\nexcept FormatError as exc:\n    print(exc)\n    sys.exit(3)\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code, str(REPO)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "`ruff` package is not installed" in result.stdout and "pip install ruff" in result.stdout
