"""How much memory a training run needs, estimated before anything is allocated.

Settings that cannot fit (a batch of a billion windows, n_embd in the millions) are
refused with a ConfigError saying how much they need and how much there is, instead of
failing inside torch's allocator or, worse, being killed by the system part way through
building the model. The estimate counts what must exist at once during a step: the
weights, their gradients and the optimizer's state, the causal mask, and the
activations kept for the backward pass of one micro-batch. It leaves out smaller,
short-lived buffers, so it is a lower bound: settings it refuses cannot work, and
settings just under the limit may still be too big.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from .config import TrainConfig
from .model import ConfigError

FLOAT = 4  # bytes: weights, gradients, optimizer state and activations are fp32
ACTIVATIONS_PER_LAYER = 20  # floats kept per token and embedding dimension in one block (see below)


@dataclass(frozen=True)
class MemoryNeeds:
    params: int  # number of parameters
    state: int  # bytes: weights, gradients and the optimizers' moments
    buffers: int  # bytes: causal masks (one per layer) and rotary tables
    activations: int  # bytes: what one micro-batch's forward keeps for its backward

    @property
    def total(self) -> int:
        return self.state + self.buffers + self.activations


def parameter_count(config: TrainConfig, vocab_size: int) -> int:
    """Exactly the model's parameter count (tests compare it with built models)."""
    V, T, C, L = vocab_size, config.block_size, config.n_embd, config.n_layer
    if config.model == "bigram":
        return V * V
    norm = 2 * C if config.bias else C  # LayerNorm weight (+ bias)
    linear_bias = 9 * C if config.bias else 0  # c_attn 3C, attn c_proj C, c_fc 4C, mlp c_proj C
    block = _hidden_matrices(config) // L + linear_bias + 2 * norm
    return V * C + (0 if config.rope else T * C) + L * block + norm  # lm_head is wte


def _hidden_matrices(config: TrainConfig) -> int:
    """Parameters in the blocks' weight matrices: c_attn 3C², c_proj C², the MLP's 2 × 4C²."""
    return config.n_layer * 12 * config.n_embd ** 2


def training_needs(config: TrainConfig, vocab_size: int) -> MemoryNeeds:
    """The memory a step of this run needs at least (bytes), by part."""
    V, T, C, L, B = vocab_size, config.block_size, config.n_embd, config.n_layer, config.batch_size
    params = parameter_count(config, vocab_size)
    tokens = B * T
    if config.model == "bigram":
        buffers = 0
        activations = 3 * tokens * V * FLOAT  # logits, their softmax and gradient
    else:
        rope = 2 * T * (C // config.n_head // 2) * FLOAT if config.rope else 0
        buffers = L * (T * T + rope)  # a block_size² boolean mask per layer
        # Per token and layer: block input, two norms' outputs, q/k/v, the attention
        # output, projection, the MLP's 4C hidden before and after its activation, ...
        # about 20 C floats; then the logits, their softmax and gradient.
        activations = (tokens * L * ACTIVATIONS_PER_LAYER * C + 3 * tokens * V) * FLOAT
    # weights, gradients and AdamW's two moments; Muon keeps one for the hidden matrices
    muon = _hidden_matrices(config) if config.optimizer == "muon" and config.model == "gpt" else 0
    state = (4 * params - muon) * FLOAT
    return MemoryNeeds(params=params, state=state, buffers=buffers, activations=activations)


def available_bytes(device: torch.device) -> int | None:
    """Memory free for a run on device, or None where it cannot be told."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type == "mps":
        recommended = getattr(torch.mps, "recommended_max_memory", None)
        return int(recommended()) if recommended else None
    if device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**28 else f"{n / 2**20:,.0f} MiB"


def check_fits(config: TrainConfig, vocab_size: int, device: torch.device,
               available: int | None = None) -> MemoryNeeds:
    """The run's needs; a ConfigError if they exceed the memory available on device
    (measured unless given)."""
    needs = training_needs(config, vocab_size)
    if available is None:
        available = available_bytes(device)
    if available is not None and needs.total > available:
        raise ConfigError(
            f"these settings need at least {_gib(needs.total)} of memory to train, and "
            f"{_gib(available)} is available on {device.type}: weights, gradients and "
            f"optimizer state {_gib(needs.state)} ({needs.params:,} parameters), activations "
            f"of a batch of batch_size × block_size = {config.batch_size:,} × "
            f"{config.block_size:,} {_gib(needs.activations)}, attention masks "
            f"{_gib(needs.buffers)}. Use a smaller batch_size, block_size, n_embd or n_layer"
        )
    return needs
