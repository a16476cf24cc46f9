"""A private docker daemon for the slow docker test: started by PID on its own socket and data root, stopped by
PID; plus a registry-free Debian base image (debootstrap, cached between runs). Nothing here reaches a registry."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

BASE_TAG = "local/debian-py:bookworm"
DEBIAN_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


def cache_dir() -> Path:
    """Where the debootstrapped base image is kept between runs (DNNE_TEST_CACHE overrides)."""
    root = os.environ.get("DNNE_TEST_CACHE") or Path.home() / ".cache" / "dnne-tests"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def apt_mirror() -> str:
    """The Debian mirror apt uses on this machine (first `URIs:`/`deb` line naming a debian archive)."""
    sources = sorted(Path("/etc/apt").glob("sources.list.d/*.sources")) + [Path("/etc/apt/sources.list")]
    for path in sources:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for line in lines:
            words = line.split()
            if len(words) >= 2 and words[0] == "URIs:" and words[1].rstrip("/").endswith("/debian"):
                return words[1]
            if len(words) >= 3 and words[0] == "deb" and words[1].rstrip("/").endswith("/debian"):
                return words[1]
    return DEFAULT_MIRROR


def base_rootfs_tar(log=print) -> Path:
    """A tar of a minimal Debian bookworm with python3 (debootstrap --variant=minbase), built once and cached."""
    tar = cache_dir() / f"debian-py-{DEBIAN_SUITE}.tar"
    if tar.is_file():
        return tar
    work = cache_dir() / "rootfs.tmp"
    shutil.rmtree(work, ignore_errors=True)
    log(f"debootstrap {DEBIAN_SUITE} into {work} (about 2 minutes, once)")
    subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=python3", DEBIAN_SUITE, str(work), apt_mirror()],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    partial = tar.with_suffix(".tar.part")
    subprocess.run(["tar", "-C", str(work), "-cf", str(partial), "."], check=True)
    os.replace(partial, tar)
    shutil.rmtree(work, ignore_errors=True)
    return tar


class Dockerd:
    """`dockerd` on a private socket and data root under `root`; `stop()` ends it by its PID only."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.socket = self.root / "docker.sock"
        self.proc: subprocess.Popen | None = None
        self.env = dict(os.environ, DOCKER_HOST=f"unix://{self.socket}")

    def start(self, timeout: float = 30.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.root / "dockerd.log", "wb")
        self.proc = subprocess.Popen(
            [
                "dockerd",
                "--data-root",
                str(self.root / "data"),
                "--exec-root",
                str(self.root / "exec"),
                "--host",
                f"unix://{self.socket}",
                "--pidfile",
                str(self.root / "dockerd.pid"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited ({self.proc.returncode}): {self.log_tail()}")
            if self.docker("version", check=False, capture=True).returncode == 0:
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"dockerd did not answer within {timeout:.0f}s: {self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return (self.root / "dockerd.log").read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def docker(self, *args: str, check: bool = True, capture: bool = False, timeout: float | None = None, **kw):
        return subprocess.run(
            ["docker", *args],
            env=self.env,
            check=check,
            capture_output=capture,
            text=True,
            timeout=timeout,
            **kw,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.unmount_leftovers()

    def unmount_leftovers(self) -> None:
        """dockerd bind-mounts its data root (and overlays under it); a daemon that died early can leave them.
        Only mounts under this daemon's own root are touched, deepest first."""
        root = str(self.root.resolve())
        try:
            lines = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
        except OSError:
            return
        points = [line.split()[1] for line in lines if len(line.split()) > 1]
        for point in sorted((p for p in points if p == root or p.startswith(root + "/")), key=len, reverse=True):
            subprocess.run(["umount", point], check=False, capture_output=True)


if __name__ == "__main__":  # warm the cache: python tests/targets/docker_host.py
    print(base_rootfs_tar())
