"""The one "did you mean" helper: used by the runner (unknown config keys), the config checks and the workflow
loader (unknown modes, node types, widget names)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, choices: Iterable[str], *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The up to `n` choices most like `word`, best first (difflib's ratio ≥ `cutoff`)."""
    return difflib.get_close_matches(str(word), [str(c) for c in choices], n=n, cutoff=cutoff)


def did_you_mean(word: str, choices: Iterable[str], *, n: int = 1, cutoff: float = 0.6) -> str:
    """`"did you mean 'x'?"` / `"did you mean 'x' or 'y'?"` for the closest choices, "" when none is close."""
    matches = close_matches(word, choices, n=n, cutoff=cutoff)
    return ("did you mean " + " or ".join(repr(m) for m in matches) + "?") if matches else ""
