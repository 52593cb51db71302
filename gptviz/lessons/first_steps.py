"""What one training step is made of, on the seeded tiny GPT and one sentence.

The training view shows a loss, gradients, a learning rate and samples for a big model on
a whole book. Here are the same quantities small enough to compute on the spot (one
sequence of 31 characters, a 30k-parameter model), each a few lines of torch that the
demo's snippets repeat: the loss before training, the gradient norm of every parameter,
the loss falling over a few AdamW steps, and text generated one character at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import tiny_gpt

OPTIMIZER_LR = 3e-3  # the `tiny` preset's learning rate


def sentence_batch(sentence: str = tiny_gpt.SENTENCE) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) of shape (1, T): each character's target is the one after it."""
    ids = tiny_gpt.encode(sentence)[None]
    return ids[:, :-1], ids[:, 1:]


def uniform_loss(vocab_size: int = tiny_gpt.TINY_CONFIG.vocab_size) -> float:
    """The loss of a model that gives every character the same probability: ln(vocab)."""
    return math.log(vocab_size)


def initial_loss(seed: int = tiny_gpt.SEED) -> float:
    """The seeded, untrained model's loss on the sentence (close to uniform_loss)."""
    x, y = sentence_batch()
    with torch.no_grad():
        return tiny_gpt.build(seed=seed)(x, y)[1].item()


@dataclass(frozen=True)
class Gradients:
    names: tuple[str, ...]
    norms: tuple[float, ...]  # per parameter, in model.parameters() order
    total: float  # the global norm (what clip_grad_norm_ returns, before clipping)
    loss: float


def gradients(seed: int = tiny_gpt.SEED) -> Gradients:
    """One backward pass of the seeded model on the sentence."""
    model = tiny_gpt.build(seed=seed).train()
    x, y = sentence_batch()
    _, loss = model(x, y)
    loss.backward()
    names, params = zip(*model.named_parameters())
    norms = tuple(p.grad.norm().item() for p in params)
    total = float(nn.utils.clip_grad_norm_(params, max_norm=1.0))
    return Gradients(names, norms, total, loss.item())


def optimizer_steps(steps: int = 10, lr: float = OPTIMIZER_LR, seed: int = tiny_gpt.SEED) -> list[float]:
    """The sentence's loss at each of `steps` AdamW steps on that sentence alone."""
    model = tiny_gpt.build(seed=seed).train()
    x, y = sentence_batch()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def generate(model: nn.Module, prompt: str, new_chars: int, seed: int) -> str:
    """The lecture's `generate`: append one sampled character at a time, reading at most
    block_size of them; the prompt followed by what was sampled."""
    block = model.config.block_size
    idx = tiny_gpt.encode(prompt)[None]
    generator = torch.Generator().manual_seed(seed)
    for _ in range(new_chars):
        logits, _ = model(idx[:, -block:])
        probs = F.softmax(logits[:, -1], dim=-1)
        idx = torch.cat([idx, torch.multinomial(probs, 1, generator=generator)], dim=1)
    return tiny_gpt.tokenizer().decode(idx[0].tolist())
