"""Run directories for runs started in the window: the same format as `gptviz train`.

A window run logs to ``RUNS/<date-time>/`` (metrics.jsonl, config.json, checkpoint.pt when
saved). RUNS is GPTVIZ_RUNS_DIR if set, else gptviz's folder in the user data directory.
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import platformdirs

from ..runlog import METRICS, read_metrics

CSV_COLUMNS = ("step", "loss", "lr", "grad_norm", "tokens_per_sec", "train_loss", "val_loss")


def runs_root() -> Path:
    override = os.environ.get("GPTVIZ_RUNS_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir("gptviz")) / "runs"


def new_run_dir() -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = runs_root()
    for n in range(1000):
        path = root / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise OSError(f"cannot create a new run directory in {root}")


def export_csv(run_dir: Path, dest: str | os.PathLike) -> int:
    """Write the run's metrics as CSV (train and eval rows merged by step); returns rows."""
    rows = read_metrics(Path(run_dir) / METRICS)
    merged: dict[int, dict] = {}
    for row in rows:
        merged.setdefault(row["step"], {}).update(row)
    tmp = Path(str(dest) + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for step in sorted(merged):
            writer.writerow(merged[step])
    os.replace(tmp, dest)
    return len(merged)
