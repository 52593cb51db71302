"""Training, one optimizer step at a time.

`Trainer.step()` takes exactly one step and returns its metrics, so a caller (the
window's worker thread, the CLI, a test) can pause, inspect or stop between any two
steps. `Trainer.train()` is the plain loop over it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from . import metrics as M
from .config import TrainConfig
from .corpus import Corpus
from .model import build_model
from .optim import build_optimizers, lr_multiplier, set_lr

EVAL_SEED_OFFSET = 7919  # evaluation batches come from their own, fixed stream


class TrainingError(RuntimeError):
    """Training cannot go on; the model and optimizer keep their last good state."""


class NonFiniteError(TrainingError):
    pass


def resolve_device(name: str = "cpu") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(name)


class Trainer:
    def __init__(self, config: TrainConfig, corpus: Corpus, device: str = "cpu"):
        corpus.check_block_size(config.block_size)
        self.config = config
        self.corpus = corpus
        self.device = resolve_device(device)
        torch.manual_seed(config.seed)
        model_config = config.model_config(corpus.vocab_size)
        self.model = build_model(model_config, config.model).to(self.device)
        self.optimizers = build_optimizers(self.model, config, self.device.type)
        self.named = M.named_trainable(self.model)
        self.step_count = 0  # optimizer steps completed
        self.batch_rng = torch.Generator().manual_seed(config.seed)
        self.dropout_rng_state = torch.get_rng_state()
        self.tokens_per_step = config.batch_size * config.block_size

    # -- one step -------------------------------------------------------------------------
    def lr(self, step: int | None = None) -> float:
        step = self.step_count if step is None else step
        return self.config.lr * lr_multiplier(self.config, step)

    def step(self, diagnostics: bool = False) -> M.StepMetrics:
        """One optimizer step. With diagnostics, also per-parameter grad norms,
        update:data ratios and gradient histograms (they cost extra time)."""
        cfg = self.config
        t0 = time.perf_counter()
        multiplier = lr_multiplier(cfg, self.step_count)
        set_lr(self.optimizers, multiplier)
        self.model.train()
        x, y = self.corpus.get_batch("train", cfg.batch_size, cfg.block_size,
                                     self.batch_rng, self.device)
        torch.set_rng_state(self.dropout_rng_state)
        _, loss = self.model(x, y)
        loss.backward()
        extra = {}
        if diagnostics:  # of the raw gradients, before clipping scales them
            extra["grad_norms"] = M.grad_norms(self.named)
            extra["histograms"] = M.grad_histograms(self.named)
        clip = cfg.grad_clip if cfg.grad_clip > 0 else math.inf
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip))
        loss_value = loss.item()
        if not (math.isfinite(loss_value) and math.isfinite(grad_norm)):
            self._zero_grad()
            what = "loss" if not math.isfinite(loss_value) else "gradient norm"
            raise NonFiniteError(
                f"non-finite {what} at step {self.step_count + 1} "
                f"(loss={loss_value}, grad_norm={grad_norm}); the update was not applied and "
                f"the model keeps its state after step {self.step_count}. Try a lower lr."
            )
        if diagnostics:
            before = M.snapshot(self.named)
        for opt in self.optimizers:
            opt.step()
        if diagnostics:
            extra["update_ratios"] = M.update_ratios(self.named, before)
        self._zero_grad()
        self.dropout_rng_state = torch.get_rng_state()
        self.step_count += 1
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        return M.StepMetrics(step=self.step_count, loss=loss_value, lr=cfg.lr * multiplier,
                             grad_norm=grad_norm, tokens_per_sec=self.tokens_per_step / dt,
                             dt=dt, **extra)

    def _zero_grad(self) -> None:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)

    # -- evaluation -----------------------------------------------------------------------
    @torch.no_grad()
    def estimate_loss(self, eval_iters: int | None = None,
                      should_stop: Callable[[], bool] | None = None,
                      splits: tuple[str, ...] = ("train", "val")) -> M.EvalMetrics | None:
        """Mean loss over eval_iters batches of each split (the same batches every time).

        Returns None if should_stop() turned true part way (the model is left as it was).
        The global RNG is not touched, so evaluating never changes the training run.
        """
        cfg = self.config
        n = eval_iters or cfg.eval_iters
        was_training = self.model.training
        self.model.eval()
        try:
            result = {"train": math.nan, "val": math.nan}
            for split in splits:
                gen = torch.Generator().manual_seed(cfg.seed + EVAL_SEED_OFFSET)
                total = 0.0
                for _ in range(n):
                    if should_stop is not None and should_stop():
                        return None
                    x, y = self.corpus.get_batch(split, cfg.batch_size, cfg.block_size, gen,
                                                 self.device)
                    total += float(self.model(x, y)[1])
                result[split] = total / n
        finally:
            self.model.train(was_training)
        return M.EvalMetrics(self.step_count, result["train"], result["val"])

    # -- the whole run ----------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.step_count >= self.config.max_iters

    def train(self, on_step: Callable[[M.StepMetrics], None] | None = None,
              on_eval: Callable[[M.EvalMetrics], None] | None = None,
              diagnostics_every: int = 0) -> M.EvalMetrics | None:
        """Step until max_iters, evaluating every eval_interval steps and at the end."""
        cfg = self.config
        last_eval = None
        if self.step_count == 0:
            last_eval = self.estimate_loss()
            if on_eval:
                on_eval(last_eval)
        while not self.done:
            diag = diagnostics_every > 0 and (self.step_count + 1) % diagnostics_every == 0
            m = self.step(diagnostics=diag)
            if on_step:
                on_step(m)
            if self.step_count % cfg.eval_interval == 0 or self.done:
                last_eval = self.estimate_loss()
                if on_eval:
                    on_eval(last_eval)
        return last_eval

    # -- state, for checkpoints -------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizers": [opt.state_dict() for opt in self.optimizers],
            "step": self.step_count,
            "batch_rng": self.batch_rng.get_state(),
            "dropout_rng": self.dropout_rng_state,
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        if len(state["optimizers"]) != len(self.optimizers):
            raise TrainingError("the checkpoint's optimizers do not match this configuration")
        for opt, s in zip(self.optimizers, state["optimizers"]):
            opt.load_state_dict(s)
        self.step_count = int(state["step"])
        self.batch_rng.set_state(state["batch_rng"])
        self.dropout_rng_state = state["dropout_rng"]
