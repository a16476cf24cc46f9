"""The generated manifests pass the real schemas; a mutated manifest fails, naming the path of the problem."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from dnne.targets import DeployOptions, build_with_targets, select_targets

from .k8s_checks import PYTORCHJOB_CRD, all_problems

yaml = pytest.importorskip("yaml", reason="the kubernetes target needs PyYAML (pip install 'dnne[deploy]')")
pytest.importorskip("kubernetes_validate", reason="pip install 'dnne[deploy]' for the schema checks")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
needs_crd = pytest.mark.skipif(not PYTORCHJOB_CRD.is_file(), reason=f"no CRD schemas at {PYTORCHJOB_CRD.parent}")
OPTION_SETS = {
    "defaults": DeployOptions(),
    "custom": DeployOptions(
        namespace="ml",
        cpu="250m",
        memory="512Mi",
        gpus=2,
        workers=3,
        nproc_per_node=2,
        restart_policy="Never",
        backoff_limit=0,
        data_volume="host:/srv/data",
        runs_volume="empty",
        checkpoints_volume="pvc:ckpt",
        program_args=("--epochs", "1"),
    ),
    "one_worker": DeployOptions(workers=1),
}


def _manifests(workflow: str, options: DeployOptions) -> dict[str, dict]:
    files = build_with_targets(EXAMPLES / workflow, targets=select_targets("kubernetes"), options=options).contents
    return {rel: yaml.safe_load(data) for rel, data in files.items() if rel.startswith("k8s/")}


@pytest.mark.parametrize("options", sorted(OPTION_SETS))
@pytest.mark.parametrize("workflow", ["mnist_mlp.json", "cartpole_ppo.json"])
def test_job_passes_kubernetes_validate(workflow, options):
    job = _manifests(workflow, OPTION_SETS[options])["k8s/job.yaml"]
    assert job["kind"] == "Job"
    assert all_problems(job) == []


@needs_crd
@pytest.mark.parametrize("options", sorted(OPTION_SETS))
@pytest.mark.parametrize("workflow", ["mnist_mlp.json", "cartpole_ppo.json"])
def test_pytorchjob_passes_the_crd_schema(workflow, options):
    opts = OPTION_SETS[options]
    job = _manifests(workflow, opts)["k8s/pytorchjob.yaml"]
    assert all_problems(job) == []
    specs = job["spec"]["pytorchReplicaSpecs"]
    assert specs["Master"]["replicas"] == 1
    assert specs.get("Worker", {"replicas": 0})["replicas"] == opts.workers - 1
    container = specs["Master"]["template"]["spec"]["containers"][0]
    assert container["name"] == "pytorch" and container["command"][0] == "torchrun"
    assert job["spec"]["nprocPerNode"] == str(opts.nproc_per_node)


def _set(doc: dict, path: str, value) -> dict:
    doc = copy.deepcopy(doc)
    *parents, last = path.split("/")
    node = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return doc


JOB_MUTATIONS = [
    ("spec/backoffLimit", "three", "spec/backoffLimit"),
    ("spec/template/spec/containers/0/imagePullPolcy", "Always", "spec/template/spec/containers/0"),
    ("spec/template/spec/containers/0/resources/limits/cpu", [2], "spec/template/spec/containers/0/resources"),
    ("spec/template/spec/restartPolicy", "Sometimes", "spec/template/spec/restartPolicy"),
    ("spec/template/spec/volumes/0/emptyDir", "yes", "spec/template/spec/volumes/0/emptyDir"),
]


@pytest.mark.parametrize("path, value, where", JOB_MUTATIONS)
def test_mutated_job_fails_naming_the_path(path, value, where):
    job = _manifests("mnist_mlp.json", DeployOptions())["k8s/job.yaml"]
    problems = all_problems(_set(job, path, value))
    assert problems, f"the mutation of {path} went unnoticed"
    assert any(p.startswith(where) for p, _m in problems), problems


PYTORCHJOB_MUTATIONS = [
    ("spec/pytorchReplicaSpecs/Worker/replicas", "two", "spec/pytorchReplicaSpecs/Worker/replicas"),
    ("spec/runPolicy/backofLimit", 3, "spec/runPolicy"),
    ("spec/nprocPerNode", 2, "spec/nprocPerNode"),
    ("spec/pytorchReplicaSpecs/Master/restartPolicy", "Sometimes", "spec/pytorchReplicaSpecs/Master/restartPolicy"),
    (
        "spec/pytorchReplicaSpecs/Master/template/spec/containers/0/ports/0/containerPort",
        "23456",
        "spec/pytorchReplicaSpecs/Master/template/spec/containers/0/ports/0/containerPort",
    ),
    ("spec/pytorchReplicaSpecs/Worker/template/spec/containers/0/volumeMount", [], "spec/pytorchReplicaSpecs/Worker"),
]


@needs_crd
@pytest.mark.parametrize("path, value, where", PYTORCHJOB_MUTATIONS)
def test_mutated_pytorchjob_fails_naming_the_path(path, value, where):
    job = _manifests("mnist_mlp.json", DeployOptions())["k8s/pytorchjob.yaml"]
    problems = all_problems(_set(job, path, value))
    assert problems, f"the mutation of {path} went unnoticed"
    assert any(p.startswith(where) for p, _m in problems), problems
