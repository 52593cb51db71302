"""Reading a run directory back, whoever wrote it (the window or `gptviz train`): its
curves, samples and settings, for comparing runs and exporting them.

A run directory holds metrics.jsonl (runlog.py), samples.jsonl (samplelog.py),
config.json and, once saved, checkpoint.pt. Only metrics.jsonl is needed: the curves
and samples are read without the checkpoint, which may be missing (a window run is
checkpointed only when saved) — `notes()` says what is.

Time: train rows carry `time`, the seconds spent in optimizer steps since the run
started (pauses, evaluations, samples and saves excluded, so a run in the window and the
same run in `gptviz train` line up). An evaluation's time is that of the step it follows.
Runs written before `time` existed have none: they compare by step only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .runlog import CONFIG, METRICS, read_metrics
from .samplelog import SAMPLES, read_samples

CHECKPOINT = "checkpoint.pt"  # checkpoint.FILENAME, named here so reading a run needs no torch


class RunError(Exception):
    """The folder is not a readable run directory; the message names it and says why."""


def _column(rows: list[dict], key: str) -> np.ndarray:
    """A float64 column; a missing value or JSON null is NaN (0.0 stays 0.0)."""
    return np.array([np.nan if r.get(key) is None else r[key] for r in rows], dtype=np.float64)


@dataclass
class RunRecord:
    """One run directory as read at one moment (a snapshot: it is not followed)."""
    path: Path
    config: dict | None
    rows: list[dict]  # metrics.jsonl as written
    samples: list[dict] = field(default_factory=list)
    has_checkpoint: bool = False

    def __post_init__(self) -> None:
        train = [r for r in self.rows if "loss" in r]
        evals = [r for r in self.rows if "val_loss" in r]
        self.steps = _column(train, "step")
        self.loss = _column(train, "loss")
        self.time = _column(train, "time")
        self.eval_steps = _column(evals, "step")
        self.eval_train = _column(evals, "train_loss")
        self.eval_val = _column(evals, "val_loss")
        self.has_time = bool(len(train)) and bool(np.isfinite(self.time).all())
        if self.has_time:  # evaluation k follows step k (step 0: before any, time 0)
            self.eval_time = np.interp(self.eval_steps, np.r_[0.0, self.steps], np.r_[0.0, self.time])
        else:
            self.eval_time = np.full(len(evals), np.nan)

    @property
    def name(self) -> str:
        return self.path.name or str(self.path)

    @property
    def last_step(self) -> int:
        steps = np.r_[self.steps, self.eval_steps]
        return int(steps.max()) if len(steps) else 0

    def best_val(self) -> float | None:
        finite = self.eval_val[np.isfinite(self.eval_val)]
        return float(finite.min()) if len(finite) else None

    def notes(self) -> list[str]:
        """What is missing, in words (empty when the run is complete)."""
        notes = []
        if not self.has_checkpoint:
            notes.append(f"no {CHECKPOINT}: curves and samples only (it cannot be resumed or sampled)")
        if self.config is None:
            notes.append(f"no {CONFIG}: its settings are unknown")
        if len(self.steps) and not self.has_time:
            notes.append("its metrics have no time (an older run): it compares by step only")
        return notes

    def summary(self) -> str:
        """One line: the model's shape, steps and best val loss."""
        parts = []
        c = self.config or {}
        if c:
            if c.get("model", "gpt") == "bigram":
                parts.append("bigram")
            else:
                parts.append(f"{c.get('n_layer')} layers × {c.get('n_embd')} dims, "
                             f"block {c.get('block_size')}")
            parts.append(f"lr {c.get('lr')}")
        parts.append(f"{self.last_step} steps")
        if self.has_time:
            parts.append(f"{self.time[-1]:.1f} s")
        best = self.best_val()
        if best is not None:
            parts.append(f"best val {best:.4f}")
        return " · ".join(parts)


def load_run(path: str | os.PathLike) -> RunRecord:
    """Read a run directory (RunError if it is not one)."""
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"{path}: not a folder")
    metrics = path / METRICS
    if not metrics.is_file():
        raise RunError(f"{path}: not a run directory (it has no {METRICS})")
    try:
        rows = read_metrics(metrics)
        config = None
        if (path / CONFIG).is_file():
            config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
            if not isinstance(config, dict):
                config = None
        samples = read_samples(path / SAMPLES)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunError(f"{path}: cannot read it: {e}") from None
    return RunRecord(path, config, rows, samples, (path / CHECKPOINT).is_file())
