"""Export a trained torch module as TorchScript and ONNX, each checked against the module on a sample batch.

The parity check reloads the written file, runs it on the sample and reports the largest absolute difference of the
outputs (tolerance 1e-4). ONNX needs the `onnx` package (pip install onnx); the check runs with onnxruntime when it is
installed, else with onnx's own reference evaluator. torch is imported when first needed (the ExportModel node class
is imported by the catalog at export time).
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor, nn

DEFAULT_TOLERANCE = 1e-4
DEFAULT_OPSET = 17


class ExportError(RuntimeError):
    """The model could not be exported, or the exported file does not reproduce the model's outputs."""


@dataclass
class ExportReport:
    format: str  # "torchscript" or "onnx"
    path: Path
    max_abs_diff: float
    tolerance: float
    checked_with: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def describe(self) -> str:
        relation = "≤" if self.ok else ">"
        return (
            f"{self.format}: {self.path} (parity {'ok' if self.ok else 'MISMATCH'}: max |diff| {self.max_abs_diff:.3g} "
            f"{relation} {self.tolerance:g}, checked with {self.checked_with}; {self.seconds:.2f} s)"
        )


def onnx_unavailable_reason() -> str | None:
    """None when ONNX export is possible, else what to install."""
    if importlib.util.find_spec("onnx") is None:
        return "ONNX export needs the onnx package: pip install onnx"
    return None


def _tensors(output: Any) -> list[Tensor]:
    import torch

    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, dict):
        return [t for key in sorted(output) for t in _tensors(output[key])]
    if isinstance(output, (list, tuple)):
        return [t for item in output for t in _tensors(item)]
    return []


def _max_abs_diff(expected: Sequence[Tensor], got: Sequence[Any]) -> float:
    import torch

    if len(expected) != len(got):
        raise ExportError(f"the exported model returns {len(got)} output(s), the module {len(expected)}")
    worst = 0.0
    for want, have in zip(expected, got, strict=True):
        have_t = torch.as_tensor(have).to(want.device)
        if tuple(have_t.shape) != tuple(want.shape):
            raise ExportError(f"output shape {list(have_t.shape)} differs from the module's {list(want.shape)}")
        if want.numel():
            worst = max(worst, (have_t.double() - want.double()).abs().max().item())
    return worst


def _as_args(example: Tensor | tuple) -> tuple:
    return example if isinstance(example, tuple) else (example,)


def _reference_outputs(model: nn.Module, args: tuple) -> list[Tensor]:
    import torch

    with torch.no_grad():
        return [t.detach() for t in _tensors(model(*args))]


class _EvalMode:
    """Put the module in eval mode for the export and restore its previous mode afterwards."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.was_training = model.training

    def __enter__(self) -> nn.Module:
        return self.model.eval()

    def __exit__(self, *exc: Any) -> None:
        self.model.train(self.was_training)


def _finish(report: ExportReport, strict: bool) -> ExportReport:
    if strict and not report.ok:
        raise ExportError(
            f"{report.format} export of {report.path.name} does not match the model: max |diff| "
            f"{report.max_abs_diff:.3g} > {report.tolerance:g}"
        )
    return report


def export_torchscript(
    model: nn.Module,
    example: Tensor | tuple,
    path: str | Path,
    *,
    method: str = "trace",
    tolerance: float = DEFAULT_TOLERANCE,
    strict: bool = True,
) -> ExportReport:
    """Write `model` as TorchScript (`method` "trace" with `example`, or "script"), reload it and compare outputs."""
    import torch

    if method not in ("trace", "script"):
        raise ExportError(f"TorchScript method must be 'trace' or 'script', got {method!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    args = _as_args(example)
    start = time.perf_counter()
    with _EvalMode(model), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = _reference_outputs(model, args)
        try:
            with torch.no_grad():
                compiled = (
                    torch.jit.trace(model, args, check_trace=False) if method == "trace" else torch.jit.script(model)
                )
        except Exception as exc:  # torch raises many types here; report them all the same way
            raise ExportError(f"TorchScript {method} failed: {type(exc).__name__}: {exc}") from exc
        tmp = path.with_name(path.name + ".tmp")
        compiled.save(str(tmp))
        tmp.replace(path)
        device = args[0].device if args and isinstance(args[0], torch.Tensor) else torch.device("cpu")
        loaded = torch.jit.load(str(path), map_location=device)
        with torch.no_grad():
            got = _tensors(loaded(*args))
    report = ExportReport(
        "torchscript", path, _max_abs_diff(expected, got), tolerance, "torch.jit.load", time.perf_counter() - start
    )
    return _finish(report, strict)


def _run_onnx(path: Path, inputs: dict[str, Any]) -> tuple[list[Any], str]:
    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, inputs), "onnxruntime"
    import onnx
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(onnx.load(str(path))).run(None, inputs), "onnx.reference"


def export_onnx(
    model: nn.Module,
    example: Tensor | tuple,
    path: str | Path,
    *,
    opset: int = DEFAULT_OPSET,
    dynamic_batch: bool = True,
    tolerance: float = DEFAULT_TOLERANCE,
    strict: bool = True,
) -> ExportReport:
    """Write `model` as ONNX (batch dimension dynamic by default), validate the file and compare outputs."""
    import torch

    reason = onnx_unavailable_reason()
    if reason:
        raise ExportError(reason)
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    args = _as_args(example)
    in_names = [f"input{i}" if len(args) > 1 else "input" for i in range(len(args))]
    start = time.perf_counter()
    with _EvalMode(model):
        expected = _reference_outputs(model, args)
        out_names = [f"output{i}" if len(expected) > 1 else "output" for i in range(len(expected))]
        axes = {n: {0: "batch"} for n in in_names + out_names} if dynamic_batch else None
        tmp = path.with_name(path.name + ".tmp")
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    model,
                    args,
                    str(tmp),
                    dynamo=False,
                    input_names=in_names,
                    output_names=out_names,
                    opset_version=opset,
                    dynamic_axes=axes,
                )
        except Exception as exc:  # the exporter raises many types; report them all the same way
            tmp.unlink(missing_ok=True)
            raise ExportError(f"ONNX export failed: {type(exc).__name__}: {exc}") from exc
        try:
            onnx.checker.check_model(onnx.load(str(tmp)))
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            raise ExportError(f"the exported ONNX model is invalid: {exc}") from exc
        tmp.replace(path)
    feeds = {name: arg.detach().cpu().numpy() for name, arg in zip(in_names, args, strict=True)}
    got, engine = _run_onnx(path, feeds)
    report = ExportReport("onnx", path, _max_abs_diff(expected, got), tolerance, engine, time.perf_counter() - start)
    return _finish(report, strict)


def export_model(
    model: nn.Module,
    example: Tensor | tuple,
    out_dir: str | Path,
    *,
    name: str = "model",
    formats: Sequence[str] = ("torchscript", "onnx"),
    log: Any = print,
    tolerance: float = DEFAULT_TOLERANCE,
) -> list[ExportReport]:
    """Export in each format (ONNX skipped with a message when `onnx` is missing); logs one line per file."""
    out = Path(out_dir)
    reports = []
    for fmt in formats:
        if fmt == "torchscript":
            reports.append(export_torchscript(model, example, out / f"{name}.torchscript.pt", tolerance=tolerance))
        elif fmt == "onnx":
            reason = onnx_unavailable_reason()
            if reason:
                log(f"ONNX export skipped: {reason}")
                continue
            reports.append(export_onnx(model, example, out / f"{name}.onnx", tolerance=tolerance))
        else:
            raise ExportError(f"unknown export format {fmt!r} (known: torchscript, onnx)")
        log("exported " + reports[-1].describe())
    return reports


def sample_batch(dataset: Any, seen: Any, model: Any, samples: int) -> tuple[Any, str | None]:
    """(a CPU batch of `samples` inputs to trace and check the model with, where it comes from): the dataset's test
    split (else train), else `seen` (a batch the network got), else random normal inputs of the model's input shape;
    (None, None) when there is nothing to go by."""
    import torch

    if dataset is not None:
        split = dataset.test if dataset.test is not None else dataset.train
        x, origin = split.images[:samples], "dataset"
    elif seen is not None:
        x, origin = seen, "training batch"
    else:
        shape = getattr(model, "dnne_input_shape", None)  # set by the Network at its first batch
        if shape is None:
            return None, None
        generator = torch.Generator().manual_seed(0)
        x, origin = torch.randn((samples, *shape), generator=generator), "random normal"
    x = x.detach().to("cpu").clone()  # a normal tensor, also when captured under inference_mode
    return (x if x.is_floating_point() else x.float()), origin


def first_input(args: tuple, samples: int) -> Any:
    """A detached copy of the first `samples` rows of a forward call's first argument, or None."""
    import torch

    if args and isinstance(args[0], torch.Tensor):
        return args[0][:samples].detach().clone()
    return None


def cpu_copy(model: Any) -> Any:
    """A copy of the model on the CPU without hooks: portable files, the training state untouched."""
    import copy

    clone = copy.deepcopy(model).to("cpu")
    clone._forward_pre_hooks.clear()
    return clone


def filename_problem(name: str) -> str | None:
    """Why `name` cannot be the base name of the exported files (None when it can): checked at export and at run time
    (config.json is editable)."""
    if not name:
        return "filename is empty: give a base name such as 'model'"
    if "/" in name or "\\" in name or ".." in name:
        return f"filename {name!r} must be a base name without '/', '\\' or '..': files always go to run_dir/exported/"
    if name.startswith(".") or any(ord(c) < 32 for c in name) or ":" in name:
        return f"filename {name!r} must not start with '.' or contain ':' or control characters"
    return None
