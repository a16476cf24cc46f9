"""One snapshot per bad-input case (docs/bad-inputs.md): the full error text must not change unnoticed."""

from __future__ import annotations

import pytest

from tests.workflow.snapshots import REGEN_COMMAND, case_names, expected_path, render


@pytest.mark.parametrize("case", case_names())
def test_bad_input_snapshot(case: str) -> None:
    expected = expected_path(case)
    assert expected.exists(), f"no snapshot for {case}; run `{REGEN_COMMAND}`"
    got = render(case)
    assert got == expected.read_text(encoding="utf-8"), (
        f"diagnostics of {case} changed; review the diff and run `{REGEN_COMMAND}` to accept"
    )
