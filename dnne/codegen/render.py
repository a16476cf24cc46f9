"""The Jinja environment that renders generated code.

Everything printed by `{{ … }}` must be trusted code (`Code`, which only this package can build) or go through a
filter that builds it: `py` (the literal emitter) or `comment` (one-line quoted user text). A raw `{{ value }}`
raises `RenderError` at render time, so workflow data can never be spliced into code by accident.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from dnne.codegen.literals import comment_text, py_literal
from dnne.errors import DnneError

TEMPLATES_DIR = Path(__file__).parent / "templates"
_TOKEN = object()


class RenderError(DnneError):
    """A template printed something that is not trusted code, or failed to render."""


class Code(str):
    """Source text that dnne itself produced (identifiers, emitted literals, rendered templates)."""

    __slots__ = ()

    def __new__(cls, text: str, token: object = None) -> Code:
        if token is not _TOKEN:
            raise TypeError("Code can only be built by dnne.codegen (use the `py` filter for values)")
        return super().__new__(cls, text)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError("Code cannot be subclassed")


def trusted(text: str) -> Code:
    """Mark text produced by dnne.codegen itself as code. Never call this on workflow data."""
    if type(text) is not str and type(text) is not Code:
        raise TypeError(f"trusted() takes a str, got {type(text).__name__}")
    return Code(text, _TOKEN)


def literal(value: object) -> Code:
    """`value` as a Python literal (see `py_literal`)."""
    return Code(py_literal(value), _TOKEN)


def _py_filter(value: object) -> Code:
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the variable
    return literal(value)


def _comment(value: object) -> Code:
    if isinstance(value, jinja2.Undefined):
        str(value)
    return Code(comment_text(value), _TOKEN)


def _finalize(value: object) -> object:
    if type(value) is Code:
        return value
    raise RenderError(
        f"template printed an untrusted {type(value).__name__} ({str(value)[:60]!r}); "
        "values must go through the `py` filter (or `comment` in comments)"
    )


def _make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
        auto_reload=False,
    )
    env.filters["py"] = _py_filter
    env.filters["comment"] = _comment
    return env


ENV = _make_env()
_node_templates: dict[tuple[str, int, int], jinja2.Template] = {}


def render(template_name: str, **variables: Any) -> str:
    """Render one of dnne.codegen's own templates (templates/<name>)."""
    try:
        return ENV.get_template(template_name).render(**variables)
    except RenderError:
        raise
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {template_name}: {exc}") from exc


def node_template(path: Path) -> jinja2.Template:
    """The compiled template at `path` (cached by path, size and modification time)."""
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        template = _node_templates.get(key)
        if template is None:
            template = ENV.from_string(path.read_text(encoding="utf-8"))
            _node_templates[key] = template
        return template
    except OSError as exc:
        raise RenderError(f"cannot read template {path}: {exc}") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template {path}, line {exc.lineno}: {exc.message}") from exc


def render_node_class(path: Path, class_name: str, type_vars: dict[str, Any] | None = None) -> str:
    """Render a node type's template into its class source."""
    template = node_template(path)
    try:
        return template.render(class_name=trusted(class_name), type_vars=dict(type_vars or {}))
    except DnneError as exc:
        raise RenderError(f"template {path}: {exc}") from exc
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {path}: {exc}") from exc
