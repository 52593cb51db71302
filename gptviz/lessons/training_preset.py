"""Which preset the "Training a GPT" demo opens the training view with, and its schedule.

The lecture's model (6 layers, 384 dimensions, context 256) trains in minutes on a CUDA
GPU but would take hours on a laptop CPU; `default` is the preset tuned to learn fastest
on two CPU cores. So: `lecture` where CUDA is available, `default` everywhere else.
"""

from __future__ import annotations

import torch

from ..config import PRESETS, TrainConfig, preset
from ..optim import lr_multiplier

#: The settings the demo lists for a preset, in this order, with what each means.
SHOWN_SETTINGS = {
    "n_layer": "transformer blocks, one after the other",
    "n_head": "attention heads in each block",
    "n_embd": "numbers that describe each character position (C)",
    "block_size": "characters the model reads at once (T)",
    "batch_size": "sequences averaged into each step's loss",
    "max_iters": "optimizer steps in the whole run",
    "optimizer": "the rule that turns gradients into weight changes",
    "lr": "the learning rate at its peak: how big those changes are",
    "dropout": "fraction of activations zeroed while training, against memorising",
}


def preset_for_machine(cuda: bool | None = None) -> str:
    """`lecture` with CUDA, else `default` (cuda=None: ask torch about this machine)."""
    if cuda is None:
        cuda = torch.cuda.is_available()
    return "lecture" if cuda else "default"


def why(name: str, cuda: bool | None = None) -> str:
    """A sentence or two on whether preset `name` suits this machine, and why."""
    if cuda is None:
        cuda = torch.cuda.is_available()
    suggested = preset_for_machine(cuda)
    machine = ("This machine has a CUDA GPU, so it can train the lecture's own model: `lecture`."
               if cuda else
               "This machine has no CUDA GPU, so the preset tuned for a laptop CPU fits best: `default`.")
    if name == suggested:
        return machine
    if name == "lecture":
        return f"{machine} The lecture's model needs a GPU; on a CPU it would take hours."
    if name == "tiny":
        return f"{machine} `tiny` trains in seconds, but is too small to write convincing Shakespeare."
    return f"{machine} `{name}` works too."


def lr_schedule(name: str) -> list[float]:
    """The learning rate the training view will plot at each step of preset `name`."""
    config: TrainConfig = preset(name)
    return [config.lr * lr_multiplier(config, step) for step in range(config.max_iters)]


def preset_names() -> list[str]:
    return list(PRESETS)
