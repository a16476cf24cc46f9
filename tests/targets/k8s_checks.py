"""Offline schema checks for generated manifests: core kinds with `kubernetes-validate` (its bundled OpenAPI
schemas), the PyTorchJob against the training operator's real CRD (read from ../shared/k8s-crds, never copied),
plus the enum values neither checks. Every problem comes back as (path, message)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

CRD_DIR = Path(__file__).resolve().parents[3] / "shared" / "k8s-crds"
PYTORCHJOB_CRD = CRD_DIR / "kubeflow.org_pytorchjobs.yaml"
POD_RESTART = ("Always", "OnFailure", "Never")
JOB_POD_RESTART = ("OnFailure", "Never")
REPLICA_RESTART = ("Always", "OnFailure", "Never", "ExitCode")
PULL_POLICIES = ("Always", "Never", "IfNotPresent")


def core_problems(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """kubernetes-validate --strict on a core kind (Job, PodTemplate, …)."""
    import kubernetes_validate

    try:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [("/".join(str(p) for p in exc.path), exc.message)]
    return []


@functools.cache
def _crd_schema(path: Path) -> dict[str, Any]:
    import yaml

    crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    (version,) = [v for v in crd["spec"]["versions"] if v.get("storage")]
    return _closed(version["schema"]["openAPIV3Schema"])


def _closed(schema: Any) -> Any:
    """Objects that do not preserve unknown fields reject them (as the API server prunes/rejects them)."""
    if isinstance(schema, list):
        return [_closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _closed(v) for k, v in schema.items()}
    if (
        out.get("type") == "object"
        and "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _with_defaults(instance: Any, schema: dict[str, Any]) -> Any:
    """`instance` with the schema's defaults filled in, as the API server does before validating."""
    if isinstance(instance, dict) and schema.get("type") == "object":
        props = schema.get("properties", {})
        for key, sub in props.items():
            if key not in instance and "default" in sub:
                instance[key] = copy.deepcopy(sub["default"])
        for key, value in instance.items():
            if key in props:
                instance[key] = _with_defaults(value, props[key])
            elif isinstance(schema.get("additionalProperties"), dict):
                instance[key] = _with_defaults(value, schema["additionalProperties"])
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        return [_with_defaults(item, schema["items"]) for item in instance]
    return instance


def crd_problems(doc: dict[str, Any], crd: Path = PYTORCHJOB_CRD) -> list[tuple[str, str]]:
    import jsonschema

    schema = _crd_schema(crd)
    instance = _with_defaults(copy.deepcopy(doc), schema)
    validator = jsonschema.Draft7Validator(schema)
    return sorted(("/".join(str(p) for p in e.absolute_path), e.message) for e in validator.iter_errors(instance))


def enum_problems(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The enums neither check above enforces (restartPolicy, imagePullPolicy)."""
    problems = []

    def pod(spec: dict[str, Any], where: str, restarts: tuple[str, ...]) -> None:
        if "restartPolicy" in spec and spec["restartPolicy"] not in restarts:
            problems.append((f"{where}/restartPolicy", f"{spec['restartPolicy']!r} is not one of {restarts}"))
        for n, container in enumerate(spec.get("containers", [])):
            policy = container.get("imagePullPolicy")
            if policy is not None and policy not in PULL_POLICIES:
                problems.append((f"{where}/containers/{n}/imagePullPolicy", f"{policy!r} not in {PULL_POLICIES}"))

    if doc.get("kind") == "Job":
        pod(doc["spec"]["template"]["spec"], "spec/template/spec", JOB_POD_RESTART)
    if doc.get("kind") == "PyTorchJob":
        for role, replica in doc["spec"]["pytorchReplicaSpecs"].items():
            where = f"spec/pytorchReplicaSpecs/{role}"
            if replica.get("restartPolicy") not in REPLICA_RESTART:
                problems.append(
                    (f"{where}/restartPolicy", f"{replica.get('restartPolicy')!r} not in {REPLICA_RESTART}")
                )
            pod(replica["template"]["spec"], f"{where}/template/spec", POD_RESTART)
    return problems


def pod_templates(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each PyTorchJob replica's pod template wrapped as a core PodTemplate (so kubernetes-validate checks it)."""
    return [
        (role, {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}, "template": r["template"]})
        for role, r in doc["spec"]["pytorchReplicaSpecs"].items()
    ]


def all_problems(doc: dict[str, Any]) -> list[tuple[str, str]]:
    if doc.get("kind") == "PyTorchJob":
        found = crd_problems(doc)
        for role, template in pod_templates(doc):
            found += [(f"spec/pytorchReplicaSpecs/{role}/{p}", m) for p, m in core_problems(template)]
    else:
        found = core_problems(doc)
    return found + enum_problems(doc)
