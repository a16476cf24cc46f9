"""What every export target shares: the options, the input a target builds from, and the sanitisers.

A target turns an already-built export (runner.py, config.json, …) into extra files beside it. Targets never
splice workflow text into what they write: names go through `dns_label` (DNS-1123, `[a-z0-9-]`), every value in a
manifest goes through a YAML/JSON serialiser, every word of a command through exec-form JSON arrays or `shlex`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dnne.errors import DnneError
from dnne.workflow.model import Graph

# Node types whose presence makes a workflow a training workflow (a PyTorchJob is written for these).
TRAINING_NODE_TYPES = ("TrainingStep", "PPOTrainerNode")
# The paths inside the image / pod; fixed so the Dockerfile, the manifests and the docs agree.
APP_DIR = "/app"
WORK_DIR = "/workspace"
DATA_DIR = "/data"
RUNS_DIR = "/workspace/runs"
CHECKPOINTS_DIR = "/checkpoints"
APP_UID = 10001  # the non-root user the program runs as (numeric: no passwd entry needed, runAsNonRoot can check it)
DEFAULT_BASE_IMAGE = "python:3.11-slim"
MAX_NAME = 50  # a PyTorchJob's pods are `<name>-worker-<n>`: keep room under the 63-character label limit

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# An image reference: [registry[:port]/]path[:tag][@sha256:digest], as docker parses it (a registry has a dot,
# a port or is localhost; the path is lower case).
_IMAGE_REF = re.compile(
    r"^(?:(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+)(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
_QUANTITY = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
RESTART_POLICIES = ("OnFailure", "Never")  # valid for both a Job's pods and PyTorchJob replicas


class TargetError(DnneError):
    """An export target cannot be built with the options given (a usage error: exit code 2)."""


def dns_label(text: object, max_len: int = MAX_NAME) -> str:
    """`text` as a DNS-1123 label (`[a-z0-9-]`, starting and ending alphanumeric), never empty: "workflow"."""
    raw = text if isinstance(text, str) else ""
    label = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")[:max_len].strip("-")
    return label or "workflow"


def check_image_ref(value: str, what: str) -> str:
    if not isinstance(value, str) or len(value) > 255 or not _IMAGE_REF.match(value):
        raise TargetError(
            f"{what}: {value!r} is not an image reference; expected [registry/]name[:tag][@sha256:digest], "
            "e.g. python:3.11-slim"
        )
    return value


@dataclass(frozen=True)
class Volume:
    """Where one of the program's folders lives in Kubernetes: a PersistentVolumeClaim, a host path, or emptyDir."""

    kind: str  # "pvc" | "host" | "empty"
    source: str = ""  # claim name or host path

    @classmethod
    def parse(cls, text: str, what: str) -> Volume:
        kind, _, source = text.partition(":")
        if kind == "pvc" and _DNS_LABEL.match(source) and len(source) <= 253:
            return cls("pvc", source)
        if kind == "host" and source.startswith("/") and source.isprintable() and ".." not in source.split("/"):
            return cls("host", source)
        if text == "empty":
            return cls("empty")
        raise TargetError(
            f"{what}: {text!r} is not a volume; expected pvc:CLAIM (a DNS-1123 name), host:/absolute/path or empty"
        )

    def text(self) -> str:
        return f"{self.kind}:{self.source}" if self.source else self.kind

    def to_k8s(self, name: str) -> dict[str, Any]:
        if self.kind == "pvc":
            return {"name": name, "persistentVolumeClaim": {"claimName": self.source}}
        if self.kind == "host":
            return {"name": name, "hostPath": {"path": self.source, "type": "DirectoryOrCreate"}}
        return {"name": name, "emptyDir": {}}


@dataclass(frozen=True)
class DeployOptions:
    """Every per-target export option (`dnne export --help` lists them). None = the target's default."""

    base_image: str = DEFAULT_BASE_IMAGE  # docker: default of the Dockerfile's BASE_IMAGE build argument
    image: str | None = None  # kubernetes: the image the pods run (default `<name>:latest`, built locally)
    namespace: str | None = None
    cpu: str = "2"
    memory: str = "4Gi"
    gpus: int = 0
    workers: int = 2  # PyTorchJob: pods in all (1 Master + workers-1 Workers)
    nproc_per_node: int = 1  # PyTorchJob: torchrun processes per pod
    restart_policy: str = "OnFailure"
    backoff_limit: int = 3
    data_volume: str | None = None  # pvc:NAME | host:/path | empty; default pvc:<name>-data
    runs_volume: str | None = None
    checkpoints_volume: str | None = None
    program_args: tuple[str, ...] = ()  # extra flags for runner.py in the pods (e.g. --epochs 3)

    def cli_args(self) -> list[str]:
        """The `dnne export` flags that give these options (only those that differ from the defaults)."""
        import dataclasses
        import shlex

        words: list[str] = []
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if value == item.default:
                continue
            if item.name == "program_args":
                words += ["--run-args", shlex.join(value)]
            else:
                words += ["--" + item.name.replace("_", "-"), str(value)]
        return words

    def checked(self) -> DeployOptions:
        """The options, each checked; raises TargetError naming the option, what it got and what it expects."""
        check_image_ref(self.base_image, "--base-image")
        if self.image is not None:
            check_image_ref(self.image, "--image")
        if self.namespace is not None and not _DNS_LABEL.match(self.namespace):
            raise TargetError(f"--namespace: {self.namespace!r} is not a DNS-1123 label ([a-z0-9-], at most 63)")
        for flag, value in (("--cpu", self.cpu), ("--memory", self.memory)):
            if not isinstance(value, str) or not _QUANTITY.match(value):
                raise TargetError(f"{flag}: {value!r} is not a Kubernetes quantity; expected e.g. 2, 500m, 4Gi")
        for flag, value, low in (
            ("--gpus", self.gpus, 0),
            ("--workers", self.workers, 1),
            ("--nproc-per-node", self.nproc_per_node, 1),
            ("--backoff-limit", self.backoff_limit, 0),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 10_000:
                raise TargetError(f"{flag}: expected an integer from {low} to 10000, got {value!r}")
        if self.restart_policy not in RESTART_POLICIES:
            raise TargetError(
                f"--restart-policy: expected one of {', '.join(RESTART_POLICIES)}, got {self.restart_policy!r}"
            )
        for flag, value in (
            ("--data-volume", self.data_volume),
            ("--runs-volume", self.runs_volume),
            ("--checkpoints-volume", self.checkpoints_volume),
        ):
            if value is not None:
                Volume.parse(value, flag)
        for arg in self.program_args:
            if not isinstance(arg, str) or not arg.isprintable():
                raise TargetError(f"--run-args: {arg!r} holds control characters")
        return self


@dataclass(frozen=True)
class TargetInput:
    """What a target builds from: the validated, folded graph and the files of the program export."""

    graph: Graph
    files: Mapping[str, bytes]  # the program export (runner.py, config.json, requirements.txt, dnne_runtime/…)
    options: DeployOptions
    targets: tuple[str, ...]  # every target of this export (a target may mention another's files)

    @property
    def name(self) -> str:
        """The workflow's name as a DNS-1123 label: the only form of it any target writes."""
        return dns_label(self.graph.name)

    @property
    def training(self) -> bool:
        return any(
            node.spec.key in TRAINING_NODE_TYPES or set(node.spec.legacy_types) & set(TRAINING_NODE_TYPES)
            for node in self.graph
        )


@dataclass(frozen=True)
class Target:
    """One export target: `build` returns the files it adds (relative path → bytes), deterministic."""

    name: str
    writes: str  # for --list-targets
    needs: str  # what building / running it needs
    build: Callable[[TargetInput], dict[str, bytes]] = field(repr=False)
    docs: Callable[[TargetInput], str] | None = field(default=None, repr=False)  # its DEPLOY.md section
