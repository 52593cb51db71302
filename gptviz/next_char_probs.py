"""What each sampled character was drawn from: the likeliest next characters before and after
temperature / top-k / top-p, and where the character actually drawn stood.

The window lets the learner point at any character of a sample and see the distribution it
came from. Keeping the whole distribution of every character would cost vocab × 4 bytes per
character, so the sampler keeps only the top k (default 10) of it, plus the chosen
character's own figures (it may lie outside the top k). Dividing by a temperature and
cutting to the top-k / top-p keep the order of the characters, so one list of ids — the
top k under the raw softmax — serves both distributions.

`CharChoice` is one character's record: references to the logits and the distribution the
sampler already has, so recording costs the sampling loop almost nothing per character;
`ChoiceBatch` computes the figures for a chunk of characters at once (one softmax, one
top-k) as numpy copies, safe to send to another thread and to keep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

DEFAULT_TOP = 10  # characters kept per sampled character


@dataclass(frozen=True)
class CharChoice:
    """One draw, as the sampler left it: references to its tensors, no work done yet (the
    softmax, top-k and ranks are computed for a whole chunk at once in ChoiceBatch). The
    tensors must not be changed afterwards (the sampler makes new ones every step)."""
    logits: torch.Tensor  # (vocab,) the model's raw scores
    used: torch.Tensor | None  # (vocab,) the distribution drawn from; None: greedy (temperature 0)
    chosen: torch.Tensor  # () the id drawn
    k: int  # how many of the likeliest to keep


def _figures(choices: list[CharChoice]) -> tuple[torch.Tensor, ...]:
    """(top ids, their raw p, their used p, chosen figures (n, 3): raw p, used p, rank)."""
    logits = torch.stack([c.logits for c in choices]).float()
    raw = F.softmax(logits, dim=-1)
    chosen = torch.stack([c.chosen for c in choices]).view(-1, 1)
    if all(c.used is not None for c in choices):
        used = torch.stack([c.used for c in choices]).float()
    else:  # greedy rows: all mass on the drawn id
        used = torch.zeros_like(raw).scatter_(1, chosen, 1.0)
        for i, c in enumerate(choices):
            if c.used is not None:
                used[i] = c.used
    top_p, top_ids = raw.topk(min(choices[0].k, raw.size(-1)), dim=-1)
    p = raw.gather(1, chosen)
    rank = (raw > p).sum(dim=1, keepdim=True).to(raw.dtype) + 1
    return top_ids, top_p, used.gather(1, top_ids), torch.cat((p, used.gather(1, chosen), rank), dim=1)


@dataclass(frozen=True)
class CharProbs:
    """One character's figures, as the chart shows them."""
    chars: list[str]  # the k likeliest next characters, likeliest first
    raw: np.ndarray  # (k,) their probabilities under the model (temperature 1, no cut)
    used: np.ndarray  # (k,) their probabilities in the distribution drawn from
    chosen: str  # the character drawn
    chosen_raw: float
    chosen_used: float
    rank: int  # the chosen character's rank under the model, 1 = likeliest


@dataclass
class ChoiceBatch:
    """Consecutive sampled characters, numpy copies. Row i is the character at offset
    start + i of the sample's text (the prompt comes first and has no rows)."""
    start: int
    chars: np.ndarray  # (n, k) unicode: the top-k characters of each row
    raw: np.ndarray  # (n, k) float32
    used: np.ndarray  # (n, k) float32
    chosen: np.ndarray  # (n,) unicode: the character drawn
    chosen_stats: np.ndarray  # (n, 3) float32: raw p, used p, rank
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None

    @classmethod
    def from_choices(cls, start: int, choices: list[CharChoice], vocabulary: str, drawn: str,
                     temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None) -> ChoiceBatch:
        """`drawn` is the text of the characters drawn, one per choice."""
        if len(drawn) != len(choices):
            raise ValueError(f"{len(choices)} choices for {len(drawn)} characters")
        ids, raw, used, stats = (t.cpu().numpy().copy() for t in _figures(choices))  # owned copies
        return cls(start, np.array(list(vocabulary))[ids], raw, used, np.array(list(drawn)), stats,
                   temperature, top_k, top_p)

    def __len__(self) -> int:
        return len(self.chosen)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.chars, self.raw, self.used, self.chosen, self.chosen_stats))

    def row(self, offset: int) -> CharProbs | None:
        """The figures of the character at `offset` of the sample's text, if in this batch."""
        i = offset - self.start
        if not 0 <= i < len(self):
            return None
        raw_p, used_p, rank = (float(x) for x in self.chosen_stats[i])
        return CharProbs([str(c) for c in self.chars[i]], self.raw[i].copy(), self.used[i].copy(),
                         str(self.chosen[i]), raw_p, used_p, int(rank))
