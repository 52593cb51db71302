"""The attention weights of the model being trained, on one prompt, copied out for display.

The window's Attention view shows every layer × head of the current model for a prompt the
learner types. `attention_maps` runs one forward pass of the model's own `return_attention`
path (in eval mode, so dropout is off, under no_grad, then back to the mode it was in) and
returns plain numpy copies, so the training thread that computes them can hand them to the
GUI thread and go on training. It draws no random numbers, so it leaves a run reproducible.

`AttentionWatch` holds what the view asked for (the prompt, how often) behind a lock: the
window sets it from the GUI thread, the training worker reads it between steps.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .tokenizer import CharTokenizer, TokenizerError

DEFAULT_PROMPT = "To be, or not to be: that is"
DEFAULT_EVERY = 100  # steps between refreshes while training; one forward pass of one prompt
MIN_INTERVAL = 0.25  # seconds between refreshes while training, however small `every` is


@dataclass(frozen=True)
class AttentionMaps:
    """Attention weights of every layer and head for one prompt at one step.

    weights[layer, head, query, key] is how much position `query` takes from position `key`
    (rows sum to 1; keys after the query are 0). `prompt` is the text the weights are for:
    the last block_size characters of the prompt asked for. With `error` set nothing was
    computed and weights is empty.
    """
    step: int
    prompt: str
    weights: np.ndarray  # (n_layer, n_head, T, T) float32, owned by this object
    note: str = ""
    error: str | None = None

    @property
    def layers(self) -> int:
        return self.weights.shape[0]

    @property
    def heads(self) -> int:
        return self.weights.shape[1]


def _failed(step: int, prompt: str, error: str) -> AttentionMaps:
    return AttentionMaps(step, prompt, np.zeros((0, 0, 0, 0), dtype=np.float32), error=error)


def attention_maps(model: nn.Module, tokenizer: CharTokenizer, prompt: str, step: int = 0,
                   device: str | torch.device = "cpu") -> AttentionMaps:
    """The model's attention weights for `prompt` (a copy); errors are returned, not raised."""
    if not prompt:
        return _failed(step, prompt, "Type a prompt to see what each position attends to.")
    try:
        ids = tokenizer.encode(prompt)
    except TokenizerError as e:
        return _failed(step, prompt, f"The prompt has {e}.")
    block = model.config.block_size
    note = ""
    if len(ids) > block:
        ids, prompt = ids[-block:], prompt[-block:]
        note = f"the model reads {block} characters: showing the prompt's last {block}"
    idx = torch.from_numpy(ids).to(device)[None, :]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            attention = model(idx, return_attention=True)[2]
    finally:
        model.train(was_training)
    T = len(ids)
    if not attention:
        return AttentionMaps(step, prompt, np.zeros((0, 0, T, T), dtype=np.float32),
                             note="this model (bigram) has no attention")
    weights = torch.stack([a[0] for a in attention]).float().cpu().numpy().copy()  # never a view
    return AttentionMaps(step, prompt, weights, note)


@dataclass(frozen=True)
class AttentionSettings:
    prompt: str = DEFAULT_PROMPT
    every: int = DEFAULT_EVERY  # steps between refreshes while training; 0 = only on request


class AttentionWatch:
    """What the Attention view wants, set from any thread, read by the training worker.

    Refreshes while training come every `every` steps but at most every MIN_INTERVAL
    seconds: a tiny model with every = 1 would otherwise send hundreds of maps a second,
    more than the GUI thread can draw (a 4 × 4 grid of 64² maps is ~16 images to paint).
    """

    def __init__(self, settings: AttentionSettings | None = None, min_interval: float | None = None):
        self._lock = threading.Lock()
        self._settings = settings or AttentionSettings()
        self.min_interval = MIN_INTERVAL if min_interval is None else min_interval
        self._last = -float("inf")  # perf_counter() of the last computation

    @property
    def settings(self) -> AttentionSettings:
        with self._lock:
            return self._settings

    def configure(self, settings: AttentionSettings) -> None:
        with self._lock:
            self._settings = settings

    def due(self, step: int) -> bool:
        """Whether the training loop should refresh the maps after reaching `step`."""
        every = self.settings.every
        return every > 0 and step % every == 0 and time.perf_counter() - self._last >= self.min_interval

    def compute(self, model: nn.Module, tokenizer: CharTokenizer, step: int,
                device: str | torch.device = "cpu") -> AttentionMaps:
        self._last = time.perf_counter()
        return attention_maps(model, tokenizer, self.settings.prompt, step, device)
