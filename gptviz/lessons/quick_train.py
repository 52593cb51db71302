"""A few hundred optimizer steps on one short passage, to give the demo model some sense.

An untrained model's attention is nearly uniform and its next-character guesses nearly
even; after ~300 steps on Hamlet's soliloquy (about 1.4k characters, built in so nothing
needs downloading) it has learned the passage's spelling, and its attention and its
guesses for a line of it look like something. Meant for a short-lived worker thread:
`should_stop` is asked before every step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..model import BigramLanguageModel
from .tiny_gpt import encode

SOLILOQUY = """To be, or not to be, that is the question:
Whether 'tis nobler in the mind to suffer
The slings and arrows of outrageous fortune,
Or to take arms against a sea of troubles
And by opposing end them. To die: to sleep;
No more; and by a sleep to say we end
The heart-ache and the thousand natural shocks
That flesh is heir to, 'tis a consummation
Devoutly to be wish'd. To die, to sleep;
To sleep: perchance to dream: ay, there's the rub;
For in that sleep of death what dreams may come
When we have shuffled off this mortal coil,
Must give us pause: there's the respect
That makes calamity of so long life;
For who would bear the whips and scorns of time,
The oppressor's wrong, the proud man's contumely,
The pangs of despised love, the law's delay,
The insolence of office and the spurns
That patient merit of the unworthy takes,
When he himself might his quietus make
With a bare bodkin? who would fardels bear,
To grunt and sweat under a weary life,
But that the dread of something after death,
The undiscover'd country from whose bourn
No traveller returns, puzzles the will
And makes us rather bear those ills we have
Than fly to others that we know not of?
Thus conscience does make cowards of us all;
And thus the native hue of resolution
Is sicklied o'er with the pale cast of thought,
And enterprises of great pith and moment
With this regard their currents turn awry,
And lose the name of action.
"""


def learning_rate(model: nn.Module) -> float:
    """3e-3 for the GPT (the `tiny` preset's); 3e-2 for the bigram model, a plain table whose
    entries each see only a few examples: at 3e-3 it learns next to nothing in 300 steps."""
    return 3e-2 if isinstance(model, BigramLanguageModel) else 3e-3


def train_on_passage(model: nn.Module, steps: int = 300, text: str = SOLILOQUY, batch_size: int = 16,
                     lr: float | None = None, seed: int = 1337,
                     should_stop: Callable[[], bool] = lambda: False,
                     on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Train `model` in place with AdamW on random windows of `text`; the loss of each step.

    Stops early (returning the losses so far) when should_stop() turns true; on_step(step,
    loss) hears of every step. Draws from its own generator, so the global random state is
    left alone.
    """
    data = encode(text)
    block = model.config.block_size
    if len(data) < block + 1:
        raise ValueError(f"the text has {len(data)} characters; training needs at least {block + 1}")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr if lr is not None else learning_rate(model))
    offsets = torch.arange(block + 1)
    losses = []
    model.train()
    try:
        for _ in range(steps):
            if should_stop():
                break
            starts = torch.randint(len(data) - block, (batch_size, 1), generator=generator)
            windows = data[starts + offsets]
            _, loss = model(windows[:, :-1], windows[:, 1:])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if on_step is not None:
                on_step(len(losses), losses[-1])
    finally:
        model.eval()
    return losses
