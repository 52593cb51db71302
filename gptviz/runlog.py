"""A run directory's metrics.jsonl: one JSON object per line, every line with a `step`.

Train rows: step, loss, lr, grad_norm, tokens_per_sec. Eval rows: step, train_loss,
val_loss. Lines are flushed as they are written so another process can follow the file.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

METRICS = "metrics.jsonl"
CONFIG = "config.json"


def _clean(row: dict) -> dict:
    # JSON has no NaN/inf; write them as null rather than produce invalid JSON.
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def read_metrics(path: str | os.PathLike) -> list[dict]:
    """All complete, well-formed rows (a partial last line is skipped)."""
    rows = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return rows
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int):
            rows.append(row)
    return rows


class MetricsLog:
    def __init__(self, run_dir: str | os.PathLike, resume_step: int | None = None):
        """Open run_dir/metrics.jsonl for appending.

        When resuming from a checkpoint at resume_step, rows written after it (by a run
        that went on past its last checkpoint) are dropped so the curve has no repeats.
        """
        self.path = Path(run_dir) / METRICS
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume_step is None:
            self.path.write_text("", encoding="utf-8")
        else:
            kept = [r for r in read_metrics(self.path) if r["step"] <= resume_step]
            tmp = self.path.with_suffix(".jsonl.tmp")
            tmp.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
            os.replace(tmp, self.path)
        self._file = open(self.path, "a", encoding="utf-8")

    def write(self, row: dict) -> None:
        self._file.write(json.dumps(_clean(row)) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_config(run_dir: str | os.PathLike, config: dict) -> None:
    path = Path(run_dir) / CONFIG
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
