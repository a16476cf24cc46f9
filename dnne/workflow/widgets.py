"""Widget values → a dict by widget name, following the node type's widget order (bad-inputs cases 19–23).

Order of preference: `widgets_values_named`, then a dict `widgets_values`, then a positional list zipped against the
spec's widgets, skipping known companions (control_after_generate after INT widgets that have one, null holes).
API-format literals are read by input name.
"""

from __future__ import annotations

from typing import Any

from dnne.catalog.spec import InputSpec, NodeType, check_widget_value
from dnne.errors import Diagnostic
from dnne.runtime.suggest import did_you_mean
from dnne.workflow.raw import RawNode, short

CONTROL_VALUES = frozenset({"fixed", "increment", "decrement", "randomize"})
COMPANION_NAMES = frozenset({"control_after_generate", "control_filter_list", "upload"})


class WidgetMapper:
    """Maps one node's saved widget values onto its spec; collects diagnostics."""

    def __init__(self, node: RawNode, spec: NodeType, linked: set[str], diagnostics: list[Diagnostic]):
        self.node = node
        self.spec = spec
        self.linked = linked  # widget names fed by a link (their value comes from the source)
        self.diags = diagnostics
        self.where = {
            "node_id": node.id,
            "user_id": node.user_id,
            "node_type": spec.key,
            "title": node.title or spec.display_name,
        }
        self.defaulted: set[str] = set()  # widgets that took their default because the saved values lack them

    def add(self, code: str, message: str, **extra: Any) -> None:
        self.diags.append(Diagnostic(code, message, **self.where, **extra))

    def map(self) -> dict[str, Any]:
        node = self.node
        if node.literals is not None:
            values = self._by_name(node.literals, api=True)
        elif node.widgets_named is not None and isinstance(node.widgets_values, list) and node.widgets_values:
            values = self._reconcile(node.widgets_values, node.widgets_named)
        elif node.widgets_named is not None:
            values = self._by_name(node.widgets_named)
        elif isinstance(node.widgets_values, dict):
            values = self._by_name(node.widgets_values)
        elif isinstance(node.widgets_values, list) or node.widgets_values is None:
            values = self._positional(node.widgets_values or [])
        else:
            self.add(
                "E_WIDGET_TYPE",
                "widgets_values must be a list or an object",
                field="widgets_values",
                got=short(node.widgets_values),
            )
            values = {}
        for name, value in node.overrides.items():
            spec = self.spec.input(name)
            if spec is not None and spec.is_widget:
                values[spec.name] = value
        return values

    def _reconcile(self, positional: list, named: dict) -> dict[str, Any]:
        """Both `widgets_values` and `widgets_values_named` are saved. When they disagree, `widgets_values` wins:
        it is what the editor itself reads back when it opens the file (and shows in every widget), so it is what a
        person editing the JSON by hand changes and then expects to take effect. The named copy only wins when the
        list does not fit this node's widgets at all (saved by another node version): names survive reordering.
        Every disagreement is a W_WIDGETS_DISAGREE naming the field and both values."""
        from_list: list[Diagnostic] = []
        reader = WidgetMapper(self.node, self.spec, self.linked, from_list)
        by_position = reader._positional(positional)
        list_fits = not any(d.is_error for d in from_list)
        values = dict(by_position) if list_fits else self._by_name(named)
        if list_fits:
            named_by_spec = {s.name: v for k, v in named.items() if (s := self.spec.input(k)) is not None}
            for name in reader.defaulted & set(named_by_spec):
                values[name] = named_by_spec[name]  # newer widget missing from the list: the named copy has it
            if not reader.defaulted <= set(named_by_spec):
                self.diags.extend(d for d in from_list if d.code == "W_WIDGET_DEFAULT")
        for name, value in named.items():
            spec = self.spec.input(name)
            if spec is None or not spec.is_widget or spec.name not in by_position or spec.name in reader.defaulted:
                continue
            other = by_position[spec.name]
            if _same_value(value, other):
                continue
            kept, dropped = (
                ("widgets_values", "widgets_values_named")
                if list_fits
                else (
                    "widgets_values_named",
                    "widgets_values",
                )
            )
            self.add(
                "W_WIDGETS_DISAGREE",
                f"widget {spec.name!r} is {short(other)} in widgets_values but {short(value)} in "
                f"widgets_values_named; {kept} is used",
                field=spec.name,
                expected=f"the same value in both (used: {kept})",
                got=f"widgets_values {short(other)}, widgets_values_named {short(value)}",
                hint=f"edit {kept} (or delete {dropped}) so that the file says one thing",
            )
        return values

    def _by_name(self, given: dict, *, api: bool = False) -> dict[str, Any]:
        values: dict[str, Any] = {}
        names = [w.name for w in self.spec.widgets]
        for key, value in given.items():
            spec = self.spec.input(key)
            if spec is None or not spec.is_widget:
                if key in COMPANION_NAMES or (api and spec is not None):
                    continue  # companions; API sockets are links, handled by the caller
                if api and _is_link(value):
                    continue  # an unknown linked input: reported with the links
                self.add(
                    "E_WIDGETS_LONG" if not api else "E_UNKNOWN_INPUT",
                    f"{'widget' if not api else 'input'} {key!r} is not an input of {self.spec.key}",
                    field=key,
                    expected=", ".join(names) or "no widgets",
                    got=key,
                    hint=did_you_mean(key, names, n=3) or None,
                )
                continue
            if api and _is_link(value):
                continue
            if spec.name != key:
                self.add("W_LEGACY_INPUT", f"widget {key!r} is now called {spec.name!r}", field=key)
            values[spec.name] = value["__value__"] if api and _is_wrapped(value) else value
        missing = [w for w in self.spec.widgets if w.name not in values and w.name not in self.linked]
        if api:
            for w in missing:
                if w.required:
                    self.add(
                        "E_REQUIRED_INPUT", f"required input {w.name!r} has no value", field=w.name, expected=w.type
                    )
                else:
                    values[w.name] = w.default
                    self.add(
                        "W_WIDGET_DEFAULT", f"optional input {w.name!r} is missing; using its default", field=w.name
                    )
        elif missing:
            self._missing(missing, values, expected=", ".join(names), got=", ".join(k for k in given) or "nothing")
        return values

    def _missing(self, missing: list[InputSpec], values: dict[str, Any], *, expected: str, got: str) -> None:
        """Widgets without a saved value: optional ones take their default (warned), required ones are an error."""
        required = [w for w in missing if w.required]
        if required:
            self.add(
                "E_WIDGETS_SHORT",
                f"{len(required)} widget value(s) missing: " + ", ".join(w.name for w in required),
                field="widgets_values",
                expected=expected,
                got=got,
                hint="no defaults are filled in silently: re-save the workflow or add the values",
            )
            return
        for w in missing:
            values[w.name] = w.default
            self.defaulted.add(w.name)
        if missing:
            self.add(
                "W_WIDGET_DEFAULT",
                "optional widget(s) missing from the saved values, defaults used: "
                + ", ".join(f"{w.name}={w.default!r}" for w in missing),
                field="widgets_values",
                hint="the workflow was probably saved before these widgets existed; re-save it to store them",
            )

    def _positional(self, given: list) -> dict[str, Any]:
        widgets = self.spec.widgets
        values: dict[str, Any] = {}
        i = 0
        extras: list[str] = []
        for index, w in enumerate(widgets):
            remaining_widgets = len(widgets) - index
            while i < len(given) and given[i] is None and len(given) - i > remaining_widgets:
                extras.append(f"null hole at position {i}")
                i += 1
            if i >= len(given):
                rest = [x for x in widgets[index:] if x.name not in self.linked]
                self._missing(rest, values, expected=", ".join(x.name for x in widgets), got=short(given))
                self._extras(extras)
                return values
            values[w.name] = given[i]
            i += 1
            spare = len(given) - i > len(widgets) - index - 1
            if (
                w.has_control_widget
                and i < len(given)
                and _is_control(given[i])
                and (spare or _not_for_next(widgets, index, given[i]))
            ):
                extras.append(f"control_after_generate {given[i]!r} after {w.name!r}")
                i += 1
        rest = given[i:]
        unknown = [v for v in rest if v is not None and not _is_control(v)]
        if unknown:
            self.add(
                "E_WIDGETS_LONG",
                f"widgets_values has {len(rest)} value(s) more than the {len(widgets)} widget(s) of {self.spec.key}",
                field="widgets_values",
                expected=", ".join(x.name for x in widgets) or "no widgets",
                got=short(given),
                hint="the workflow may have been saved with a different version of this node",
            )
            return values
        extras.extend(f"extra value {v!r} at the end" for v in rest)
        self._extras(extras)
        return values

    def _extras(self, extras: list[str]) -> None:
        if extras:
            self.add(
                "W_WIDGET_EXTRA", "ignored editor-only widget values: " + "; ".join(extras), field="widgets_values"
            )


def check_value(spec: InputSpec, value: Any, where: dict[str, Any], diags: list[Diagnostic]) -> bool:
    """Validate one widget value without coercion; report E_WIDGET_TYPE / E_WIDGET_RANGE / E_NOT_IN_LIST."""
    problem = check_widget_value(spec, value)
    if problem is None:
        return True
    if spec.type == "COMBO":
        code = "E_NOT_IN_LIST"
    elif problem.startswith(("a value", "a finite", "an integer of at most")):
        code = "E_WIDGET_RANGE"
    else:
        code = "E_WIDGET_TYPE"
    label = {"E_NOT_IN_LIST": "is not one of the choices", "E_WIDGET_RANGE": "is out of range"}.get(
        code, f"has the wrong type ({type(value).__name__})"
    )
    diags.append(
        Diagnostic(
            code,
            f"value {short(value)} for {spec.name!r} {label}",
            **where,
            field=spec.name,
            expected=problem,
            got=short(value),
        )
    )
    return False


def _not_for_next(widgets: tuple[InputSpec, ...], index: int, value: Any) -> bool:
    """True when `value` cannot be the next widget's value: then it is the control companion of widget `index`, even
    if the workflow was saved before newer optional widgets were added (the original BatchSampler: 32, true, -1,
    "fixed" against batch_size, shuffle, seed, drop_last)."""
    following = widgets[index + 1] if index + 1 < len(widgets) else None
    return following is None or check_widget_value(following, value) is not None


def _same_value(a: Any, b: Any) -> bool:
    """Equal as JSON values: 1 and true differ (Python says 1 == True), 1 and 1.0 do not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def _is_control(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, str) and value in CONTROL_VALUES)


def _is_wrapped(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"__value__"}


def _is_link(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], (int, str))
        and not isinstance(value[1], bool)
    )
