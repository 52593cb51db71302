"""From the last position's logits to one sampled next character.

Softmax turns the scores into probabilities; `torch.multinomial` with a seeded generator
draws one character from the whole distribution (not only the likeliest few), the way the
lecture's `generate` does, so the same seed always draws the same character.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class NextChar:
    probs: torch.Tensor  # (vocab,) probabilities of every next character
    top: tuple[int, ...]  # ids of the k likeliest, most likely first
    sampled: int  # the id drawn
    seed: int

    def rank(self, token: int) -> int:
        """1 for the likeliest character, 2 for the next, ..."""
        return int((self.probs > self.probs[token]).sum()) + 1


def next_char(logits: torch.Tensor, k: int = 10, seed: int = 42) -> NextChar:
    """Probabilities from one position's logits (vocab,), the top k, and a seeded draw."""
    probs = F.softmax(logits.detach(), dim=-1)
    generator = torch.Generator().manual_seed(seed)
    sampled = int(torch.multinomial(probs, 1, generator=generator))
    top = tuple(int(i) for i in probs.topk(min(k, len(probs))).indices)
    return NextChar(probs, top, sampled, seed)
