"""Supervised-learning helpers for exported programs: layer building, shape inference, optimizers, evaluation and
the end-of-step coordination of the training loop. Modules are imported by the generated node classes."""

# the other runtime packs this one imports (an export that vendors ml vendors them too)
REQUIRES = ("data", "reporting")
