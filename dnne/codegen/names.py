"""One namespace mints every identifier of a generated module (torch.fx `_Namespace` style).

Rules: NFKC-normalised, ASCII only; `[^0-9A-Za-z_]` → `_`; a leading digit gets an `n` prefix; keywords, soft
keywords, builtins and the names the runner itself uses get a trailing `_`; a name already taken gets `_2`, `_3`, ….
Minting is deterministic: the same sequence of requests gives the same names.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

# Names that generated runner.py modules define or import themselves.
RUNNER_NAMES = frozenset(
    {
        "GraphRunner",
        "Input",
        "NodeError",
        "Path",
        "QueueNode",
        "RunContext",
        "SensorNode",
        "annotations",
        "build_graph",
        "config",
        "dnne_runtime",
        "main",
        "np",
        "numpy",
        "params",
        "run_main",
        "runner",
        "self",
        "sys",
        "torch",
    }
)
_RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins)) | RUNNER_NAMES
_INVALID = re.compile(r"[^0-9A-Za-z_]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def sanitize(hint: str) -> str:
    """A valid, non-reserved ASCII identifier derived from `hint` (not yet unique)."""
    text = unicodedata.normalize("NFKC", str.__str__(hint) if isinstance(hint, str) else "")
    name = _INVALID.sub("_", text)
    if not name.strip("_"):
        name = "unnamed"
    if name[0].isdigit():
        name = "n" + name
    if name in _RESERVED:
        name += "_"
    return name


def snake_case(hint: str) -> str:
    """`MNISTDataset` → `mnist_dataset`, `GetBatch` → `get_batch` (then sanitised)."""
    base = sanitize(hint)
    return sanitize(_CAMEL.sub("_", base).lower())


class Namespace:
    """Mints unique identifiers; `reserve` marks names defined elsewhere (imports) as taken."""

    def __init__(self, reserved: frozenset[str] | set[str] = frozenset()):
        self._used: set[str] = set(reserved)
        self._counters: dict[str, int] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._used or name in _RESERVED

    def reserve(self, name: str) -> None:
        self._used.add(name)

    def mint(self, hint: str) -> str:
        """`hint` sanitised, or `hint_2`, `hint_3`, … when taken."""
        base = sanitize(hint)
        name, n = base, 1
        while name in self._used or name in _RESERVED:
            n += 1
            name = f"{base}_{n}"
        self._used.add(name)
        return name

    def instance(self, hint: str) -> str:
        """A numbered name for the next instance of `hint`: `get_batch_1`, `get_batch_2`, …"""
        base = snake_case(hint)
        n = self._counters.get(base, 0)
        while True:
            n += 1
            name = f"{base}_{n}"
            if name not in self._used and name not in _RESERVED:
                break
        self._counters[base] = n
        self._used.add(name)
        return name
