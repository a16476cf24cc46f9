"""The `kubernetes` target: k8s/job.yaml (a single-pod batch/v1 Job) and, for training workflows,
k8s/pytorchjob.yaml (Kubeflow training operator v1) running the same program under torchrun.

Every manifest is a plain dict serialised by PyYAML's safe dumper (checked by loading it back); the only
workflow-derived word in them is the DNS-1123 name. Options (resources, volumes, restart and backoff policy, image,
extra program flags) come from `DeployOptions`, each checked before use.
"""

from __future__ import annotations

import shlex
from typing import Any

import dnne
from dnne.targets.base import (
    APP_DIR,
    APP_UID,
    CHECKPOINTS_DIR,
    DATA_DIR,
    RUNS_DIR,
    Target,
    TargetError,
    TargetInput,
    Volume,
)

JOB = "k8s/job.yaml"
PYTORCHJOB = "k8s/pytorchjob.yaml"
PYTORCH_CONTAINER = "pytorch"  # the training operator finds the container by this name
PYTORCH_PORT = 23456  # the operator's default master port (named pytorchjob-port)
FOLDERS = (("data", DATA_DIR), ("runs", RUNS_DIR), ("checkpoints", CHECKPOINTS_DIR))


def _yaml():
    try:
        import yaml
    except ImportError:
        raise TargetError(
            "the kubernetes target needs PyYAML to write its manifests; install it with pip install 'dnne[deploy]'"
        ) from None
    return yaml


def dump_yaml(doc: dict[str, Any], header: str) -> str:
    """`doc` as YAML (safe dumper, keys in the order given), checked by loading it back."""
    yaml = _yaml()

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # a list used twice is written twice, never as &anchor/*alias
            return True

    text = yaml.dump(doc, Dumper=Dumper, sort_keys=False, default_flow_style=False, allow_unicode=False, width=100_000)
    if yaml.safe_load(text) != doc:  # defensive: the safe dumper quotes whatever would read back differently
        raise TargetError("internal error: a generated manifest does not read back as written")
    return "".join(f"# {line}\n" for line in header.splitlines()) + text


def image(inp: TargetInput) -> str:
    return inp.options.image or f"{inp.name}:latest"


def volumes(inp: TargetInput) -> list[Volume]:
    given = (inp.options.data_volume, inp.options.runs_volume, inp.options.checkpoints_volume)
    return [
        Volume.parse(text, f"--{folder}-volume") if text is not None else Volume("pvc", f"{inp.name}-{folder}")
        for (folder, _path), text in zip(FOLDERS, given, strict=True)
    ]


def program_args(inp: TargetInput) -> list[str]:
    return ["--data-dir", DATA_DIR, "--checkpoint-dir", CHECKPOINTS_DIR, *inp.options.program_args]


def _metadata(inp: TargetInput, component: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": inp.name, "labels": _labels(inp, component)}
    if inp.options.namespace is not None:
        meta["namespace"] = inp.options.namespace
    return meta


def _labels(inp: TargetInput, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": inp.name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "dnne",
    }


def _resources(inp: TargetInput) -> dict[str, Any]:
    amounts: dict[str, Any] = {"cpu": inp.options.cpu, "memory": inp.options.memory}
    limits = dict(amounts)
    if inp.options.gpus:
        limits["nvidia.com/gpu"] = inp.options.gpus
    return {"requests": amounts, "limits": limits}


def _container(inp: TargetInput, name: str, command: list[str]) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name,
        "image": image(inp),
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "args": program_args(inp),
        "resources": _resources(inp),
        "volumeMounts": [{"name": folder, "mountPath": path} for folder, path in FOLDERS],
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }
    return container


def _pod_template(inp: TargetInput, component: str, container: dict[str, Any], restart: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "securityContext": {"runAsNonRoot": True, "runAsUser": APP_UID, "runAsGroup": APP_UID, "fsGroup": APP_UID},
        "containers": [container],
        "volumes": [vol.to_k8s(folder) for (folder, _path), vol in zip(FOLDERS, volumes(inp), strict=True)],
    }
    if restart:
        spec = {"restartPolicy": restart, **spec}
    return {"metadata": {"labels": _labels(inp, component)}, "spec": spec}


def job(inp: TargetInput) -> dict[str, Any]:
    container = _container(inp, "runner", ["python", f"{APP_DIR}/runner.py"])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(inp, "job"),
        "spec": {
            "backoffLimit": inp.options.backoff_limit,
            "template": _pod_template(inp, "job", container, inp.options.restart_policy),
        },
    }


def pytorchjob(inp: TargetInput) -> dict[str, Any]:
    """N pods (1 Master + N-1 Workers), each `torchrun --nproc_per_node K runner.py …`; the operator sets the
    rendezvous (PET_NNODES, PET_NODE_RANK, PET_MASTER_ADDR, PET_MASTER_PORT) that torchrun reads."""
    nproc = str(inp.options.nproc_per_node)
    command = ["torchrun", "--nproc_per_node", nproc, f"{APP_DIR}/runner.py"]

    def replica(count: int) -> dict[str, Any]:
        container = _container(inp, PYTORCH_CONTAINER, command)
        container["ports"] = [{"name": "pytorchjob-port", "containerPort": PYTORCH_PORT}]
        # the replica's restartPolicy governs restarts; the pod template's own stays unset (the operator sets it)
        return {
            "replicas": count,
            "restartPolicy": inp.options.restart_policy,
            "template": _pod_template(inp, "training", container, ""),
        }

    specs = {"Master": replica(1)}
    if inp.options.workers > 1:
        specs["Worker"] = replica(inp.options.workers - 1)
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": _metadata(inp, "training"),
        "spec": {
            "nprocPerNode": nproc,
            "runPolicy": {"backoffLimit": inp.options.backoff_limit, "cleanPodPolicy": "None"},
            "pytorchReplicaSpecs": specs,
        },
    }


def _header(inp: TargetInput, what: str) -> str:
    return (
        f"{what} for the dnne export {inp.name} (generated by dnne {dnne.__version__}; re-export, do not edit).\n"
        f"Image: {image(inp)} (build it with the docker target). Apply: kubectl apply -f <this file>"
    )


def build(inp: TargetInput) -> dict[str, bytes]:
    files = {JOB: dump_yaml(job(inp), _header(inp, "Single-pod Job")).encode()}
    if inp.training:
        header = _header(inp, f"PyTorchJob ({inp.options.workers} pods x {inp.options.nproc_per_node} processes)")
        files[PYTORCHJOB] = dump_yaml(pytorchjob(inp), header).encode()
    return files


def docs(inp: TargetInput) -> str:
    vols = ", ".join(f"`{path}` = `{vol.text()}`" for (_f, path), vol in zip(FOLDERS, volumes(inp), strict=True))
    lines = [
        "## Kubernetes",
        "",
        f"Files: `{JOB}`" + (f", `{PYTORCHJOB}` (Kubeflow training operator v1)" if inp.training else "") + ".",
        "",
        "```sh",
        shlex.join(["kubectl", "apply", "-f", JOB]),
    ]
    if inp.training:
        lines.append(shlex.join(["kubectl", "apply", "-f", PYTORCHJOB]) + "   # data-parallel under torchrun")
    lines += [
        "```",
        "",
        f"Image `{image(inp)}`; each pod requests and is limited to cpu `{inp.options.cpu}`, memory"
        f" `{inp.options.memory}`" + (f", {inp.options.gpus} GPU(s)" if inp.options.gpus else "") + "."
        f" Volumes: {vols} (PersistentVolumeClaims must exist). Restart policy `{inp.options.restart_policy}`,"
        f" backoff limit {inp.options.backoff_limit}. Program: `python {APP_DIR}/runner.py "
        + shlex.join(program_args(inp))
        + "`.",
        "",
    ]
    if inp.training:
        lines += [
            f"The PyTorchJob runs {inp.options.workers} pod(s) (1 Master"
            + (f" + {inp.options.workers - 1} Worker(s)" if inp.options.workers > 1 else "")
            + f"), each `torchrun --nproc_per_node {inp.options.nproc_per_node}`; the operator provides the"
            " rendezvous. Volumes shared by several pods need a ReadWriteMany storage class.",
            "",
        ]
    return "\n".join(lines)


TARGET = Target(
    name="kubernetes",
    writes=f"{JOB} (batch/v1 Job), {PYTORCHJOB} for training workflows (Kubeflow PyTorchJob v1)",
    needs="the image from the docker target; kubectl and a cluster (the PyTorchJob: the Kubeflow training operator)",
    build=build,
    docs=docs,
)
