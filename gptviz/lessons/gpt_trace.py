"""Every tensor a prompt becomes on its way through a GPT, named, in order.

`trace(model, ids)` re-does the model's forward pass one operation at a time for a single
sequence (no batch dimension), using the model's own layers, and records what each step
produces: token ids (T,), embeddings (T, C), each head's queries, keys and values
(T, head_size), its attention weights (T, T), each block's output (T, C) and the logits
(T, vocab). It is written out rather than hooked so that the per-head tensors, which exist
inside the model only as slices of larger ones, can be shown; tests check that its logits
and attention weights equal the model's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..model import GPT, BigramLanguageModel, _apply_rope


@dataclass(frozen=True)
class TracedTensor:
    """One intermediate result: its name, its dimensions in words, and its values."""

    name: str  # e.g. "q", "attention weights", "logits"
    dims: str  # the shape in the lecture's letters, e.g. "T, head_size"
    what: str  # one line for a newcomer
    tensor: torch.Tensor
    layer: int | None = None  # 0-based block index, None outside the blocks
    head: int | None = None  # 0-based head index, None outside a head

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.tensor.shape)

    @property
    def label(self) -> str:
        where = [f"block {self.layer + 1}"] if self.layer is not None else []
        where += [f"head {self.head + 1}"] if self.head is not None else []
        return " · ".join([*where, self.name])


@dataclass(frozen=True)
class Trace:
    ids: torch.Tensor  # (T,)
    steps: tuple[TracedTensor, ...]

    def find(self, name: str, layer: int | None = None, head: int | None = None) -> TracedTensor:
        """The first step called `name` (in that layer and head, when given)."""
        for step in self.steps:
            if step.name == name and (layer is None or step.layer == layer) \
                    and (head is None or step.head == head):
                return step
        raise KeyError(f"no traced tensor {name!r} (layer {layer}, head {head})")

    @property
    def logits(self) -> torch.Tensor:
        return self.steps[-1].tensor

    def attention(self, layer: int) -> torch.Tensor:
        """The attention weights of every head of one block: (n_head, T, T)."""
        heads = [s.tensor for s in self.steps if s.name == "attention weights" and s.layer == layer]
        if not heads:
            raise KeyError(f"no attention weights in layer {layer}")
        return torch.stack(heads)


@torch.no_grad()
def trace(model: nn.Module, ids: torch.Tensor) -> Trace:
    """The named intermediate tensors of `model` on one sequence of token ids (T,)."""
    ids = torch.as_tensor(ids, dtype=torch.long).flatten()
    if isinstance(model, BigramLanguageModel):
        return Trace(ids, (
            TracedTensor("token ids", "T", "one integer per character of the prompt", ids),
            TracedTensor("logits", "T, vocab", "each character's row of the lookup table: a score "
                         "for every possible next character", model.table(ids)),
        ))
    if not isinstance(model, GPT):
        raise TypeError(f"can trace a GPT or a BigramLanguageModel, not {type(model).__name__}")
    T = len(ids)
    if not 1 <= T <= model.config.block_size:
        raise ValueError(f"a prompt of {T} tokens; the model reads 1 to {model.config.block_size}")
    steps = [TracedTensor("token ids", "T", "one integer per character of the prompt", ids)]
    x = model.wte(ids)
    steps.append(TracedTensor("token embeddings", "T, C", "each id's row of the embedding table", x))
    if model.wpe is not None:
        pos = model.wpe(torch.arange(T))
        steps.append(TracedTensor("position embeddings", "T, C", "one learned vector per position", pos))
        x = x + pos
        steps.append(TracedTensor("x = tokens + positions", "T, C", "what the first block reads", x))
    for layer, block in enumerate(model.blocks):
        x = _trace_block(block, x, layer, steps)
    x = model.ln_f(x)
    steps.append(TracedTensor("final layer norm", "T, C", "each position's vector, normalised", x))
    steps.append(TracedTensor("logits", "T, vocab", "a score for every possible next character, at "
                              "every position", model.lm_head(x)))
    return Trace(ids, tuple(steps))


def _trace_block(block: nn.Module, x: torch.Tensor, layer: int, steps: list[TracedTensor]) -> torch.Tensor:
    """One transformer block: attention then MLP, each added to the residual stream."""
    attn = block.attn
    T, C = x.shape
    hs = attn.head_size
    h = block.ln_1(x)
    steps.append(TracedTensor("layer norm 1", "T, C", "x normalised before attention", h, layer))
    q_all, k_all, v_all = attn.c_attn(h).split(C, dim=-1)
    mask = attn.mask[:T, :T]
    outputs = []
    for head in range(attn.n_head):
        cut = slice(head * hs, (head + 1) * hs)
        q, k, v = q_all[:, cut], k_all[:, cut], v_all[:, cut]
        if attn.qk_norm:
            q, k = F.rms_norm(q, (hs,)), F.rms_norm(k, (hs,))
        if attn.rope_cos is not None:
            q = _apply_rope(q, attn.rope_cos[:T], attn.rope_sin[:T])
            k = _apply_rope(k, attn.rope_cos[:T], attn.rope_sin[:T])
        steps += [
            TracedTensor("q", "T, head_size", "queries: what each position is looking for", q, layer, head),
            TracedTensor("k", "T, head_size", "keys: what each position offers", k, layer, head),
            TracedTensor("v", "T, head_size", "values: what each position passes on when chosen",
                         v, layer, head),
        ]
        scores = (q @ k.T / math.sqrt(hs)).masked_fill(~mask, float("-inf"))
        steps.append(TracedTensor("scores", "T, T", "q · k / √head_size; the future masked to -inf",
                                  scores, layer, head))
        weights = F.softmax(scores, dim=-1)
        steps.append(TracedTensor("attention weights", "T, T", "softmax of each row: how much each "
                                  "position takes from each earlier one", weights, layer, head))
        out = weights @ v
        steps.append(TracedTensor("head output", "T, head_size", "the weighted average of the values",
                                  out, layer, head))
        outputs.append(out)
    heads = torch.cat(outputs, dim=-1)
    steps.append(TracedTensor("heads joined", "T, C", "all heads' outputs side by side", heads, layer))
    x = x + attn.c_proj(heads)
    steps.append(TracedTensor("x + attention", "T, C", "the projected heads added to the residual stream",
                              x, layer))
    x = x + block.mlp(block.ln_2(x))
    steps.append(TracedTensor("block output", "T, C", "x + MLP(layer norm 2(x)): each position thinks "
                              "on its own about what it gathered", x, layer))
    return x
