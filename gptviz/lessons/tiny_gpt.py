"""The small, seeded GPT the "Inside a GPT" and "Training a GPT" demos look into.

Small enough that a forward pass takes milliseconds, so a widget can wait for it (on a
short-lived thread, never the GUI thread: see gui/demo_widgets/short_thread.py): 2 blocks of
2 heads, 32 dimensions, a context of 32 characters, about 30k parameters.
Its vocabulary is Tiny Shakespeare's 65 characters, written out here so the demos never
need the corpus file, and seeding makes every weight the same as in the demo snippets
(`torch.manual_seed(1337)` then `GPT(GPTConfig(...))`).
"""

from __future__ import annotations

import torch
from torch import nn

from ..model import GPT, BigramLanguageModel, GPTConfig
from ..tokenizer import CharTokenizer, TokenizerError

#: The sorted set of characters in Tiny Shakespeare (a test checks it against the file).
SHAKESPEARE_CHARS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SEED = 1337
TINY_CONFIG = GPTConfig(vocab_size=len(SHAKESPEARE_CHARS), block_size=32, n_layer=2, n_head=2, n_embd=32)
#: The sentence the training demo measures loss, gradients and optimizer steps on.
SENTENCE = "To be, or not to be, that is the"


def tokenizer() -> CharTokenizer:
    return CharTokenizer(SHAKESPEARE_CHARS)


def build(kind: str = "gpt", seed: int = SEED, config: GPTConfig = TINY_CONFIG) -> nn.Module:
    """The demo model with the weights `torch.manual_seed(seed)` gives it.

    The global random state is put back afterwards, so opening a demo does not change the
    random numbers anything else draws later.
    """
    if kind not in ("gpt", "bigram"):
        raise ValueError(f"model must be 'gpt' or 'bigram', got {kind!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BigramLanguageModel(config) if kind == "bigram" else GPT(config)
    return model.eval()


def fit_prompt(prompt: str, block_size: int = TINY_CONFIG.block_size) -> tuple[str, str | None]:
    """The prompt the model can read, and why it differs from what was typed (or None).

    Like generation, a prompt longer than the context keeps only its last block_size
    characters. Characters outside the vocabulary raise TokenizerError with their names.
    """
    if not prompt:
        raise TokenizerError("the prompt is empty: type at least one character")
    tokenizer().encode(prompt)  # raises for unknown characters
    if len(prompt) > block_size:
        return prompt[-block_size:], (f"only the last {block_size} characters fit in the context "
                                      f"(block_size = {block_size})")
    return prompt, None


def encode(text: str) -> torch.Tensor:
    """Token ids of text as a (T,) int64 tensor."""
    return torch.from_numpy(tokenizer().encode(text))


def shown(char: str) -> str:
    """A character as a label: newline and space made visible."""
    return {"\n": "⏎", " ": "␣"}.get(char, char)
