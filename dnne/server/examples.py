"""Copy dnne's bundled example workflows into a new work directory (once, on first start)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dnne

MARKER = ".dnne-examples-copied"

# file stem -> (title, description) shown in the editor's Templates panel
EXAMPLES = {
    "mnist_mlp": ("MNIST: MLP classifier", "A 784-256-128-10 multilayer perceptron with batch norm, trained with Adam on "
                  "the real MNIST digits (offline); about 98 % test accuracy after 2 epochs on a CPU."),
    "mnist_cnn": ("MNIST: CNN classifier", "Two convolution + max-pool blocks and a linear head, with a learning-rate "
                  "schedule, trained on MNIST; evaluates on the test split every epoch."),
    "fashion_mnist_cnn": ("Fashion-MNIST: CNN", "The MNIST CNN on Fashion-MNIST clothing images (10 classes)."),
    "cartpole_ppo": ("Cartpole: PPO", "Reinforcement learning: a PPO agent balances a pole on vectorised torch "
                     "Cartpole environments and stops by itself once solved (mean episode length near 500)."),
    "ant_ppo": ("Ant: PPO (Isaac Gym)", "PPO on the Ant robot; uses Isaac Gym where installed, else a MuJoCo Ant."),
}  # fmt: skip


def examples_dirs() -> list[Path]:
    """Where the examples live: inside the package (in a checkout dnne/examples links to the root examples/)."""
    package = Path(dnne.__file__).resolve().parent
    return [d for d in (package / "examples",) if d.is_dir()]


def seed_examples(workflows_dir: Path) -> list[str]:
    """Copy every `examples/*.json` into `workflows_dir` the first time; never overwrite a user's file."""
    marker = workflows_dir.parent / MARKER
    if marker.exists():
        return []
    copied = []
    for folder in examples_dirs():
        for example in sorted(folder.glob("*.json")):
            target = workflows_dir / example.name
            if not target.exists():
                shutil.copyfile(example, target)
                copied.append(example.name)
    marker.write_text("examples were copied into workflows/ on first start; delete this file to copy them again\n")
    return copied
