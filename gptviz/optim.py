"""Optimizers and the learning-rate schedule.

AdamW decays only the matrices and embeddings (parameters with 2 or more dimensions),
never biases or LayerNorm gains. Optionally the hidden matrices of the transformer
blocks are trained with Muon instead: momentum whose update is orthogonalised by a few
Newton-Schulz iterations, as in the public "modded-nanoGPT" speedruns. The Muon
matrices get no weight decay (weight_decay applies to the AdamW share only).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
from torch.optim.adamw import adamw as adamw_update

from . import batch_shards
from .config import TrainConfig


def zeropower_newton_schulz(g: torch.Tensor, steps: int = 5) -> torch.Tensor:
    """An approximately orthogonal matrix with g's singular vectors (quintic iteration).

    The coefficients (3.4445, -4.7750, 2.0315) are the ones published with Muon; they
    push every singular value into roughly [0.7, 1.2] in five steps.
    """
    a, b, c = 3.4445, -4.7750, 2.0315
    x = g / (g.norm() + 1e-7)
    transposed = x.size(0) > x.size(1)
    if transposed:
        x = x.T
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if transposed else x


class Muon(torch.optim.Optimizer):
    """Nesterov momentum, then an orthogonalised update scaled for the matrix's shape.

    Each matrix's update is independent of the others', so `step(shards=n)` shares the
    matrices out between n threads (batch_shards.share_out: each thread takes the dearest
    matrix left whenever it is free, so one held up by another program or the window's GUI
    thread takes fewer); every matrix gets the same arithmetic either way. Against fixed
    halves (`default`, alternating blocks of 15 steps): 1.010x and 1.009x as fast; beside a
    thread taking 4 % of a core in 6 ms bursts, 1.007x and 0.984x (the machine's noise).
    """

    def __init__(self, params, lr: float = 0.02, momentum: float = 0.95, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None, shards: int = 1):
        work = [(group, p) for group in self.param_groups for p in group["params"]
                if p.grad is not None]
        for _, p in work:
            if "momentum_buffer" not in self.state[p]:
                self.state[p]["momentum_buffer"] = torch.zeros_like(p)
        batch_shards.share_out(self._update, work, shards, cost=lambda item: _newton_schulz_cost(item[1]))

    def _update(self, item: tuple) -> None:
        group, p = item
        with torch.no_grad():  # (grad mode is per thread)
            buf = self.state[p]["momentum_buffer"]
            buf.lerp_(p.grad, 1 - group["momentum"])
            update = p.grad.lerp(buf, group["momentum"])
            update = zeropower_newton_schulz(update)
            scale = max(1.0, p.size(0) / p.size(1)) ** 0.5
            if group["weight_decay"]:
                p.mul_(1 - group["lr"] * group["weight_decay"])
            p.add_(update, alpha=-group["lr"] * scale)


class AdamW(torch.optim.AdamW):
    """torch's AdamW, which can also update its parameters in fixed parts, each on its own
    thread: `step(parts=[...])` updates part i as batch_shards.run runs shard i. A split
    step passes the parts whose gradients each thread added up (shard_grads.py), so a part's
    gradients, moments and weights stay with one core. Each tensor gets the same arithmetic
    either way: the fused kernel updates each tensor on its own. Only the fused update with
    its defaults (no amsgrad, maximize, capturable, differentiable, found_inf) is split, and
    only once the moments exist (torch makes them on the first step); else one thread."""

    def step(self, closure=None, parts: list[list[torch.Tensor]] | None = None):
        if parts is None or len(parts) < 2 or closure is not None or not self._splittable():
            return super().step(closure)
        group_of = {p: group for group in self.param_groups for p in group["params"]}
        jobs = [[(group, [p for p in part if group_of.get(p) is group and p.grad is not None])
                 for group in self.param_groups] for part in parts]
        scale = getattr(self, "grad_scale", None)
        batch_shards.run(lambda i: self._update(jobs[i], scale), len(parts))
        return None

    def _splittable(self) -> bool:
        if getattr(self, "found_inf", None) is not None:
            return False
        for group in self.param_groups:
            if not group["fused"] or any(group[flag] for flag in (
                    "amsgrad", "maximize", "capturable", "differentiable")):
                return False
            if any(p.grad is not None and "exp_avg" not in self.state[p] for p in group["params"]):
                return False
        return True

    def _update(self, jobs: list, scale: torch.Tensor | None) -> None:
        with torch.no_grad():  # (grad mode is per thread)
            for group, params in jobs:
                if not params:
                    continue
                state = [self.state[p] for p in params]
                beta1, beta2 = group["betas"]
                adamw_update(params, [p.grad for p in params], [s["exp_avg"] for s in state],
                             [s["exp_avg_sq"] for s in state], [], [s["step"] for s in state],
                             fused=True, grad_scale=scale, amsgrad=False, beta1=beta1, beta2=beta2,
                             lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"],
                             maximize=False)


def _newton_schulz_cost(p: torch.Tensor) -> int:
    """Multiply-adds of one Newton-Schulz iteration on p (s x l, s <= l): X X^T, its square,
    and that times X."""
    s, l = sorted(p.shape[-2:])
    return 2 * s * s * l + s ** 3


def _hidden_matrices(model: nn.Module) -> set[str]:
    """Names of the 2-D weights inside the transformer blocks (Muon's share)."""
    return {name for name, p in model.named_parameters()
            if p.dim() == 2 and name.startswith("blocks.")}


def build_optimizers(model: nn.Module, config: TrainConfig, device_type: str = "cpu"):
    """A list of optimizers that together cover every parameter exactly once."""
    muon_names = _hidden_matrices(model) if config.optimizer == "muon" else set()
    decay, no_decay, muon = [], [], []
    for name, p in model.named_parameters():  # a tied weight is listed once
        if name in muon_names:
            muon.append(p)
        elif p.dim() >= 2:
            decay.append(p)
        else:
            no_decay.append(p)
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    adamw = AdamW(
        [g for g in groups if g["params"]], lr=config.lr, betas=(config.beta1, config.beta2),
        # The fused kernel updates every tensor in one pass: on this 2-core CPU it takes the
        # `cpu` preset's AdamW step from ~1.2-1.9 ms to ~0.35-0.45 ms (benchmarks/bench_train.py).
        fused=device_type in ("cpu", "cuda"),
    )
    optimizers: list[torch.optim.Optimizer] = [adamw]
    if muon:
        optimizers.append(Muon(muon, lr=config.muon_lr, momentum=config.muon_momentum))
    for opt in optimizers:
        for group in opt.param_groups:
            group["base_lr"] = group["lr"]
    return optimizers


def lr_multiplier(config: TrainConfig, it: int) -> float:
    """Schedule factor at step `it`: linear warmup, then decay to min_lr / lr."""
    floor = config.min_lr / config.lr
    if it < config.warmup_iters:
        return (it + 1) / (config.warmup_iters + 1)
    if it >= config.decay_iters:
        return floor
    span = max(1, config.decay_iters - config.warmup_iters)
    progress = (it - config.warmup_iters) / span
    if config.decay == "linear":
        shape = 1.0 - progress
    else:
        shape = 0.5 * (1.0 + math.cos(math.pi * progress))
    return floor + shape * (1.0 - floor)


def set_lr(optimizers, multiplier: float) -> None:
    for opt in optimizers:
        for group in opt.param_groups:
            group["lr"] = group["base_lr"] * multiplier
