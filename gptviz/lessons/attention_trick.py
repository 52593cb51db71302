"""Self-attention from the ground up, as in the lecture's "mathematical trick".

Each position may only look at itself and the past. Three versions of "mix the past":

1. `average`: a lower-triangular matrix whose rows sum to 1; `wei @ x` averages each
   position's past in one matrix multiply.
2. `softmax`: the same weights from softmax over a matrix of zeros with the future set to
   -inf. Nothing changes yet, but now the zeros can be replaced by scores.
3. `head`: the scores come from the data: queries and keys of one head, q · k / √head_size,
   so every position chooses for itself how much to take from each earlier one.

Each returns an `Attention` with the input, the scores, the weights and the output, built
from `torch.manual_seed(seed)` in the same order as the lecture's code, so the demo
snippets reproduce them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

MODES = ("average", "softmax", "head")


@dataclass(frozen=True)
class Attention:
    x: torch.Tensor  # (T, C): the input sequence
    scores: torch.Tensor | None  # (T, T) before softmax (None for the plain average)
    wei: torch.Tensor  # (T, T): row t says how much position t takes from each position
    out: torch.Tensor  # (T, C) or (T, head_size): wei @ x, or wei @ v for a head


def average(T: int = 8, C: int = 2, seed: int = 1337) -> Attention:
    x = _input(T, C, seed)
    wei = torch.tril(torch.ones(T, T))
    wei = wei / wei.sum(1, keepdim=True)
    return Attention(x, None, wei, wei @ x)


def softmax(T: int = 8, C: int = 2, seed: int = 1337) -> Attention:
    x = _input(T, C, seed)
    tril = torch.tril(torch.ones(T, T))
    scores = torch.zeros((T, T)).masked_fill(tril == 0, float("-inf"))
    wei = F.softmax(scores, dim=-1)
    return Attention(x, scores, wei, wei @ x)


@torch.no_grad()
def head(T: int = 8, C: int = 32, head_size: int = 16, seed: int = 1337) -> Attention:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        x = torch.randn(T, C)
        key = nn.Linear(C, head_size, bias=False)
        query = nn.Linear(C, head_size, bias=False)
        value = nn.Linear(C, head_size, bias=False)
    k, q = key(x), query(x)
    tril = torch.tril(torch.ones(T, T))
    scores = (q @ k.transpose(-2, -1) * head_size**-0.5).masked_fill(tril == 0, float("-inf"))
    wei = F.softmax(scores, dim=-1)
    return Attention(x, scores, wei, wei @ value(x))


def compute(mode: str, T: int, seed: int) -> Attention:
    """One of the three versions by name, with the lecture's sizes for the rest."""
    if mode == "average":
        return average(T, seed=seed)
    if mode == "softmax":
        return softmax(T, seed=seed)
    if mode == "head":
        return head(T, seed=seed)
    raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


def _input(T: int, C: int, seed: int) -> torch.Tensor:
    """torch.manual_seed(seed); torch.randn(T, C), leaving the global random state as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.randn(T, C)
