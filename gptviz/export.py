"""Exporting a run directory for other tools: its metrics as CSV, and its metrics and
samples as TensorBoard event files.

CSV: one line per step, train and eval rows of the same step merged; every column any
row has (step, loss, lr, grad_norm, tokens_per_sec, time, train_loss, val_loss, then any
others in order of appearance); an empty cell where a row has no value.

TensorBoard: scalars `train/<column>` for train rows and `eval/<column>` for evaluations,
at their step, and each sample as text under `samples`. TensorBoard's "relative" time
axis shows the run's `time` (training seconds): each event's wall time is the run's start
plus its `time`, the start being taken as metrics.jsonl's last write minus the run's
last `time`. Writing events needs the optional `tensorboard` package
(`pip install 'gptviz[tensorboard]'`); without it, ExportError says so.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from .runlog import METRICS
from .runs import RunRecord, load_run

CSV_ORDER = ("step", "loss", "lr", "grad_norm", "tokens_per_sec", "time", "train_loss", "val_loss")
TENSORBOARD_MISSING = ("TensorBoard export needs the optional 'tensorboard' package; install it with "
                       "pip install 'gptviz[tensorboard]' (or: pip install tensorboard)")


class ExportError(Exception):
    """An export cannot be done; the message says why and what to do."""


def merged_rows(rows: list[dict]) -> list[dict]:
    """One dict per step, in step order: the train and eval rows of that step together."""
    merged: dict[int, dict] = {}
    for row in rows:
        merged.setdefault(row["step"], {}).update(row)
    return [merged[step] for step in sorted(merged)]


def csv_columns(rows: list[dict]) -> list[str]:
    """CSV_ORDER (without `time` if no row has it), then any other column the rows have."""
    seen = dict.fromkeys(k for row in rows for k in row)
    return [c for c in CSV_ORDER if c != "time" or c in seen] + [c for c in seen if c not in CSV_ORDER]


def export_csv(run_dir: str | os.PathLike, dest: str | os.PathLike) -> int:
    """Write the run's metrics as CSV (atomically); returns the number of lines (steps)."""
    rows = merged_rows(load_run(run_dir).rows)
    tmp = Path(str(dest) + ".tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=csv_columns(rows))
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return len(rows)


def _summary_writer():
    try:
        import tensorboard  # noqa: F401  (torch's writer needs it; say so plainly if missing)
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ExportError(TENSORBOARD_MISSING) from None
    return SummaryWriter


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def export_tensorboard(run_dir: str | os.PathLike, log_dir: str | os.PathLike) -> int:
    """Write the run's scalars and samples as TensorBoard events in log_dir; returns how many."""
    SummaryWriter = _summary_writer()  # noqa: N806 (a class)
    run = load_run(run_dir)
    last_time = float(run.time[-1]) if run.has_time else 0.0
    start = (Path(run_dir) / METRICS).stat().st_mtime - last_time
    written = 0
    writer = SummaryWriter(log_dir=str(log_dir))
    try:
        for row in run.rows:
            group = "train" if "loss" in row else "eval"
            step = row["step"]
            wall = start + _time_at(run, step)
            for key, value in row.items():
                value = _number(value)
                if key in ("step", "time") or value is None:
                    continue
                writer.add_scalar(f"{group}/{key}", value, step, walltime=wall)
                written += 1
        for sample in run.samples:
            step = sample["step"]
            wall = start + _time_at(run, step)
            val = sample.get("val_loss")
            head = f"step {step}" + (f", val {val:.4f}" if isinstance(val, (int, float)) else "")
            body = (sample.get("prompt") or "") + sample["text"]
            writer.add_text("samples", f"{head}\n\n```\n{body}\n```", step, walltime=wall)
            written += 1
    finally:
        writer.close()
    return written


def _time_at(run: RunRecord, step: int) -> float:
    """The run's `time` at a step (0 before the first step, or for a run without times)."""
    if not run.has_time:
        return 0.0
    return float(np.interp(step, np.r_[0.0, run.steps], np.r_[0.0, run.time]))
