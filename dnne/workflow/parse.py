"""Strict JSON parsing of untrusted workflow text: size limit, duplicate keys, NaN/Infinity, nesting depth.

`parse_json` never raises on bad input: it returns the parsed value (or None) and the diagnostics found.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from dnne.errors import Diagnostic

DEFAULT_MAX_BYTES = 5_000_000
MAX_DEPTH = 200
# No workflow value needs more digits (widget INTs stop at 18). Our own limit, independent of Python's int-string
# conversion limit (which an environment variable can lift, making a 5 MB digit run a quadratic-time parse).
MAX_INT_DIGITS = 100


class _Reject(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


def read_source(source: str | bytes | Path) -> bytes:
    """Bytes of a path (a `Path`, or a str that is not JSON text), or of JSON text given directly."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, Path):
        return source.read_bytes()
    text = source.lstrip()
    if text.startswith(("{", "[")) or not text:
        return source.encode("utf-8", "surrogatepass")
    return Path(source).read_bytes()


def decode(data: bytes) -> tuple[str | None, Diagnostic | None]:
    """UTF-8 text (a leading BOM is allowed), or an E_PARSE diagnostic naming the bad byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, Diagnostic(
            "E_PARSE",
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            path=f"{line}:{col}",
            hint="save the workflow as UTF-8 JSON",
        )


def parse_json(data: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Any, list[Diagnostic]]:
    """Parse `data` strictly. Returns (value, []) or (None, [diagnostic])."""
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if size > max_bytes:
        return None, [
            Diagnostic(
                "E_TOO_LARGE",
                f"the workflow is {size:,} bytes, over the limit of {max_bytes:,} bytes",
                expected=f"at most {max_bytes:,} bytes",
                got=f"{size:,} bytes",
                hint="raise the limit (max_bytes / --max-bytes) if this file is trusted",
            )
        ]
    if isinstance(data, bytes):
        text, problem = decode(data)
        if problem is not None:
            return None, [problem]
    else:
        text = data.removeprefix("\ufeff")
    assert text is not None
    try:
        constants: list[bool] = []
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_parse_constant_hook(constants),
            parse_int=_parse_int_hook(constants),
        )
    except _Reject as exc:
        return None, [exc.diagnostic]
    except json.JSONDecodeError as exc:
        return None, [
            Diagnostic(
                "E_PARSE",
                f"not valid JSON: {exc.msg}",
                path=f"{exc.lineno}:{exc.colno}",
                hint="the file may be truncated or not a workflow",
            )
        ]
    except RecursionError:
        return None, [
            Diagnostic(
                "E_TOO_LARGE",
                "the JSON nesting is too deep to parse",
                expected=f"at most {MAX_DEPTH} levels",
                got="far more",
            )
        ]
    except ValueError as exc:  # defensive: no known input reaches here (long integers are parsed by our hook)
        return None, [Diagnostic("E_PARSE", f"not valid JSON: {str(exc)[:200]}")]
    problem = check_tree(value, scalars=bool(constants))
    if problem is not None:
        return None, [problem]
    return value, []


class _NonFinite(float):
    """Marker for NaN/Infinity so that its JSON path can be reported after parsing."""

    def __new__(cls, name: str) -> _NonFinite:
        obj = super().__new__(cls, float(name.replace("Infinity", "inf")))
        obj.name = name  # type: ignore[attr-defined]
        return obj


class _LongInt(str):
    """Marker for an integer literal longer than MAX_INT_DIGITS: kept as text (never converted), reported with its
    JSON path by `check_tree`."""


def _parse_int_hook(found: list[bool]):
    def hook(text: str) -> int | _LongInt:
        if len(text) - text.startswith("-") > MAX_INT_DIGITS:
            found.append(True)
            return _LongInt(text)
        return int(text)

    return hook


def number_preview(value: Any) -> str:
    """A short text for an over-long number: its first digits and its length."""
    if isinstance(value, _LongInt):
        digits = len(value) - value.startswith("-")
        return f"{value[:12]}… ({digits:,} digits)"
    return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"


def _is_long_int(item: Any) -> bool:
    if isinstance(item, _LongInt):
        return True
    # 3.33 bits per digit: an int from an already-parsed dict (e.g. 10**5000) over the same digit limit.
    return isinstance(item, int) and not isinstance(item, bool) and item.bit_length() > MAX_INT_DIGITS * 3.33


def _parse_constant_hook(found: list[bool]):
    def hook(name: str) -> float:
        found.append(True)
        return _NonFinite(name)

    return hook


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _Reject(
                Diagnostic(
                    "E_DUP_KEY",
                    f"the key {key!r} appears twice in one JSON object",
                    field=key,
                    hint="JSON readers disagree on which value wins; keep only one",
                )
            )
        seen.add(key)
    return result


def check_tree(value: Any, *, scalars: bool = True) -> Diagnostic | None:
    """Iterative walk: nesting deeper than MAX_DEPTH, or (when `scalars`) a NaN/Infinity with its JSON path."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        if depth >= MAX_DEPTH:
            return Diagnostic(
                "E_TOO_LARGE",
                f"the JSON nesting is deeper than {MAX_DEPTH} levels",
                expected=f"at most {MAX_DEPTH} levels",
                got=f"more than {MAX_DEPTH}",
            )
        children = []
        for item in level:
            children.extend(item.values() if isinstance(item, dict) else item)
        if scalars:
            for item in children:
                if _is_long_int(item):
                    return _long_int_problem(value, item)
                if isinstance(item, float) and not math.isfinite(item):
                    name = getattr(item, "name", repr(item))
                    return Diagnostic(
                        "E_NONFINITE",
                        f"{name} is not allowed in a workflow",
                        path=_path_to(value, item),
                        expected="a finite number",
                        got=name,
                    )
        level = [c for c in children if isinstance(c, (dict, list))]
        depth += 1
    if scalars and isinstance(value, float) and not math.isfinite(value):
        return Diagnostic("E_NONFINITE", f"{value!r} is not allowed in a workflow", path="$")
    if scalars and _is_long_int(value):
        return _long_int_problem(value, value)
    return None


def _long_int_problem(root: Any, item: Any) -> Diagnostic:
    return Diagnostic(
        "E_NUMBER_RANGE",
        f"an integer with more than {MAX_INT_DIGITS} digits is not allowed in a workflow",
        path=_path_to(root, item),
        expected=f"an integer of at most {MAX_INT_DIGITS} digits (widget integers: at most 18)",
        got=number_preview(item),
        hint="the value was probably corrupted or generated; re-enter it in the editor",
    )


def _path_to(root: Any, target: Any) -> str:
    """The JSON path of `target` (by identity) inside `root`, first in document order."""
    stack: list[tuple[Any, str]] = [(root, "$")]
    while stack:
        item, path = stack.pop()
        if item is target:
            return path
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}") for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item))))
    return "$"
