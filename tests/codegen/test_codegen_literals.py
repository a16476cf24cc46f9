"""The literal emitter: everything round-trips as data; anything that is not plain data is refused."""

from __future__ import annotations

import ast
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnne.codegen.literals import MAX_INT_DIGITS, UnsafeLiteralError, comment_text, py_literal

HOSTILE = [
    '"',
    "'",
    '"""',
    "'''",
    "\\",
    "a\\",
    "line\nbreak",
    "cr\rlf",
    "nul\x00",
    "{{ x }}",
    "{% raw %}",
    "\u202eevil",
    "__import__('os').system('echo pwned')",
    'x"""; import os; os.system("echo pwned") #\n\\',
    "\ud800",
    "ﬁle",
    "\u2028\u2029\x85\x0c\x0b",
    "😀 é 中",
]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_json_values_round_trip(value):
    text = py_literal(value)
    assert text.isascii()
    assert ast.literal_eval(text) == value


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_strings_stay_one_expression_statement(value):
    module = ast.parse("x = " + py_literal(value) + "\ny = 1\n")
    assert len(module.body) == 2
    assert ast.literal_eval(module.body[0].value) == value


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_round_trip(value):
    text = py_literal(value)
    assert text.isascii() and "\n" not in text and "\r" not in text
    assert ast.literal_eval(text) == value


def test_tuples_lists_dicts():
    assert py_literal(()) == "()"
    assert py_literal((1,)) == "(1,)"
    assert ast.literal_eval(py_literal({"a": [1, (2, 3)], "b": None})) == {"a": [1, (2, 3)], "b": None}


def test_non_finite_floats_are_explicit():
    assert py_literal(math.inf) == "float('inf')"
    assert py_literal(-math.inf) == "-float('inf')"
    assert py_literal(math.nan) == "float('nan')"
    assert eval(py_literal(-math.inf), {"__builtins__": {"float": float}}) == -math.inf  # noqa: S307


def test_subclasses_are_unwrapped_without_running_their_methods():
    class Evil(str):
        def __repr__(self):
            raise AssertionError("hostile __repr__ ran")

        def __str__(self):
            raise AssertionError("hostile __str__ ran")

    class EvilInt(int):
        def __repr__(self):
            raise AssertionError("hostile __repr__ ran")

        def __int__(self):
            raise AssertionError("hostile __int__ ran")

    class EvilList(list):
        def __iter__(self):
            raise AssertionError("hostile __iter__ ran")

    class EvilDict(dict):
        def items(self):
            raise AssertionError("hostile items ran")

    assert py_literal(Evil("a'b")) == str.__repr__("a'b")
    assert py_literal(EvilInt(7)) == "7"
    assert py_literal(EvilList([1, 2])) == "[1, 2]"
    assert py_literal(EvilDict(k=Evil("v"))) == "{'k': 'v'}"
    assert comment_text(Evil("a\nb")) == "'a b'"


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes", 1j, {1: "int key"}, print, type])
def test_everything_else_is_refused(value):
    with pytest.raises(UnsafeLiteralError):
        py_literal(value)


def test_huge_ints_are_refused():
    assert py_literal(10 ** (MAX_INT_DIGITS - 1)) == "1" + "0" * (MAX_INT_DIGITS - 1)
    with pytest.raises(UnsafeLiteralError):
        py_literal(10**MAX_INT_DIGITS)
    with pytest.raises(UnsafeLiteralError):
        py_literal(-(10**5000))


def test_deep_nesting_is_refused():
    value: list = []
    for _ in range(200):
        value = [value]
    with pytest.raises(UnsafeLiteralError):
        py_literal(value)


@pytest.mark.parametrize("value", HOSTILE)
def test_comment_text_is_one_inert_line(value):
    text = comment_text(value)
    module = ast.parse("# " + text + "\nx = 1\n")
    assert len(module.body) == 1 and text.isascii() and "\n" not in text and "\r" not in text


def test_comment_text_collapses_and_shortens():
    assert comment_text("a \n\t b") == "'a b'"
    assert len(ast.literal_eval(comment_text("x" * 1000))) == 200
