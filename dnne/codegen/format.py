"""Formatting and linting generated code with ruff, by piping text through `ruff … -` (never a shell)."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import lru_cache

from dnne.errors import DnneError

LINE_LENGTH = 120
LINT_RULES = "E,F,W,I,B,UP"
LINT_IGNORE = "E501"
_COMMON = ("--isolated", "--line-length", str(LINE_LENGTH), "--target-version", "py310")
_ISORT = ("--config", "lint.isort.known-first-party = ['dnne_runtime']")


class FormatError(DnneError):
    """ruff is missing, or failed on generated code."""


@lru_cache(maxsize=1)
def find_ruff() -> str:
    """The ruff executable, as the installed `ruff` package itself locates it (its scripts folder, user or system
    installs): a binary guessed next to the interpreter may be absent or another ruff than the package's."""
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        raise FormatError(
            "ruff is required to format generated code but the `ruff` package is not installed in this Python "
            f"({sys.executable}); install it with `pip install ruff`"
        ) from None
    try:
        return os.fsdecode(find_ruff_bin())
    except FileNotFoundError as exc:
        raise FormatError(
            f"the `ruff` package is installed but its executable was not found ({exc}); reinstall it with "
            "`pip install --force-reinstall ruff`"
        ) from None


def _ruff(args: tuple[str, ...], text: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [find_ruff(), *args],
            input=text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise FormatError(f"could not run ruff: {exc}") from exc


def format_code(text: str, filename: str = "runner.py") -> str:
    """Sort imports (`ruff check --fix --select I`) then `ruff format`; returns the new text."""
    sorted_ = _ruff(
        ("check", *_COMMON, *_ISORT, "--select", "I", "--fix", "--quiet", "--stdin-filename", filename, "-"), text
    )
    if sorted_.returncode not in (0, 1) or not sorted_.stdout:
        raise FormatError(f"ruff could not sort the imports of {filename}:\n{sorted_.stderr.strip()}")
    formatted = _ruff(("format", *_COMMON, "--stdin-filename", filename, "-"), sorted_.stdout)
    if formatted.returncode != 0:
        raise FormatError(f"ruff could not format {filename}:\n{formatted.stderr.strip()}")
    return formatted.stdout


def lint_code(text: str, filename: str = "runner.py") -> list[str]:
    """`ruff check` findings for generated code (an empty list when clean)."""
    result = _ruff(
        (
            "check",
            *_COMMON,
            *_ISORT,
            "--select",
            LINT_RULES,
            "--ignore",
            LINT_IGNORE,
            "--output-format",
            "concise",
            "--no-fix",
            "--quiet",
            "--stdin-filename",
            filename,
            "-",
        ),
        text,
    )
    if result.returncode == 0:
        return []
    if result.returncode == 1:
        return [line for line in result.stdout.splitlines() if line.strip()]
    raise FormatError(f"ruff check failed on {filename}:\n{result.stderr.strip()}")
