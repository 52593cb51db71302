"""Generate text from a model one character at a time.

Sampling draws from its own generator, so sampling in the middle of a training run does
not change the run. (Without a seed, that generator's seed is taken from the global RNG.)
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from .next_char_probs import CharChoice
from .tokenizer import CharTokenizer, TokenizerError


class SamplingError(ValueError):
    pass


def filter_logits(logits: torch.Tensor, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """Logits with everything outside the top-k and the top-p nucleus set to -inf.

    top_p keeps the smallest set of most likely tokens whose probabilities sum to at
    least top_p (the most likely token is always kept).
    """
    logits = logits.clone()
    if top_k is not None and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1, None]
        logits[logits < kth] = -math.inf
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = F.softmax(sorted_logits, dim=-1)
        mass_before = probs.cumsum(dim=-1) - probs  # probability of the tokens ranked above
        drop_sorted = mass_before >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits[drop] = -math.inf
    return logits


class Sampler:
    def __init__(self, model: torch.nn.Module, tokenizer: CharTokenizer,
                 device: str | torch.device = "cpu"):
        self.model = model
        self.tokenizer = tokenizer
        self.device = torch.device(device)

    def validate(self, prompt: str, temperature: float, top_k: int | None,
                 top_p: float | None, max_new_tokens: int) -> None:
        try:
            self.tokenizer.encode(prompt)
        except TokenizerError as e:
            raise SamplingError(f"the prompt has {e}") from None
        if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature >= 0):
            raise SamplingError(f"temperature must be a number >= 0, got {temperature!r}")
        if top_k is not None and top_k < 1:
            raise SamplingError(f"top_k must be at least 1, got {top_k}")
        if top_p is not None and not (0 < top_p <= 1):
            raise SamplingError(f"top_p must be in (0, 1], got {top_p}")
        if max_new_tokens < 0:
            raise SamplingError(f"max_new_tokens must not be negative, got {max_new_tokens}")

    def stream(self, prompt: str = "", max_new_tokens: int = 500, temperature: float = 1.0,
               top_k: int | None = None, top_p: float | None = None,
               seed: int | None = None) -> Iterator[str]:
        """Yield generated characters one by one. temperature 0 means greedy."""
        for ch, _ in self.stream_choices(prompt, max_new_tokens, temperature, top_k, top_p, seed):
            yield ch

    @torch.no_grad()
    def stream_choices(self, prompt: str = "", max_new_tokens: int = 500, temperature: float = 1.0,
                       top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
                       keep: int = 0) -> Iterator[tuple[str, CharChoice | None]]:
        """Like `stream`, each character with the record of what it was drawn from (the top
        `keep` characters, see next_char_probs.py), or None with keep=0. The same seed draws
        the same text either way."""
        self.validate(prompt, temperature, top_k, top_p, max_new_tokens)
        if not prompt:
            prompt = "\n" if "\n" in self.tokenizer.stoi else self.tokenizer.chars[0]
        gen = torch.Generator(device=self.device)
        gen.manual_seed(seed if seed is not None else int(torch.randint(0, 2**62, (1,))))
        block = self.model.config.block_size
        idx = torch.from_numpy(self.tokenizer.encode(prompt)).to(self.device)[None, :]
        was_training = self.model.training
        self.model.eval()
        try:
            for _ in range(max_new_tokens):
                logits = self.model(idx[:, -block:])[0][:, -1, :]
                probs = None
                if temperature == 0:
                    nxt = logits.argmax(dim=-1, keepdim=True)
                else:
                    probs = F.softmax(filter_logits(logits / temperature, top_k, top_p), dim=-1)
                    nxt = torch.multinomial(probs, 1, generator=gen)
                idx = torch.cat((idx[:, -(block - 1):] if block > 1 else idx[:, :0], nxt), dim=1)
                choice = None
                if keep:
                    choice = CharChoice(logits[0], None if probs is None else probs[0], nxt[0, 0], keep)
                yield self.tokenizer.chars[int(nxt)], choice
        finally:
            self.model.train(was_training)

    def sample(self, prompt: str = "", **kwargs) -> str:
        return "".join(self.stream(prompt, **kwargs))
