"""The network of a Network node as Python code: an `nn.Module` subclass with its layers written out.

The Network exporter folds the layer chain, infers the shapes from the data (at export) and asks each layer for its
torch modules (`Layer.modules`, descriptions from `dnne/runtime/ml/modules.py`). This module writes them as a class:

    class MnistMlpNet(nn.Module):
        def __init__(self):
            super().__init__()
            # node 5 (LinearLayer 'Hidden'): [1, 28, 28] -> [128]
            self.flatten1 = nn.Flatten()
            self.linear1 = nn.Linear(784, 128)
            self.relu1 = nn.ReLU()
            ...

        def forward(self, x):
            flatten1 = self.flatten1(x)
            linear1 = self.linear1(flatten1)
            ...
            return linear2

The structure is dnne's own; every argument goes through the literal emitter, comments through `comment_text`, and
only the allow-listed `torch.nn` classes (`modules.ALLOWED`) can appear. Attribute names are `<stem><n>` in chain
order (`linear1`, `linear2`, `conv1`…), so the model's state_dict keys depend only on the layer kinds and their order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dnne.codegen.literals import comment_text, py_literal
from dnne.runtime.ml.modules import ALLOWED, TorchModule

IMPORTS = ("from torch import nn",)
PLAIN_ID = re.compile(r"[A-Za-z0-9_:.-]{1,40}")
PLAIN_DOC = re.compile(r"[A-Za-z0-9 ,.:;()\[\]?>=+-]*")


@dataclass(frozen=True)
class LayerCode:
    """One layer of the chain: the workflow node it comes from, its modules and its per-sample output shape."""

    node_id: str
    node_type: str  # a catalog type key (an identifier)
    title: str  # workflow text: only ever written through comment_text
    modules: tuple[TorchModule, ...]
    output_shape: tuple | None  # None: unknown at export

    def comment(self) -> str:
        """`node 5 LinearLayer 'Hidden'`: the id as it is when it is plain, else quoted like every title."""
        plain = bool(PLAIN_ID.fullmatch(self.node_id))
        parts = ["node", self.node_id if plain else comment_text(self.node_id), self.node_type]
        if self.title and self.title != self.node_type:
            parts.append(comment_text(self.title))
        return " ".join(parts)


def shape_text(shape: Sequence | None) -> str:
    if shape is None:
        return "[unknown]"
    return "[" + ", ".join("?" if d is None else str(int(d)) for d in shape) + "]"


def module_call(mod: TorchModule) -> str:
    """`nn.Linear(784, 128, bias=False)`: the class from the allow-list, every argument a literal."""
    if mod.kind not in ALLOWED:
        raise ValueError(f"nn.{mod.kind} is not an allowed module")
    args = [py_literal(a) for a in mod.args]
    for key, value in mod.kwargs:
        if not key.isidentifier():
            raise ValueError(f"nn.{mod.kind}: {key!r} is not a keyword name")
        args.append(f"{key}={py_literal(value)}")
    return f"nn.{mod.kind}({', '.join(args)})"


def network_class_source(
    class_name: str, layers: Sequence[LayerCode], input_shape: Sequence | None, description: str
) -> str:
    """The text of the class (unformatted; the runner is ruff-formatted as a whole). `class_name` is minted by
    codegen; `description` is dnne's own one-line text (words, numbers and shapes: no quotes, no backslashes)."""
    if not class_name.isidentifier():
        raise ValueError(f"{class_name!r} is not an identifier")
    if not PLAIN_DOC.fullmatch(description):
        raise ValueError(f"the docstring {description!r} must be plain text")
    counts: dict[str, int] = {}
    init: list[str] = []
    forward: list[str] = []
    value = "x"
    shape = input_shape
    for layer in layers:
        init.append(f"# {layer.comment()}: {shape_text(shape)} -> {shape_text(layer.output_shape)}")
        for mod in layer.modules:
            counts[mod.stem] = counts.get(mod.stem, 0) + 1
            name = f"{mod.stem}{counts[mod.stem]}"
            init.append(f"self.{name} = {module_call(mod)}")
            forward.append(f"{name} = self.{name}({value})")
            value = name
        shape = layer.output_shape
    lines = [
        f"class {class_name}(nn.Module):",
        f'    """{description}"""',
        "",
        "    def __init__(self):",
        "        super().__init__()",
        *(f"        {line}" for line in init),
        "",
        "    def forward(self, x):",
        *(f"        {line}" for line in forward),
        f"        return {value}",
    ]
    return "\n".join(lines) + "\n"
