"""The one literal emitter: workflow data → Python source text that can only ever be data.

`py_literal` accepts None, bool, int, float, str and list/tuple/dict of these (string keys only). Subclasses are
unwrapped through the base types' own methods, so a hostile `__repr__`/`__iter__` never runs. Output is ASCII only
(non-ASCII and non-printable characters, bidi controls included, come out as escapes), so
`ast.literal_eval(py_literal(v)) == v` for every finite value.
"""

from __future__ import annotations

import math

from dnne.errors import DnneError

MAX_INT_DIGITS = 4000
MAX_DEPTH = 64
_MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10)) + 2  # cheap pre-check before converting to text


class UnsafeLiteralError(DnneError, TypeError):
    """A value cannot be written into generated code as a plain literal."""


def py_literal(value: object) -> str:
    """Python source for `value`, which must be plain data (see module docstring)."""
    return _emit(value, 0)


def _emit(value: object, depth: int) -> str:
    if depth > MAX_DEPTH:
        raise UnsafeLiteralError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None:
        return "None"
    if isinstance(value, bool):  # before int: bool is a subclass of int
        return "True" if value else "False"  # bool cannot be subclassed
    if isinstance(value, int):
        return _int(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _str(value)
    if isinstance(value, (list, tuple)):
        items = [
            _emit(item, depth + 1)
            for item in (list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value))
        ]
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        if len(items) == 1:
            return "(" + items[0] + ",)"
        return "(" + ", ".join(items) + ")"
    if isinstance(value, dict):
        parts = []
        for key, item in dict.items(value):
            if not isinstance(key, str):
                raise UnsafeLiteralError(f"dict keys must be strings, got {type(key).__name__}")
            parts.append(_str(key) + ": " + _emit(item, depth + 1))
        return "{" + ", ".join(parts) + "}"
    raise UnsafeLiteralError(
        f"cannot write a {type(value).__name__} into generated code "
        "(allowed: None, bool, int, float, str, and list/tuple/dict of these)"
    )


def _int(value: int) -> str:
    if int.bit_length(value) > _MAX_INT_BITS:
        raise UnsafeLiteralError(f"integer has more than {MAX_INT_DIGITS} digits")
    text = int.__repr__(value)
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise UnsafeLiteralError(f"integer has more than {MAX_INT_DIGITS} digits")
    return text


def _float(value: float) -> str:
    if math.isnan(value):
        return "float('nan')"
    if math.isinf(value):
        return "float('inf')" if value > 0 else "-float('inf')"
    return float.__repr__(value)


def _str(value: str) -> str:
    # str.__repr__ escapes quotes, backslashes and every non-printable character; backslashreplace then turns the
    # remaining printable non-ASCII characters into \x/\u/\U escapes, which are valid inside the quoted literal.
    return str.__repr__(value).encode("ascii", "backslashreplace").decode("ascii")


def comment_text(text: object, max_len: int = 200) -> str:
    """User text for a one-line `#` comment: whitespace collapsed, shortened, then quoted like a literal."""
    if not isinstance(text, str):
        raise UnsafeLiteralError(f"comment text must be a string, got {type(text).__name__}")
    collapsed = " ".join(str.split(str.__str__(text)))
    if len(collapsed) > max_len:
        collapsed = collapsed[: max_len - 3] + "..."
    return _str(collapsed)


GENERIC_COMMAND = "dnne export WORKFLOW.json -o DIR"


def command_comment(command: object, max_len: int = 400) -> str:
    """A shell command (user data) for a `#` comment: verbatim when it is one line of printable ASCII, quoted with
    escapes otherwise (a literal, so `\\n` in a path stays visible), the generic `dnne export` line when unknown (None)
    or longer than `max_len`."""
    if command is None:
        return GENERIC_COMMAND
    if not isinstance(command, str):
        raise UnsafeLiteralError(f"comment text must be a string, got {type(command).__name__}")
    plain = str.__str__(command)
    if len(plain) > max_len:
        return GENERIC_COMMAND
    # nothing but a line break ends a comment, and printable ASCII holds none, so the text stays inert
    if plain and plain == plain.strip() and all(" " <= char <= "~" for char in plain):
        return plain
    return _str(plain)
