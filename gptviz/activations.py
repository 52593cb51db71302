"""What every layer's activations look like during one training step: histograms, and the
share of dead or saturated units (the lecture's "activation statistics", live).

A loss curve can look healthy while MLP neurons die (they never fire again, so they never
learn again) or attention heads collapse onto one key (their softmax stops passing
gradient). These statistics show both, per layer, at the diagnostics cadence.

`ActivationProbe.recording()` installs forward hooks for one step and removes them
afterwards, so steps without diagnostics pay nothing. The hooks keep what the forward
pass computes anyway (the MLP's pre-activation is the output of `mlp.c_fc`; the attention
sublayer's output is its module's output); when the recording ends, they become small
results: a 64-bin histogram and a few percentages per site, as plain floats and numpy
arrays. A batch split across threads (batch_shards.py) is recorded shard by shard
(`ActivationProbe.shard(i)` on each thread) and put back together in shard order, so the
statistics are those of the whole batch either way.

Sites, for each transformer block i (in model order):

- ``blocks.i.mlp`` — the MLP's hidden activations ``act(h)``, ``h = c_fc(ln_2(x))``, of
  shape (batch, time, 4·n_embd); a *unit* is one of the 4·n_embd hidden neurons.
  The *flat region* of the nonlinearity is where its gradient vanishes:
  ReLU²: ``h <= 0`` (output and slope exactly 0);
  GELU: ``h < GELU_FLAT_BELOW`` = -3 (``|GELU(h)| < 0.0041`` and slope ``< 0.012``).
  ``saturated`` = % of (token, unit) activations in the flat region, over every token of
  the batch (the analogue of the lecture's "% of tanh outputs beyond ±0.97").
  ``dead`` = % of units in the flat region for *every* token of the batch: for this batch
  they pass neither signal nor gradient.
- ``blocks.i.attn`` — the attention sublayer's output ``c_proj(softmax(qkᵀ/√d)·v)``, what it
  adds to the residual stream (the histogram), and its softmax weights: ``saturated`` =
  % of attention rows (one per sequence, head and query position t ≥ 1) whose largest
  weight exceeds ``ATTENTION_SATURATED`` = 0.99 — the head looks at a single key and its
  softmax gradient nearly vanishes. Position 0 is left out: it can only attend to itself,
  weight 1 by construction. ``dead`` is NaN. The training forward pass uses a fused
  attention kernel that never forms the weights, so they are recomputed from the
  sublayer's input with the module's own code, for the first ``ATTENTION_SEQUENCES``
  sequences of the batch, without gradients and in eval mode (no dropout: the run's
  random stream is untouched).

Histograms: counts as ``torch.histc`` counts them (metrics.bin_counts) over [min, max] of up
to ``HISTOGRAM_VALUES`` values (every k-th token's, evenly spaced through the batch), divided
by the number of values, so each histogram's bins sum to 1 whatever the model size (less
any non-finite values, which are left out). Percentages use every token.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .batch_shards import map_parts
from .metrics import HISTOGRAM_BINS, Histogram, bin_counts
from .model import MLP, CausalSelfAttention

GELU_FLAT_BELOW = -3.0  # GELU(h) for h below this is within 0.0041 of 0, its slope under 0.012
ATTENTION_SATURATED = 0.99  # a softmax row whose top weight exceeds this looks at one key
ATTENTION_SEQUENCES = 2  # sequences of the batch whose attention weights are recomputed (~0.6 ms a layer)
HISTOGRAM_VALUES = 1 << 14  # at most this many values go into one histogram (see _spread_rows)


@dataclass
class ActivationStats:
    """One site's statistics at one step (plain Python and numpy: safe to hand on)."""
    kind: str  # "mlp" or "attn"
    histogram: Histogram  # counts are fractions of the values histogrammed (they sum to 1)
    saturated: float  # percent; see the module docstring for each kind's definition
    dead: float  # percent of MLP units dead for the whole batch; NaN for attention
    mean: float
    std: float


class ActivationProbe:
    """Forward hooks on a GPT's MLPs and attention sublayers, present only while recording.

    A model without transformer blocks (the bigram baseline) has no sites: recording it
    yields an empty result.
    """

    def __init__(self, model: torch.nn.Module):
        self.sites: list[tuple[str, torch.nn.Module]] = [
            (name, module) for name, module in model.named_modules()
            if isinstance(module, (MLP, CausalSelfAttention))]
        self._local = threading.local()  # which shard of the batch this thread runs

    @contextmanager
    def shard(self, index: int) -> Iterator[None]:
        """The forward passes on this thread, inside the block, are shard `index` of the batch."""
        self._local.index = index
        try:
            yield
        finally:
            self._local.index = 0

    @contextmanager
    def recording(self, threads: int = 1) -> Iterator[dict[str, ActivationStats]]:
        """Hooks in for the enclosed forward pass(es); yields the dict the statistics go
        into, in model order, once the block is over (computed on up to `threads` threads,
        batch_shards.map_parts). The hooks are removed however the block ends; if it
        raises, nothing is computed."""
        captured: dict[str, dict[int, tuple]] = {name: {} for name, _ in self.sites}
        handles = []
        for name, module in self.sites:
            target = module.c_fc if isinstance(module, MLP) else module
            handles.append(target.register_forward_hook(self._capture(captured[name])))
        results: dict[str, ActivationStats] = {}
        try:
            yield results
        finally:
            for handle in handles:
                handle.remove()
        sites = [(name, module, [captured[name][i] for i in sorted(captured[name])])
                 for name, module in self.sites if captured[name]]

        def stats(part: list) -> list[tuple[str, ActivationStats]]:
            return [(name, _site_stats(module, shards)) for name, module, shards in part]

        for part in map_parts(stats, sites, threads):
            results.update(part)

    def _capture(self, into: dict[int, tuple]):
        def hook(module, args, output):
            out, weights = output if isinstance(output, tuple) else (output, None)
            first = args[0].detach()[:ATTENTION_SEQUENCES]  # for attention weights (see above)
            into[getattr(self._local, "index", 0)] = (out.detach(), weights, first)
        return hook


def _site_stats(module: torch.nn.Module, shards: list[tuple]) -> ActivationStats:
    """One site's statistics from what its hook kept of each shard (in shard order)."""
    with torch.no_grad():
        out = shards[0][0] if len(shards) == 1 else torch.cat([s[0] for s in shards])
        if isinstance(module, MLP):
            return mlp_stats(out, module.relu2)
        if all(s[1] is not None for s in shards):
            weights = torch.cat([s[1][:ATTENTION_SEQUENCES] for s in shards])
        else:
            first = torch.cat([s[2] for s in shards])[:ATTENTION_SEQUENCES]
            weights = attention_weights(module, first)
        return attention_stats(out, weights[:ATTENTION_SEQUENCES])


# -- the statistics (also usable on their own, e.g. by tests) ------------------------------------

@torch.no_grad()
def mlp_stats(pre_activation: torch.Tensor, relu2: bool) -> ActivationStats:
    """Statistics of the MLP hidden layer from its pre-activation h (..., units)."""
    units = pre_activation.shape[-1]
    h = pre_activation.reshape(-1, units)
    flat = h <= 0 if relu2 else h < GELU_FLAT_BELOW
    top = h.amax(dim=0)  # a unit is flat for every token when its largest pre-activation is
    dead_units = top <= 0 if relu2 else top < GELU_FLAT_BELOW
    # (not flat.sum(dim=0): it converts the whole mask to int64 first, ~1 ms a layer for `default`)
    saturated, dead = (100.0 * torch.stack([flat.sum() / flat.numel(), dead_units.sum() / units])).tolist()
    sample = _spread_rows(h)
    act = F.relu(sample).square() if relu2 else F.gelu(sample)
    return ActivationStats("mlp", histogram(act), saturated, dead, *_mean_std(act))


@torch.no_grad()
def attention_stats(output: torch.Tensor, weights: torch.Tensor) -> ActivationStats:
    """Statistics of an attention sublayer: its output (..., n_embd) and its softmax
    weights (batch, heads, T, T), of which rows 1.. (query positions t ≥ 1) count."""
    sample = _spread_rows(output.reshape(-1, output.shape[-1]))
    top = weights[:, :, 1:, :].amax(dim=-1)  # each row's largest weight
    saturated = 100.0 * float((top > ATTENTION_SATURATED).float().mean()) if top.numel() else math.nan
    return ActivationStats("attn", histogram(sample), saturated, math.nan, *_mean_std(sample))


@torch.no_grad()
def attention_weights(module: CausalSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """The module's softmax weights (B, heads, T, T) for input x, by its own explicit path,
    in eval mode (no dropout, so no random numbers drawn)."""
    was_training = module.training
    module.train(False)
    try:
        _, weights = module.forward(x, return_weights=True)
    finally:
        module.train(was_training)
    return weights


@torch.no_grad()
def histogram(values: torch.Tensor, bins: int = HISTOGRAM_BINS) -> Histogram:
    """Bins over [min, max] of the values, as fractions of their number (a copy)."""
    v = values.detach().float().flatten()
    counts, lo, hi = bin_counts(v, bins)
    return Histogram((counts / max(v.numel(), 1)).cpu().numpy().astype(np.float32), lo, hi)


def _spread_rows(rows: torch.Tensor, budget: int = HISTOGRAM_VALUES) -> torch.Tensor:
    """Every k-th row, k chosen so that at most `budget` values remain (at least one row).

    The budget keeps these tensors under torch's parallel grain size (32k elements): ops on
    them run on this thread alone, with no OpenMP hand-off, which on a busy 2-core machine
    costs more than the work itself (measured here under load: 5-8 ms per histc or aminmax
    of 65k values, against ~0.2 ms when the machine is quiet).
    """
    per_row = max(rows.shape[-1], 1)
    stride = max(1, math.ceil(rows.shape[0] * per_row / budget))
    return rows[::stride]


def _mean_std(values: torch.Tensor) -> tuple[float, float]:
    if values.numel() < 2:
        return float(values.float().mean()) if values.numel() else math.nan, 0.0
    std, mean = torch.std_mean(values.float())
    return float(mean), float(std)
