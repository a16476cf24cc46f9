"""ruff as the formatter/linter of generated code: found next to Python or on PATH, else a clear error."""

from __future__ import annotations

import sys

import pytest

from dnne.codegen import format as fmt


def test_format_sorts_merges_and_formats():
    source = "import torch\nimport sys\nfrom dnne_runtime import b\nfrom dnne_runtime import a\nx=[sys,torch,a,b]\n"
    assert fmt.format_code(source) == (
        "import sys\n\nimport torch\n\nfrom dnne_runtime import a, b\n\nx = [sys, torch, a, b]\n"
    )
    assert fmt.format_code(fmt.format_code(source)) == fmt.format_code(source)
    assert fmt.lint_code(fmt.format_code(source)) == []
    assert any("F401" in line for line in fmt.lint_code("import os\n"))


def test_missing_ruff_is_a_clear_error(tmp_path, monkeypatch):
    fmt.find_ruff.cache_clear()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    try:
        with pytest.raises(fmt.FormatError, match="pip install ruff"):
            fmt.format_code("x = 1\n")
    finally:
        fmt.find_ruff.cache_clear()
