"""A real, short training run of the `tiny` preset, for the demo's plots.

The "Training a GPT" demo explains the training view's plots with curves it computes on
the spot rather than pre-recorded numbers: the same `Trainer` the window uses, the `tiny`
preset, a few hundred steps (about a second on a laptop CPU when it is not busy). It runs
on a short-lived thread; `on_progress` receives copies of what has been measured so far.

The text is Tiny Shakespeare when a verified copy is already cached (the training view's
corpus), else the built-in soliloquy: a preview never downloads anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch

from ..config import preset
from ..corpus import Corpus, CorpusError
from ..default_corpus import TINY_SHAKESPEARE_SHA256, cached_path
from ..download import sha256_of
from ..sampler import Sampler
from ..trainer import Trainer
from .quick_train import SOLILOQUY

PRESET = "tiny"


@dataclass(frozen=True)
class PreviewRun:
    corpus_name: str
    vocab_size: int
    clip: float  # the preset's gradient clipping threshold
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    samples: list[tuple[int, str]] = field(default_factory=list)  # (step, text)

    def copy(self) -> PreviewRun:
        return replace(self, steps=list(self.steps), losses=list(self.losses), lrs=list(self.lrs),
                       grad_norms=list(self.grad_norms), samples=list(self.samples))


def preview_corpus() -> Corpus:
    """Tiny Shakespeare if a verified copy is cached, else the built-in soliloquy."""
    path = cached_path()
    try:
        if path.is_file() and sha256_of(path) == TINY_SHAKESPEARE_SHA256:
            return Corpus.from_file(path)
    except (OSError, CorpusError):
        pass
    return Corpus(SOLILOQUY, name="Hamlet's soliloquy (built in)")


def preview_run(corpus: Corpus, steps: int = 300, sample_every: int = 100, sample_chars: int = 80,
                report_every: int = 25, seed: int = 42,
                on_progress: Callable[[PreviewRun], None] | None = None,
                should_stop: Callable[[], bool] = lambda: False) -> PreviewRun:
    """Train the tiny preset for `steps` steps on `corpus`, sampling every `sample_every`.

    Returns what was measured, also when should_stop() ended it early. The global random
    state is restored afterwards (the Trainer seeds it).
    """
    config = preset(PRESET, max_iters=steps)
    with torch.random.fork_rng(devices=[]):
        trainer = Trainer(config, corpus)
        sampler = Sampler(trainer.model, corpus.tokenizer)
        run = PreviewRun(corpus.name, corpus.vocab_size, config.grad_clip)
        run.samples.append((0, sampler.sample("\n", max_new_tokens=sample_chars, seed=seed)))
        while not trainer.done and not should_stop():
            m = trainer.step()
            run.steps.append(m.step)
            run.losses.append(m.loss)
            run.lrs.append(m.lr)
            run.grad_norms.append(m.grad_norm)
            if m.step % sample_every == 0 or trainer.done:
                run.samples.append((m.step, sampler.sample("\n", max_new_tokens=sample_chars, seed=seed)))
            if on_progress is not None and (m.step % report_every == 0 or trainer.done):
                on_progress(run.copy())
    return run
