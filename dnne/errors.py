"""Diagnostics: every problem dnne reports about a workflow, and the one exception type that carries them.

A `Diagnostic` names the node (id, type, title), the field, what was expected and what was found, and a hint.
Loaders and validators collect *all* diagnostics before stopping; `DiagnosticError` carries the full list.
Codes are stable: `E_…` errors, `W_…` warnings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    node_id: str | None = None
    node_type: str | None = None
    title: str | None = None
    field: str | None = None
    expected: str | None = None
    got: str | None = None
    hint: str | None = None
    path: str | None = None  # JSON path or "line:col" for parse errors
    user_id: str | None = None  # the node id as the file spells it, when dnne had to map it to a safe internal id

    @property
    def is_error(self) -> bool:
        return self.code.startswith("E_")

    def sort_key(self) -> tuple:
        return (node_id_key(self.node_id), 0 if self.is_error else 1, self.code, self.field or "", self.message)

    def format(self) -> str:
        """One human-readable block: `E_CODE node 12 (Type "Title") field: message` + expected/got/hint lines."""
        where = []
        if self.node_id is not None:
            label = "node " + node_label(self.node_id, self.user_id)
            if self.node_type:
                label += f" ({self.node_type}"
                if self.title and self.title != self.node_type:
                    label += f" {self.title!r}"
                label += ")"
            where.append(label)
        if self.field:
            where.append(f"field {self.field!r}")
        if self.path:
            where.append(f"at {self.path}")
        head = f"{self.code}: " + (", ".join(where) + ": " if where else "") + self.message
        lines = [head]
        # Only what is known is printed: a bare "expected: None" reads like a requirement of None.
        pair = [f"{k}: {v}" for k, v in (("expected", self.expected), ("got", self.got)) if v is not None]
        if pair:
            lines.append("    " + "    ".join(pair))
        if self.hint:
            lines.append(f"    hint: {self.hint}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None} | {"severity": self.severity}

    @property
    def severity(self) -> str:
        return "error" if self.is_error else "warning"


USER_ID_SHOWN = 80  # characters of a user's own node id shown in a message; the whole id stays in `user_id`


def node_label(node_id: str, user_id: str | None = None) -> str:
    """How a message names a node: `12`, or `'KSampler' (id 12)` when dnne mapped the file's own id (a string such
    as "KSampler") to a safe internal one. repr() keeps control characters and newlines visible and inert; a very
    long id is cut."""
    if user_id is None:
        return str(node_id)
    shown = user_id if len(user_id) <= USER_ID_SHOWN else user_id[: USER_ID_SHOWN - 1] + "…"
    return f"{shown!r} (id {node_id})"


def node_id_key(node_id: str | None) -> tuple:
    """Numeric order of ids like "12" and "5:3" without `int()`: a hostile 100k-digit id must not hit Python's
    int-string conversion limit (or its quadratic cost); digits compare by length, then text."""
    if node_id is None:
        return (0,)
    parts = []
    for part in str(node_id).split(":"):
        if part.isascii() and part.isdigit():
            digits = part.lstrip("0") or "0"
            parts.append((0, len(digits), digits, part))
        else:
            parts.append((1, 0, part, part))
    return (1, tuple(parts))


def cap_per_code(diagnostics: list[Diagnostic], limit: int = 50) -> list[Diagnostic]:
    """At most `limit` diagnostics of one code (in the given order), then one "… and N more" line per capped code,
    so that a hostile file cannot turn into a report of millions of lines."""
    kept: list[Diagnostic] = []
    count: dict[str, int] = {}
    for diag in diagnostics:
        count[diag.code] = count.get(diag.code, 0) + 1
        if count[diag.code] <= limit:
            kept.append(diag)
    for code, n in count.items():
        if n > limit:
            kept.append(
                Diagnostic(code, f"… and {n - limit:,} more {code} ({n:,} in all; the first {limit} are listed)")
            )
    return kept


@dataclass
class Diagnostics:
    """An ordered collection of diagnostics, filled by every stage of the pipeline."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, code: str, message: str, **where: Any) -> Diagnostic:
        diag = Diagnostic(code, message, **where)
        self.items.append(diag)
        return diag

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.items.extend(diags)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if not d.is_error]

    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)

    def raise_if_errors(self, strict: bool = False) -> None:
        if self.has_errors() or (strict and self.items):
            raise DiagnosticError(self.sorted())


class DnneError(Exception):
    """Base class of every error dnne raises on purpose."""


class DiagnosticError(DnneError):
    """The workflow is invalid; `diagnostics` lists every problem found (errors and warnings), sorted by node id."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.is_error]
        super().__init__(f"{len(errors)} error(s) in workflow:\n" + "\n".join(d.format() for d in diagnostics))


class CatalogError(DnneError):
    """A node type definition is inconsistent (raised at registration: a bug in a node pack, not in a workflow)."""
