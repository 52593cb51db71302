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

from . import batch_shards, distributed, shard_grads
from . import metrics as M
from .activations import ActivationProbe
from .config import TrainConfig
from .corpus import Corpus
from .devices import (
    autocast_context,
    autocast_dtype,
    device_rng_state,
    resolve_device,  # noqa: F401 - also imported from here
    set_device_rng_state,
    synchronize,
)
from .distributed import SINGLE, Launch
from .memory_needs import check_fits
from .model import build_model
from .openmp import one_thread
from .optim import AdamW, Muon, build_optimizers, lr_multiplier, set_lr

EVAL_SEED_OFFSET = 7919  # evaluation batches come from their own, fixed stream
RESEED_STRIDE = 1_000_003  # a rank new to a resumed run seeds from seed + rank + this × step


class TrainingError(RuntimeError):
    """Training cannot go on; the model and optimizer keep their last good state."""


class NonFiniteError(TrainingError):
    pass


class StepInterrupted(Exception):
    """should_stop() said stop part way through a step: it was abandoned, nothing changed."""


#: Settings the Trainer reads afresh at every step, so a run may change them between two
#: steps (`Trainer.reconfigure`); the others shape the model or its optimizers.
LIVE_SETTINGS = frozenset({"max_iters", "eval_interval", "eval_iters", "warmup_iters",
                           "lr_decay_iters", "decay", "min_lr", "grad_clip", "batch_size",
                           "grad_accum"})


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


class StopPoints:
    """Places inside a forward and backward pass where a caller's should_stop() is asked.

    Hooks on every module that holds weights (linear layers, embeddings, norms: between
    them lie at most a few large ops): before its forward, and, through a hook on its
    output, just before its backward. A stop raises StepInterrupted out of the model call
    or out of backward(). The hooks are in place only while `watching` (registering and
    removing them takes ~0.1 ms for `default`'s 27 modules); while they are, each module
    call costs ~10 µs more: about 1% of a `default` step.
    """

    def __init__(self, model: torch.nn.Module):
        self._check: Callable[[], bool] | None = None
        self._modules = [module for module in model.modules()
                         if next(module.parameters(recurse=False), None) is not None]

    @contextmanager
    def watching(self, check: Callable[[], bool]) -> Iterator[None]:
        handles = []
        for module in self._modules:
            handles.append(module.register_forward_pre_hook(self._before_forward))
            handles.append(module.register_forward_hook(self._after_forward))
        self._check = check
        try:
            yield
        finally:
            self._check = None
            for handle in handles:
                handle.remove()

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


class Trainer:
    """One training run: the model, its optimizers, the step count and the random streams.

    device: "cpu", "cuda", "cuda:N", "mps" or "auto" (devices.resolve_device). autocast:
    train in bfloat16 under torch.autocast where the device supports it (GPUs; the weights
    and optimizer state stay fp32). compile: run the plain training steps through
    torch.compile (steps with diagnostics or should_stop run eagerly, with their hooks).
    launch: this process's place in a multi-process run (distributed.py): the model is then
    wrapped in DistributedDataParallel, each rank draws its own batches and dropout, and
    the reported loss is the mean over all ranks. `model` is always the plain module: its
    weights, hooks, samples and checkpoints are the same however it is trained.
    split_batches: on the CPU, split each batch across the calling thread's torch threads
    (batch_shards.py) where a step allows it; False keeps every op spread over the threads
    instead. A run's losses depend, by float rounding, on how many shards its steps use.
    """

    def __init__(self, config: TrainConfig, corpus: Corpus, device: str = "cpu", *,
                 autocast: bool = True, compile: bool = False, launch: Launch | None = None,
                 split_batches: bool = True):
        corpus.check_block_size(config.block_size)
        self.config = config
        self.corpus = corpus
        self.device = resolve_device(device)
        check_fits(config, corpus.vocab_size, self.device)  # refuse before allocating
        self.launch = launch or SINGLE
        self.split_batches = split_batches
        if self.launch.distributed and not distributed.backend():
            raise TrainingError("a multi-process Trainer needs the process group: "
                                "call distributed.start first")
        self.amp_dtype = autocast_dtype(self.device) if autocast else None
        torch.manual_seed(config.seed)
        model_config = config.model_config(corpus.vocab_size)
        self.model = build_model(model_config, config.model).to(self.device)
        self.optimizers = build_optimizers(self.model, config, self.device.type)
        self.named = M.named_trainable(self.model)
        self._params = [p for _, p in self.named]  # (listing them afresh costs ~0.05 ms a step)
        self._param_parts: shard_grads.Parts | None = None  # a split step's (made on first use)
        self._shard_norms: list[torch.Tensor] | None = None  # the gradients' norms, from the shards
        self._flops_per_token = self.model.flops_per_token()
        self.step_count = 0  # optimizer steps completed
        self.elapsed = 0.0  # seconds spent in completed steps: metrics' `time` (no pauses, evals)
        self.batch_rng = torch.Generator()
        if self.launch.rank == 0:  # the single-process streams: batches, and dropout after init
            self.batch_rng.manual_seed(config.seed)
            self.dropout_rng_state = torch.get_rng_state()
            self.device_rng_state = device_rng_state(self.device)
        else:  # every other rank draws batches and dropout masks of its own
            self._seed_streams(config.seed + self.launch.rank)
        self.tokens_per_step = self._tokens_per_step(config)
        self._ddp = distributed.wrap(self.model, self.device) if self.launch.distributed else None
        self._compiled = self._compile(self._ddp or self.model) if compile else None
        self._compile_checked = False  # whether a compiled step has run (compile errors come then)
        self._stop_points: StopPoints | None = None  # made on first use
        self._activations: ActivationProbe | None = None  # made on the first diagnostics

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def _tokens_per_step(self, config: TrainConfig) -> int:
        """Tokens one optimizer step trains on, over every micro-batch and every rank."""
        return config.batch_size * config.block_size * config.grad_accum * self.launch.world_size

    @staticmethod
    def _compile(module: torch.nn.Module):
        try:
            return torch.compile(module)
        except (RuntimeError, ImportError, AssertionError) as e:  # e.g. a Python it cannot handle
            raise TrainingError(f"--compile: torch.compile is not supported here "
                                f"({_first_line(e)}); train without --compile") from e

    # -- one step -------------------------------------------------------------------------
    def lr(self, step: int | None = None) -> float:
        step = self.step_count if step is None else step
        return self.config.lr * lr_multiplier(self.config, step)

    def step(self, diagnostics: bool = False,
             should_stop: Callable[[], bool] | None = None) -> M.StepMetrics:
        """One optimizer step, over grad_accum micro-batches (and every rank's, when
        distributed). With diagnostics, also per-parameter grad norms, update:data ratios,
        gradient histograms and the forward pass's activation statistics (activations.py,
        of the last micro-batch); they cost extra time.

        should_stop (thread-safe, cheap) is asked all through the forward and backward
        pass; when it returns True the step is abandoned with StepInterrupted and the
        trainer is left exactly as it was before the call. (Single process only: one rank
        abandoning a step would leave the others waiting for its gradients.)
        """
        if should_stop is not None and self.launch.distributed:
            raise TrainingError("should_stop cannot interrupt a step of a multi-process run: the "
                                "other ranks would wait for this one's gradients")
        eager = diagnostics or should_stop is not None or self._compiled is None
        forward = (self._ddp or self.model) if eager else self._compiled
        shards = self._shards(forward)
        with one_thread() if shards > 1 else nullcontext():  # all of it: no OpenMP team to wake
            return self._step(forward, shards, diagnostics, should_stop)

    def _step(self, forward, shards: int, diagnostics: bool,
              should_stop: Callable[[], bool] | None) -> M.StepMetrics:
        cfg = self.config
        t0 = time.perf_counter()
        before = self._snapshot() if should_stop is not None else None
        self._shard_norms = None
        multiplier = lr_multiplier(cfg, self.step_count)
        set_lr(self.optimizers, multiplier)
        if not self.model.training:  # (train() visits every module: ~0.4 ms a step for `cpu`)
            self.model.train()
        self._use_streams()
        accum = cfg.grad_accum
        losses, activations = [], {}
        try:
            with self._watch(should_stop):
                for micro in range(accum):
                    last = micro == accum - 1
                    x, y = self.corpus.get_batch("train", cfg.batch_size, cfg.block_size,
                                                 self.batch_rng, self.device)
                    with self._syncing(last):  # DDP averages the gradients after the last
                        with self._recording(diagnostics and last, shards) as recorded:  # (hooks only then)
                            loss = self._forward_backward(forward, x, y, shards, last)
                    losses.append(loss)
                    if diagnostics and last:
                        activations = recorded
        except StepInterrupted:
            self._zero_grad()
            self._restore(before)
            raise
        except Exception as e:
            self._zero_grad()  # (a part may have been added up already: not into the next step)
            if forward is self._compiled and not self._compile_checked:  # compiling happens here
                raise TrainingError(f"--compile: torch.compile could not compile the model here "
                                    f"({type(e).__name__}: {_first_line(e)}); train without "
                                    f"--compile") from e
            raise
        if forward is self._compiled:
            self._compile_checked = True
        extra = {}
        if diagnostics:  # of the raw gradients, before clipping scales them
            extra["grad_norms"] = M.grad_norms(self.named)
            extra["histograms"] = _merged(batch_shards.map_parts(
                M.grad_histograms, self.named, shards, weight=lambda item: item[1].numel()))
            extra["activations"] = dict(activations)
        grad_norm, grad_scale = self._clip_gradients(cfg.grad_clip)
        loss_mean = losses[0] if accum == 1 else torch.stack(losses).mean()
        if self.launch.distributed:  # the loss of the whole batch, the same on every rank
            loss_mean = distributed.mean(loss_mean, self.device)
        loss_value = loss_mean.item()
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
            if isinstance(opt, Muon):
                opt.step(shards=shards)  # its matrices shared out between the threads
                continue
            # each part on the thread that added up its gradients (shard_grads.py)
            split = {"parts": self._parts(shards).tensors} if shards > 1 and isinstance(opt, AdamW) else {}
            if grad_scale is not None and _scales_its_own(opt):
                opt.grad_scale = grad_scale
                try:
                    opt.step(**split)
                finally:
                    del opt.grad_scale
            else:
                opt.step(**split)
        if diagnostics:
            extra["update_ratios"] = _merged(batch_shards.map_parts(
                lambda part: M.update_ratios([named for named, _ in part], [old for _, old in part]),
                list(zip(self.named, params_before)), shards, weight=lambda item: item[1].numel()))
        self._zero_grad()
        self.dropout_rng_state = torch.get_rng_state()
        self.device_rng_state = device_rng_state(self.device)
        self.step_count += 1
        synchronize(self.device)
        dt = time.perf_counter() - t0
        self.elapsed += dt
        return M.StepMetrics(step=self.step_count, loss=loss_value, lr=cfg.lr * multiplier,
                             grad_norm=grad_norm, tokens_per_sec=self.tokens_per_step / dt,
                             dt=dt, time=self.elapsed, **extra)

    def _clip_gradients(self, max_norm: float) -> tuple[float, torch.Tensor | None]:
        """The gradients' global norm before clipping, and what fused AdamW is to divide its
        gradients by to clip them to max_norm (None: no clipping this step). The others'
        gradients are scaled here. Clipping is torch.nn.utils.clip_grad_norm_'s: by
        min(1, max_norm / (norm + 1e-6)). Fused AdamW takes the factor as it reads the
        gradients, through `grad_scale` (how torch's GradScaler unscales them in the same
        kernel), which saves a pass over all of them: ~1 % of a `cpu` step, measured."""
        if self._shard_norms is not None:  # each .grad's norm, taken where it was added up
            total = torch.linalg.vector_norm(torch.stack(self._shard_norms))  # (get_total_norm's)
        else:
            total = torch.nn.utils.get_total_norm([p.grad for p in self._params if p.grad is not None])
        norm = float(total)
        if not (max_norm > 0 and math.isfinite(norm)):  # (a non-finite norm stops the step)
            return norm, None
        factor = torch.clamp(max_norm / (total + 1e-6), max=1.0)
        if float(factor) >= 1.0:
            return norm, None
        for opt in self.optimizers:
            if not _scales_its_own(opt):
                params = [p for group in opt.param_groups for p in group["params"]]
                torch.nn.utils.clip_grads_with_norm_(params, max_norm, total)
        return norm, factor.reciprocal()

    def side_work(self):
        """A context for other torch work on the training thread between steps (samples,
        probes of the model): torch on this thread alone when the steps are split. An
        OpenMP team woken there spins on after its work and takes a core from the next
        step's helper thread (+5.4 ms on the next `default` step, measured); without a
        split, nothing changes."""
        return one_thread() if self._shards(self.model) > 1 else nullcontext()

    def _shards(self, forward) -> int:
        """Threads a step's batches are split across (batch_shards.py): on the CPU, in one
        process, uncompiled and without dropout (threads would draw its masks from the one
        random stream in no fixed order); else 1."""
        if forward is self._compiled or self.config.dropout > 0:
            return 1
        return self._shards_for(backward=True)

    def _eval_shards(self) -> int:
        """Threads an evaluation batch is split across (in eval mode dropout draws nothing)."""
        return self._shards_for(backward=False)

    def _shards_for(self, backward: bool) -> int:
        if not self.split_batches or self.device.type != "cpu" or self._ddp is not None:
            return 1
        cfg = self.config
        flops = self._flops_per_token * cfg.batch_size * cfg.block_size  # forward + backward
        return batch_shards.shard_count(cfg.batch_size, flops if backward else flops / 3)

    def _forward_backward(self, forward, x: torch.Tensor, y: torch.Tensor, shards: int,
                          last: bool = True) -> torch.Tensor:
        """One micro-batch's loss (detached), its gradients (divided by grad_accum) added
        to the parameters' .grad; over `shards` threads, each a share of the sequences,
        adding up the gradients by parts (shard_grads.py; on the last micro-batch also
        their norms, which clipping then uses)."""
        accum = self.config.grad_accum
        if shards == 1:
            with autocast_context(self.device, self.amp_dtype):
                _, loss = forward(x, y)
            (loss / accum if accum > 1 else loss).backward()
            return loss.detach()
        xs, ys = x.tensor_split(shards), y.tensor_split(shards)
        probe = self._activations

        def shard(i: int):
            share = xs[i].shape[0] / x.shape[0]  # of the batch's mean loss
            with probe.shard(i) if probe is not None else nullcontext():
                with autocast_context(self.device, self.amp_dtype):
                    _, loss = forward(xs[i], ys[i])
            grads = torch.autograd.grad(loss * (share / accum), self._params, allow_unused=True)
            return loss.detach() * share, grads

        losses, self._shard_norms = shard_grads.run(shard, self._parts(shards), norms=last,
                                                    yields=(StepInterrupted,))
        return torch.stack(losses).sum()

    def _parts(self, shards: int) -> shard_grads.Parts:
        """The parameters' parts for a step split `shards` ways (the same every step)."""
        if self._param_parts is None or len(self._param_parts) != shards:
            self._param_parts = shard_grads.Parts(self._params, shards)
        return self._param_parts

    def _syncing(self, last_micro_step: bool):
        """DDP's gradient averaging only on a step's last micro-batch (no_sync before it)."""
        if self._ddp is None or last_micro_step:
            return nullcontext()
        return self._ddp.no_sync()

    def _watch(self, should_stop: Callable[[], bool] | None):
        """A context in which should_stop is asked inside the model (nothing if None)."""
        if should_stop is None:
            return nullcontext()
        if self._stop_points is None:
            self._stop_points = StopPoints(self.model)
        return self._stop_points.watching(should_stop)

    def _recording(self, diagnostics: bool, shards: int = 1):
        """Activation statistics of this forward pass (see activations.py) when diagnosing."""
        if not diagnostics:
            return nullcontext({})
        if self._activations is None:
            self._activations = ActivationProbe(self.model)
        return self._activations.recording(threads=shards)

    # -- random streams ---------------------------------------------------------------------
    def _use_streams(self) -> None:
        """Dropout draws from the run's own stream, whatever ran in between two steps."""
        torch.set_rng_state(self.dropout_rng_state)
        if self.device_rng_state is not None:
            set_device_rng_state(self.device, self.device_rng_state)

    def _seed_streams(self, seed: int) -> None:
        """Fresh batch and dropout streams from a seed (a rank of its own)."""
        self.batch_rng.manual_seed(seed)
        self.dropout_rng_state = torch.Generator().manual_seed(seed).get_state()
        self.device_rng_state = None
        if self.device.type == "cuda":
            with torch.cuda.device(self.device):
                torch.cuda.manual_seed(seed)
            self.device_rng_state = device_rng_state(self.device)
        elif self.device.type == "mps":
            torch.mps.manual_seed(seed)
            self.device_rng_state = device_rng_state(self.device)

    def _streams(self) -> dict:
        """This rank's random streams, as a checkpoint holds them."""
        streams = {"batch_rng": self.batch_rng.get_state(), "dropout_rng": self.dropout_rng_state}
        if self.device_rng_state is not None:
            streams["device_rng"] = self.device_rng_state
            streams["device_rng_type"] = self.device.type
        return streams

    def _load_streams(self, streams: dict) -> None:
        self.batch_rng.set_state(streams["batch_rng"])
        self.dropout_rng_state = streams["dropout_rng"]
        if streams.get("device_rng_type") == self.device.type:  # a GPU's state fits only its kind
            self.device_rng_state = streams["device_rng"]

    def _snapshot(self) -> dict:
        """What a step changes before its update: learning rates and random streams."""
        return {"lrs": [[g["lr"] for g in opt.param_groups] for opt in self.optimizers],
                "batch_rng": self.batch_rng.get_state(), "global_rng": torch.get_rng_state(),
                "device_rng": device_rng_state(self.device)}

    def _restore(self, before: dict) -> None:
        for opt, lrs in zip(self.optimizers, before["lrs"]):
            for group, lr in zip(opt.param_groups, lrs):
                group["lr"] = lr
        self.batch_rng.set_state(before["batch_rng"])
        torch.set_rng_state(before["global_rng"])
        if before["device_rng"] is not None:
            set_device_rng_state(self.device, before["device_rng"])

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
        shards = self._eval_shards()
        with one_thread() if shards > 1 else nullcontext():
            return self._estimate_loss(eval_iters or self.config.eval_iters, should_stop, splits, shards)

    def _estimate_loss(self, n: int, should_stop: Callable[[], bool] | None,
                       splits: tuple[str, ...], shards: int) -> M.EvalMetrics | None:
        cfg = self.config
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
                        total += self._batch_loss(x, y, shards)
                    result[split] = total / n
        except StepInterrupted:
            return None
        finally:
            self.model.train(was_training)
        return M.EvalMetrics(self.step_count, result["train"], result["val"])

    def _batch_loss(self, x: torch.Tensor, y: torch.Tensor, shards: int) -> float:
        """The model's mean loss on a batch, without gradients, over `shards` threads."""
        xs, ys = x.tensor_split(shards), y.tensor_split(shards)

        def work(i: int) -> float:
            with torch.no_grad(), autocast_context(self.device, self.amp_dtype):  # (per thread)
                return float(self.model(xs[i], ys[i])[1]) * (xs[i].shape[0] / x.shape[0])

        losses = batch_shards.run(work, shards, yields=(StepInterrupted,))
        return losses[0] if shards == 1 else math.fsum(losses)

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
        self.tokens_per_step = self._tokens_per_step(config)

    # -- state, for checkpoints -------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything a checkpoint needs to go on exactly: the plain module's weights (no
        DDP or compile prefixes), the optimizers, the step and the random streams.

        Distributed, this is a collective call (every rank must make it): it gathers each
        rank's random streams into "rank_streams"; the top-level streams are rank 0's, so
        a single process resumes from it like from its own.
        """
        state = {
            "model": self.model.state_dict(),
            "optimizers": [opt.state_dict() for opt in self.optimizers],
            "step": self.step_count,
            "elapsed": self.elapsed,
        }
        streams = self._streams()
        if self.launch.distributed:
            everyone = distributed.gather(streams)
            state["rank_streams"] = everyone
            streams = everyone[0]
        state.update(streams)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Go on from a state_dict, saved by any number of processes on any device.

        Rank r takes the streams saved for rank r; a rank the checkpoint has none for
        (more processes now than then) starts fresh streams from the seed, its rank and
        the step, so its batches differ from every other rank's.
        """
        self.model.load_state_dict(state["model"])
        if len(state["optimizers"]) != len(self.optimizers):
            raise TrainingError("the checkpoint's optimizers do not match this configuration")
        for opt, s in zip(self.optimizers, state["optimizers"]):
            opt.load_state_dict(s)
        self.step_count = int(state["step"])
        self.elapsed = float(state.get("elapsed", 0.0))  # absent in older checkpoints
        rank = self.launch.rank
        streams = streams_for_rank(state, rank)
        if streams is not None:
            self._load_streams(streams)
        else:
            self._seed_streams(self.config.seed + rank + RESEED_STRIDE * self.step_count)


def _scales_its_own(opt: torch.optim.Optimizer) -> bool:
    """Whether the optimizer divides the gradients by its `grad_scale` tensor as it reads
    them (torch's fused Adam and AdamW, which torch's GradScaler relies on; not Muon)."""
    return getattr(opt, "_step_supports_amp_scaling", False)


def _merged(dicts: list[dict]) -> dict:
    return {key: value for d in dicts for key, value in d.items()}


def streams_for_rank(state: dict, rank: int) -> dict | None:
    """The random streams a Trainer.state_dict() holds for `rank`: rank 0's are the top-level
    ones (a single process's too); other ranks' are in "rank_streams" when the checkpoint was
    written by at least rank + 1 processes, else None."""
    if rank == 0:
        return state
    saved = state.get("rank_streams") or []
    return saved[rank] if rank < len(saved) else None
