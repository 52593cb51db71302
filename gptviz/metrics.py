"""What one optimizer step reports, and the optional diagnostics behind the plots.

Diagnostics are computed with torch on the trainer's side; only small results leave
it: one float per parameter for norms and ratios, and the bin counts of histograms.
Everything returned is a copy (plain floats and numpy arrays), safe to hand to
another thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

HISTOGRAM_BINS = 64


@dataclass
class Histogram:
    counts: np.ndarray  # float32, HISTOGRAM_BINS values
    lo: float
    hi: float

    @property
    def edges(self) -> np.ndarray:
        return np.linspace(self.lo, self.hi, len(self.counts) + 1)


@dataclass
class StepMetrics:
    step: int  # optimizer steps completed, counting this one
    loss: float
    lr: float
    grad_norm: float  # global L2 norm of all gradients, before clipping
    tokens_per_sec: float
    dt: float  # seconds this step took
    grad_norms: dict[str, float] = field(default_factory=dict)
    update_ratios: dict[str, float] = field(default_factory=dict)  # std(Δparam) / std(param)
    histograms: dict[str, Histogram] = field(default_factory=dict)  # of the gradients
    activations: dict = field(default_factory=dict)  # site -> activations.ActivationStats
    time: float | None = None  # seconds in optimizer steps since the run started (Trainer.elapsed)

    def row(self) -> dict:
        """The line written to metrics.jsonl for this step (`time` only when known)."""
        row = {"step": self.step, "loss": self.loss, "lr": self.lr,
               "grad_norm": self.grad_norm, "tokens_per_sec": self.tokens_per_sec}
        if self.time is not None:
            row["time"] = self.time
        return row


@dataclass
class EvalMetrics:
    step: int
    train_loss: float
    val_loss: float

    def row(self) -> dict:
        return {"step": self.step, "train_loss": self.train_loss, "val_loss": self.val_loss}


def is_weight_matrix(name: str) -> bool:
    """Whether a parameter's update:data ratio is worth watching (guessed from its name).

    Like the lecture, only weight matrices: biases start at zero and LayerNorm gains at
    one, so their std(p) is ~0 and their ratio is noise.
    """
    module, _, kind = name.rpartition(".")
    last = module.rpartition(".")[2]
    return kind == "weight" and not last.startswith("ln") and "norm" not in last


def named_trainable(model: torch.nn.Module) -> list[tuple[str, torch.Tensor]]:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


@torch.no_grad()
def grad_norms(named: list[tuple[str, torch.Tensor]]) -> dict[str, float]:
    pairs = [(n, p.grad) for n, p in named if p.grad is not None]
    if not pairs:
        return {}
    norms = torch._foreach_norm([g for _, g in pairs])
    values = torch.stack(norms).tolist()
    return {n: v for (n, _), v in zip(pairs, values)}


@torch.no_grad()
def grad_histograms(named: list[tuple[str, torch.Tensor]],
                    bins: int = HISTOGRAM_BINS) -> dict[str, Histogram]:
    out = {}
    for name, p in named:
        if p.grad is not None:
            counts, lo, hi = bin_counts(p.grad.detach().float().flatten(), bins)
            out[name] = Histogram(counts.cpu().numpy().astype(np.float32), lo, hi)
    return out


@torch.no_grad()
def bin_counts(values: torch.Tensor, bins: int = HISTOGRAM_BINS) -> tuple[torch.Tensor, float, float]:
    """(counts, lo, hi): how many of the (flat, float) values fall in each of `bins` equal
    bins over [lo, hi] = [min, max], the maximum in the last bin: what torch.histc counts
    (equal, bin for bin, on 300 random tests), in ~0.4x its time (64 bins of 65k values:
    0.14 ms against 0.36). Non-finite values are left out (a step whose gradients hold one
    is rejected right after its diagnostics: they must not fail first)."""
    lo, hi = (float(t) for t in torch.aminmax(values)) if values.numel() else (0.0, 0.0)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        values = values[torch.isfinite(values)]
        return bin_counts(values, bins) if values.numel() else (torch.zeros(bins), 0.0, 0.0)
    if lo == hi:
        lo, hi = lo - 1e-12, hi + 1e-12
    index = (values - lo).mul_(bins).div_(hi - lo).to(torch.int64).clamp_(max=bins - 1)
    return torch.bincount(index, minlength=bins).float(), lo, hi


@torch.no_grad()
def snapshot(named: list[tuple[str, torch.Tensor]]) -> list[torch.Tensor]:
    return [p.detach().clone() for _, p in named]


@torch.no_grad()
def update_ratios(named: list[tuple[str, torch.Tensor]],
                  before: list[torch.Tensor]) -> dict[str, float]:
    """std(param_after - param_before) / std(param_after) for each parameter."""
    out = {}
    for (name, p), old in zip(named, before):
        if p.numel() < 2:
            continue
        std = p.std()
        ratio = (p - old).std() / std if std > 0 else torch.tensor(float("nan"))
        out[name] = float(ratio)
    return out
