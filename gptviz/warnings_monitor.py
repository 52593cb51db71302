"""Warnings about a training run, from the numbers it already reports.

A newcomer watching the curves may not notice that a layer's updates are far too small
or too big, that the loss just jumped, or that the model started memorising its training
text. `WarningsMonitor` watches the per-step losses, the update:data ratios of the
diagnostic steps and the evaluations, and returns a `TrainingWarning` when one of these
conditions starts (never again while it lasts, so a window can list them without flooding):

- **update:data ratio** — a weight matrix's std(Δp)/std(p) has been outside
  [`RATIO_LOW`, `RATIO_HIGH`] = [1e-4, 1e-2] at each of the last `RATIO_PATIENCE` (5)
  diagnostic steps. Below, the matrix barely learns; above, its updates are big enough to
  undo what it learnt (the lecture's rule of thumb is about 1e-3). Only weight matrices
  are watched (`metrics.is_weight_matrix`): biases and LayerNorm gains start at 0 or 1,
  so their ratio is noise. All matrices that cross the line at one step share one warning,
  naming each with its latest value. Re-armed for a matrix once it has been back in range
  for `RATIO_PATIENCE` diagnostic steps in a row (a ratio hovering at the line warns once).
  Two allowances keep healthy runs quiet (measured with every preset, see below):
  ratios are not judged before `settle_steps` (the window uses `ratio_settle_steps`: twice
  the warmup, at least `RATIO_SETTLE_STEPS` = 200), because weights start small and every
  matrix's ratio starts above 1e-2 while they grow; and matrices updated by Muon
  (`wide(name)` true) have the upper bound `MUON_RATIO_HIGH` = 1e-1, because Muon sets the
  size of each update from its lr alone (an orthogonalised step of fixed RMS), so at its
  usual lr of 0.02–0.03 a ratio of 2–8e-2 is the intended step, not a runaway one.
  Measured (`benchmarks/update_ratios.py`, every 10 steps): the `default` preset's Muon
  matrices sit at 2–8e-2 until step ~130 and its AdamW embedding at 1.0–2.5e-2 until step
  ~100, then all are inside; the `cpu` preset (nanoGPT's AdamW recipe) keeps its residual projections at
  1.2–2e-2 from step ~100 to ~900 of 2000, so it gets one warning, at ~step 250 — true to
  the rule of thumb, which that recipe runs hot of.
- **loss spike** — a step's train loss exceeds `SPIKE_FACTOR` (2.5) × the exponential
  moving average of the losses before it (weight `SPIKE_EMA_WEIGHT` 0.9: about the last 10
  steps). Not checked during warmup (step < warmup_steps) nor before the average has seen
  `SPIKE_MIN_STEPS` steps; after a spike, quiet for `SPIKE_QUIET_STEPS` steps.
- **overfitting** — at each of the last `OVERFIT_INTERVALS` (2) intervals between
  consecutive evaluations the val loss rose while the train loss fell. Re-armed once an
  interval breaks the pattern.

Engine code (no Qt): the window only shows what it returns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .metrics import is_weight_matrix

RATIO_LOW, RATIO_HIGH = 1e-4, 1e-2
RATIO_PATIENCE = 5  # consecutive diagnostic steps outside the range
RATIO_SETTLE_STEPS = 200  # ratios are not judged before max(this, 2 * warmup) in the window
MUON_RATIO_HIGH = 1e-1  # the upper bound for matrices Muon updates
SPIKE_FACTOR = 2.5
SPIKE_EMA_WEIGHT = 0.9
SPIKE_MIN_STEPS = 10
SPIKE_QUIET_STEPS = 50
OVERFIT_INTERVALS = 2
MOST_NAMED = 4  # parameters named in one update-ratio warning; the rest are counted


@dataclass(frozen=True)
class TrainingWarning:
    kind: str  # "update_ratio", "loss_spike" or "overfitting"
    step: int
    message: str
    values: dict[str, float] = field(default_factory=dict)  # e.g. parameter -> ratio

    def __str__(self) -> str:
        return f"step {self.step}: {self.message}"


class WarningsMonitor:
    """Feed it a run's numbers in step order; each `observe_*` returns the new warnings."""

    def __init__(self, warmup_steps: int = 0, ratio_range: tuple[float, float] = (RATIO_LOW, RATIO_HIGH),
                 ratio_patience: int = RATIO_PATIENCE, spike_factor: float = SPIKE_FACTOR,
                 spike_ema_weight: float = SPIKE_EMA_WEIGHT, overfit_intervals: int = OVERFIT_INTERVALS,
                 watched: Callable[[str], bool] = is_weight_matrix):
        self.ratio_range = ratio_range
        self.ratio_patience = ratio_patience
        self.spike_factor = spike_factor
        self.spike_ema_weight = spike_ema_weight
        self.overfit_intervals = overfit_intervals
        self.watched = watched
        self.reset(warmup_steps)

    def reset(self, warmup_steps: int = 0, settle_steps: int = 0,
              wide: Callable[[str], bool] | None = None) -> None:
        """Forget everything: a new run (or a resumed one) starts here.

        Update ratios count from step `settle_steps` on; parameters for which `wide` is
        true (those Muon updates) may go up to `MUON_RATIO_HIGH`.
        """
        self.warmup_steps = warmup_steps
        self.settle_steps = settle_steps
        self.wide = wide or (lambda name: False)
        self._outside: dict[str, int] = {}  # parameter -> diagnostic steps outside in a row
        self._inside: dict[str, int] = {}  # warned parameter -> diagnostic steps back inside in a row
        self._warned_ratio: set[str] = set()
        self._ema = math.nan
        self._ema_steps = 0
        self._quiet_until = -1
        self._evals: list[tuple[int, float, float]] = []  # (step, train, val), finite only
        self._warned_overfit = False

    # -- per step -----------------------------------------------------------------------------
    def observe_losses(self, steps: Iterable[float], losses: Iterable[float]) -> list[TrainingWarning]:
        out = []
        for step, loss in zip(steps, losses):
            out.extend(self.observe_loss(int(step), float(loss)))
        return out

    def observe_loss(self, step: int, loss: float) -> list[TrainingWarning]:
        if not math.isfinite(loss):
            return []
        out = []
        ema = self._ema
        if (step >= self.warmup_steps and self._ema_steps >= SPIKE_MIN_STEPS and step > self._quiet_until
                and loss > self.spike_factor * ema):
            self._quiet_until = step + SPIKE_QUIET_STEPS
            out.append(TrainingWarning(
                "loss_spike", step,
                f"loss spike: {loss:.3f} is {loss / ema:.1f}× its recent average {ema:.3f} "
                f"(threshold {self.spike_factor:g}×); a lower lr or stronger clipping may help",
                {"loss": loss, "average": ema}))
        w = self.spike_ema_weight
        self._ema = loss if self._ema_steps == 0 else w * ema + (1 - w) * loss
        self._ema_steps += 1
        return out

    # -- per diagnostic step ------------------------------------------------------------------
    def observe_update_ratios(self, step: int, ratios: Mapping[str, float]) -> list[TrainingWarning]:
        if step < self.settle_steps:
            return []
        lo = self.ratio_range[0]
        crossed: dict[str, dict[str, float]] = {"below": {}, "above": {}}
        for name, ratio in ratios.items():
            if not self.watched(name) or not math.isfinite(ratio):
                continue
            if lo <= ratio <= self._high(name):
                self._outside.pop(name, None)
                if name in self._warned_ratio:
                    self._inside[name] = self._inside.get(name, 0) + 1
                    if self._inside[name] >= self.ratio_patience:
                        self._warned_ratio.discard(name)
                        del self._inside[name]
                continue
            self._inside.pop(name, None)
            self._outside[name] = self._outside.get(name, 0) + 1
            if self._outside[name] >= self.ratio_patience and name not in self._warned_ratio:
                self._warned_ratio.add(name)
                crossed["below" if ratio < lo else "above"][name] = ratio
        out = []
        for side, found in crossed.items():
            if not found:
                continue
            bound = lo if side == "below" else min(self._high(n) for n in found)
            listed = sorted(found.items(), reverse=True,  # the farthest out first
                            key=lambda kv: abs(math.log10(max(kv[1], 1e-30) / bound)))
            named = ", ".join(f"{n} {r:.1e}" for n, r in listed[:MOST_NAMED])
            more = f" and {len(listed) - MOST_NAMED} more" if len(listed) > MOST_NAMED else ""
            meaning = "barely learns" if side == "below" else "takes very large steps"
            out.append(TrainingWarning(
                "update_ratio", step,
                f"update:data ratio {side} {bound:.0e} for the last {self.ratio_patience} diagnostic steps: "
                f"{named}{more} — {'it' if len(listed) == 1 else 'each'} {meaning}",
                dict(found)))
        return out

    def _high(self, name: str) -> float:
        high = self.ratio_range[1]
        return max(high, MUON_RATIO_HIGH) if self.wide(name) else high

    # -- per evaluation -------------------------------------------------------------------------
    def observe_eval(self, step: int, train_loss: float, val_loss: float) -> list[TrainingWarning]:
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            return []
        if self._evals and step <= self._evals[-1][0]:
            self._evals = [e for e in self._evals if e[0] < step]  # evaluated again, or went back
        self._evals.append((step, train_loss, val_loss))
        n = self.overfit_intervals
        del self._evals[:-(n + 1)]
        if len(self._evals) < n + 1:
            return []
        pairs = list(zip(self._evals, self._evals[1:]))
        overfitting = all(b[2] > a[2] and b[1] < a[1] for a, b in pairs)
        if not overfitting:
            self._warned_overfit = False
            return []
        if self._warned_overfit:
            return []
        self._warned_overfit = True
        (s0, t0, v0), (s1, t1, v1) = self._evals[0], self._evals[-1]
        return [TrainingWarning(
            "overfitting", step,
            f"val loss rose {v0:.3f} → {v1:.3f} while train loss fell {t0:.3f} → {t1:.3f} over the "
            f"last {n} evaluation intervals (steps {s0}–{s1}): the model may be overfitting",
            {"val_start": v0, "val_end": v1, "train_start": t0, "train_end": t1})]


def ratio_settle_steps(warmup_steps: int) -> int:
    """The step from which the window judges update ratios (see the module docstring)."""
    return max(RATIO_SETTLE_STEPS, 2 * warmup_steps)
