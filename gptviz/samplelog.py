"""A run directory's samples.jsonl: the text the model wrote as it learned, one JSON object
per line.

Each line: `step`, `val_loss` (the latest evaluation then, or null), `prompt`, `text` (the
generated characters, without the prompt) and `settings` (temperature, top_k, top_p,
max_new_tokens, seed). The window and `gptviz train` both write it.

Appending opens the file, writes one whole line with one write() and closes it: in append
mode the line lands at the end even if another process appends too, and a reader that
meets a torn last line (a crash mid-write) skips it. Samples are rare (every few hundred
steps), so the open per sample costs nothing that matters (~50 µs).

The file is bounded (MAX_BYTES): when a sample would take it past the limit, every second
sample of the older half is dropped — the first sample stays, so the whole run stays
browsable at a coarser grain, like the plots' history — and the file is replaced
atomically (temp file + os.replace). One sample's text is cut at MAX_TEXT characters.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

SAMPLES = "samples.jsonl"
MAX_BYTES = 4_000_000
MAX_TEXT = 100_000  # the window's longest sample


def sample_row(step: int, val_loss: float | None, prompt: str, text: str, *, temperature: float,
               top_k: int | None, top_p: float | None, max_new_tokens: int, seed: int | None) -> dict:
    """The line written for one sample (None or NaN val_loss: no evaluation yet)."""
    if val_loss is not None and not math.isfinite(val_loss):
        val_loss = None
    return {"step": int(step), "val_loss": val_loss, "prompt": prompt, "text": text[:MAX_TEXT],
            "settings": {"temperature": temperature, "top_k": top_k, "top_p": top_p,
                         "max_new_tokens": max_new_tokens, "seed": seed}}


def read_samples(path: str | os.PathLike) -> list[dict]:
    """The samples of one continuous run, oldest first.

    Lines that are torn or not sample objects are skipped. A sample at a lower step than
    earlier ones (a run resumed from an older checkpoint, before the log was trimmed)
    replaces the earlier samples from after that step, as the resumed run's curve does.
    """
    path = Path(path)
    if path.is_dir():
        path = path / SAMPLES
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    rows: list[dict] = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not (isinstance(row, dict) and isinstance(row.get("step"), int)
                and isinstance(row.get("text"), str)):
            continue
        while rows and rows[-1]["step"] > row["step"]:
            rows.pop()
        rows.append(row)
    return rows


def append_sample(run_dir: str | os.PathLike, row: dict, max_bytes: int = MAX_BYTES) -> None:
    """Add one sample (see sample_row) to run_dir/samples.jsonl, keeping the file bounded."""
    path = Path(run_dir) / SAMPLES
    line = json.dumps(row, ensure_ascii=False) + "\n"
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        size = 0
    if size and size + len(line.encode("utf-8")) > max_bytes:
        _thin(path, max_bytes - len(line.encode("utf-8")))
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)


def trim_samples(run_dir: str | os.PathLike, resume_step: int | None) -> None:
    """Start the samples afresh (None) or keep those up to a checkpoint's step, like MetricsLog."""
    path = Path(run_dir) / SAMPLES
    if resume_step is None:
        path.unlink(missing_ok=True)
    elif path.exists():
        _rewrite(path, [r for r in read_samples(path) if r["step"] <= resume_step])


def _thin(path: Path, budget: int) -> None:
    """Drop every second sample of the older half until the file fits in budget bytes."""
    rows = read_samples(path)
    sizes = [len(json.dumps(r, ensure_ascii=False).encode("utf-8")) + 1 for r in rows]
    while rows and sum(sizes) > budget:
        if len(rows) == 1:
            rows, sizes = [], []
            break
        half = len(rows) // 2
        keep = [i for i in range(len(rows)) if i >= half or i % 2 == 0]
        if len(keep) == len(rows):  # too few to thin: drop the second oldest
            keep = [i for i in range(len(rows)) if i != 1]
        rows, sizes = [rows[i] for i in keep], [sizes[i] for i in keep]
    _rewrite(path, rows)


def _rewrite(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    os.replace(tmp, path)
