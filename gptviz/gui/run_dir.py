"""Run directories for runs started in the window: the same format as `gptviz train`.

A window run logs to ``RUNS/<date-time>/`` (metrics.jsonl, config.json, checkpoint.pt when
saved, samples.jsonl once sampled). RUNS is GPTVIZ_RUNS_DIR if set, else gptviz's folder
in the user data directory. Exporting a run: gptviz/export.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import platformdirs


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
