"""The Jinja environment: only trusted code is printed; values must go through `py` / `comment`."""

from __future__ import annotations

import ast

import jinja2
import pytest

from dnne.codegen.render import ENV, Code, RenderError, literal, render_node_class, trusted


@pytest.mark.parametrize(
    "source, variables",
    [
        ("{{ x }}", {"x": "value"}),
        ('{{ "abc" }}', {}),
        ("{{ 1 }}", {}),
        ("{{ x.upper() }}", {"x": trusted("abc")}),
        ("{{ x ~ 'y' }}", {"x": trusted("abc")}),
        ("{{ x|py ~ '' }}", {"x": 1}),
    ],
)
def test_raw_values_fail_at_render_time(source, variables):
    with pytest.raises(RenderError):
        ENV.from_string(source).render(**variables)


def test_undefined_variables_fail():
    with pytest.raises(jinja2.UndefinedError):
        ENV.from_string("{{ missing|py }}").render()


def test_py_and_comment_filters():
    out = ENV.from_string("x = {{ v|py }}  # {{ t|comment }}\n").render(v={"a": "'\"\n"}, t="two\nlines")
    module = ast.parse(out)
    assert len(module.body) == 1
    assert ast.literal_eval(module.body[0].value) == {"a": "'\"\n"}
    assert out.endswith("# 'two lines'\n")


def test_code_cannot_be_built_or_subclassed_from_outside():
    with pytest.raises(TypeError):
        Code("import os")
    with pytest.raises(TypeError):

        class Sneaky(Code):  # noqa: F841
            pass

    assert type(literal("x")) is Code and literal("x") == "'x'"


def test_node_template_renders_class_name_and_type_vars(tmp_path):
    path = tmp_path / "t.py.jinja"
    path.write_text("class {{ class_name }}:\n    LIMIT = {{ type_vars.limit|py }}\n")
    assert render_node_class(path, "Foo", {"limit": [1, "a"]}) == "class Foo:\n    LIMIT = [1, 'a']\n"
    path.write_text("class {{ class_name }}:\n    LIMIT = {{ type_vars.limit }}\n")
    with pytest.raises(RenderError, match="untrusted"):
        render_node_class(path, "Foo", {"limit": 1})
