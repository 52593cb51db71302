"""Training, one optimizer step at a time.

`Trainer.step()` takes exactly one step and returns its metrics, so a caller (the
window's worker thread, the CLI, a test) can pause, inspect or stop between any two
steps. `Trainer.train()` is the plain loop over it.

A step of a big model can take seconds, so a caller may also stop *inside* one: given a
thread-safe `should_stop()`, `step()` and `estimate_loss()` ask it before the forward
and before the backward of every layer (`StopPoints`), and abandon the work when it says
so. How soon that is depends on the longest single op between two layers. An
abandoned step raises `StepInterrupted` and changes nothing: no update, no gradients,
the same step count, batch stream, dropout RNG and optimizer state as before it, so
the run goes on exactly as if the step had never been started.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

import torch

from . import metrics as M
from .activations import ActivationProbe
from .config import TrainConfig
from .corpus import Corpus
from .model import build_model
from .optim import build_optimizers, lr_multiplier, set_lr

EVAL_SEED_OFFSET = 7919  # evaluation batches come from their own, fixed stream


class TrainingError(RuntimeError):
    """Training cannot go on; the model and optimizer keep their last good state."""


class NonFiniteError(TrainingError):
    pass


class StepInterrupted(Exception):
    """should_stop() said stop part way through a step: it was abandoned, nothing changed."""


#: Settings the Trainer reads afresh at every step, so a run may change them between two
#: steps (`Trainer.reconfigure`); the others shape the model or its optimizers.
LIVE_SETTINGS = frozenset({"max_iters", "eval_interval", "eval_iters", "warmup_iters",
                           "lr_decay_iters", "decay", "min_lr", "grad_clip", "batch_size"})


class StopPoints:
    """Places inside a forward and backward pass where a caller's should_stop() is asked.

    Hooks on every module that holds weights (linear layers, embeddings, norms: between
    them lie at most a few large ops): before its forward, and, through a hook on its
    output, just before its backward. A stop raises StepInterrupted out of the model call
    or out of backward(). Cost, measured: ~2 µs per module call while no check is set
    (`watching`), ~10 µs while one is: about 1% of a `default` step.
    """

    def __init__(self, model: torch.nn.Module):
        self._check: Callable[[], bool] | None = None
        for module in model.modules():
            if next(module.parameters(recurse=False), None) is not None:
                module.register_forward_pre_hook(self._before_forward)
                module.register_forward_hook(self._after_forward)

    @contextmanager
    def watching(self, check: Callable[[], bool]) -> Iterator[None]:
        self._check = check
        try:
            yield
        finally:
            self._check = None

    def _poll(self) -> None:
        if self._check is not None and self._check():
            raise StepInterrupted

    def _before_forward(self, module, args) -> None:
        self._poll()

    def _after_forward(self, module, args, output) -> None:
        if self._check is None or not torch.is_grad_enabled():
            return
        for out in output if isinstance(output, (tuple, list)) else (output,):
            if isinstance(out, torch.Tensor) and out.grad_fn is not None:  # never a leaf:
                out.register_hook(self._before_backward)  # its hooks would outlive the step

    def _before_backward(self, grad: torch.Tensor) -> None:
        self._poll()


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
        self.elapsed = 0.0  # seconds spent in completed steps: metrics' `time` (no pauses, evals)
        self.batch_rng = torch.Generator().manual_seed(config.seed)
        self.dropout_rng_state = torch.get_rng_state()
        self.tokens_per_step = config.batch_size * config.block_size
        self._stop_points: StopPoints | None = None  # hooked in on first use
        self._activations: ActivationProbe | None = None  # made on the first diagnostics

    # -- one step -------------------------------------------------------------------------
    def lr(self, step: int | None = None) -> float:
        step = self.step_count if step is None else step
        return self.config.lr * lr_multiplier(self.config, step)

    def step(self, diagnostics: bool = False,
             should_stop: Callable[[], bool] | None = None) -> M.StepMetrics:
        """One optimizer step. With diagnostics, also per-parameter grad norms,
        update:data ratios, gradient histograms and the forward pass's activation
        statistics (activations.py); they cost extra time.

        should_stop (thread-safe, cheap) is asked all through the forward and backward
        pass; when it returns True the step is abandoned with StepInterrupted and the
        trainer is left exactly as it was before the call.
        """
        cfg = self.config
        t0 = time.perf_counter()
        before = self._snapshot() if should_stop is not None else None
        multiplier = lr_multiplier(cfg, self.step_count)
        set_lr(self.optimizers, multiplier)
        self.model.train()
        x, y = self.corpus.get_batch("train", cfg.batch_size, cfg.block_size,
                                     self.batch_rng, self.device)
        torch.set_rng_state(self.dropout_rng_state)
        try:
            with self._watch(should_stop):
                with self._recording(diagnostics) as activations:  # hooks only when diagnosing
                    _, loss = self.model(x, y)
                loss.backward()
        except StepInterrupted:
            self._zero_grad()
            self._restore(before)
            raise
        extra = {}
        if diagnostics:  # of the raw gradients, before clipping scales them
            extra["grad_norms"] = M.grad_norms(self.named)
            extra["histograms"] = M.grad_histograms(self.named)
            extra["activations"] = dict(activations)
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
            params_before = M.snapshot(self.named)
        for opt in self.optimizers:
            opt.step()
        if diagnostics:
            extra["update_ratios"] = M.update_ratios(self.named, params_before)
        self._zero_grad()
        self.dropout_rng_state = torch.get_rng_state()
        self.step_count += 1
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        self.elapsed += dt
        return M.StepMetrics(step=self.step_count, loss=loss_value, lr=cfg.lr * multiplier,
                             grad_norm=grad_norm, tokens_per_sec=self.tokens_per_step / dt,
                             dt=dt, time=self.elapsed, **extra)

    def _watch(self, should_stop: Callable[[], bool] | None):
        """A context in which should_stop is asked inside the model (nothing if None)."""
        if should_stop is None:
            return nullcontext()
        if self._stop_points is None:
            self._stop_points = StopPoints(self.model)
        return self._stop_points.watching(should_stop)

    def _recording(self, diagnostics: bool):
        """Activation statistics of this forward pass (see activations.py) when diagnosing."""
        if not diagnostics:
            return nullcontext({})
        if self._activations is None:
            self._activations = ActivationProbe(self.model)
        return self._activations.recording()

    def _snapshot(self) -> dict:
        """What a step changes before its update: learning rates and random streams."""
        return {"lrs": [[g["lr"] for g in opt.param_groups] for opt in self.optimizers],
                "batch_rng": self.batch_rng.get_state(), "global_rng": torch.get_rng_state()}

    def _restore(self, before: dict) -> None:
        for opt, lrs in zip(self.optimizers, before["lrs"]):
            for group, lr in zip(opt.param_groups, lrs):
                group["lr"] = lr
        self.batch_rng.set_state(before["batch_rng"])
        torch.set_rng_state(before["global_rng"])

    def _zero_grad(self) -> None:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)

    # -- evaluation -----------------------------------------------------------------------
    @torch.no_grad()
    def estimate_loss(self, eval_iters: int | None = None,
                      should_stop: Callable[[], bool] | None = None,
                      splits: tuple[str, ...] = ("train", "val")) -> M.EvalMetrics | None:
        """Mean loss over eval_iters batches of each split (the same batches every time).

        Returns None if should_stop() turned true part way (asked between batches and
        inside each forward pass; the model is left as it was). The global RNG is not
        touched, so evaluating never changes the training run.
        """
        cfg = self.config
        n = eval_iters or cfg.eval_iters
        was_training = self.model.training
        self.model.eval()
        try:
            result = {"train": math.nan, "val": math.nan}
            with self._watch(should_stop):
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
        except StepInterrupted:
            return None
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

    def reconfigure(self, config: TrainConfig) -> None:
        """Go on with changed LIVE_SETTINGS (e.g. a larger max_iters to train further).

        Raises TrainingError, changing nothing, if any other setting differs: those are
        built into the model and its optimizers.
        """
        ours, theirs = self.config.to_dict(), config.to_dict()
        fixed = [k for k in ours if ours[k] != theirs[k] and k not in LIVE_SETTINGS]
        if fixed:
            raise TrainingError(f"cannot change {', '.join(fixed)} of a run in progress; "
                                f"only {', '.join(sorted(LIVE_SETTINGS))} can change")
        self.config = config
        self.tokens_per_step = config.batch_size * config.block_size

    # -- state, for checkpoints -------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizers": [opt.state_dict() for opt in self.optimizers],
            "step": self.step_count,
            "batch_rng": self.batch_rng.get_state(),
            "dropout_rng": self.dropout_rng_state,
            "elapsed": self.elapsed,
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
        self.elapsed = float(state.get("elapsed", 0.0))  # absent in older checkpoints
