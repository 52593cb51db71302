"""What the training worker sends to the window: plain numpy and Python values only.

The worker coalesces many steps into one StepBatch (at most ~30 per second), so the GUI
thread never sees tensors and never gets more signals than it can draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..activations import ActivationStats
from ..metrics import EvalMetrics, Histogram, StepMetrics


@dataclass
class StepBatch:
    """Consecutive training steps; every array has the same length, dtype float64."""
    steps: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    grad_norm: np.ndarray
    tokens_per_sec: np.ndarray
    time: np.ndarray | None = None  # the run's clock (StepMetrics.time); None when unknown

    @classmethod
    def from_metrics(cls, rows: list[StepMetrics]) -> StepBatch:
        def col(name):
            return np.fromiter((getattr(r, name) for r in rows), dtype=np.float64, count=len(rows))
        time = col("time") if all(r.time is not None for r in rows) else None
        return cls(col("step"), col("loss"), col("lr"), col("grad_norm"), col("tokens_per_sec"), time)

    def __len__(self) -> int:
        return len(self.steps)


@dataclass
class Diagnostics:
    """Per-parameter figures at one step (copies; safe to keep)."""
    step: int
    grad_norms: dict[str, float] = field(default_factory=dict)
    update_ratios: dict[str, float] = field(default_factory=dict)
    histograms: dict[str, Histogram] = field(default_factory=dict)
    activations: dict[str, ActivationStats] = field(default_factory=dict)  # by site, model order

    @classmethod
    def from_metrics(cls, m: StepMetrics) -> Diagnostics:
        return cls(m.step, dict(m.grad_norms), dict(m.update_ratios), dict(m.histograms),
                   dict(m.activations))


__all__ = ["StepBatch", "Diagnostics", "EvalMetrics", "Histogram", "ActivationStats"]
