"""Following a run directory while another process writes it: `gptviz train` on this
machine, or a GPU machine writing to a synced or shared folder.

`RunFollower.poll()` returns what changed since the last poll (`RunChanges`): the new
metrics rows and samples, each with a reset flag when its file was truncated or replaced
(its rows then restart from the file's first line: drop what was shown and take these);
the settings when config.json changed; and whether checkpoint.pt changed (it is written
atomically, so a changed one is whole; a sync tool that copies it in place may still show
a half-copied file, which then fails to load and is tried again when it changes again).

Polling, not file-system events: it works on network and synced folders, where change
notifications often do not arrive, and an unchanged directory costs a few stats a poll.
The follower never writes: every file is opened read-only and nothing is created.

Bad lines never stop it: a torn last line waits until it is finished (jsonl_tail.py); a
line that is not JSON, not UTF-8 or not a row of its file is skipped, counted in
`skipped`, and named in `RunChanges.notes` with its file, line number and reason.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .jsonl_tail import JsonlTail, TailRead
from .runlog import CONFIG, METRICS
from .runs import CHECKPOINT, RunError
from .samplelog import SAMPLES

NUMBER_KEYS = ("loss", "lr", "grad_norm", "tokens_per_sec", "time", "train_loss", "val_loss")
MAX_NOTES = 20  # skipped lines named per poll; more are counted in one note
MAX_STEP = 2**53  # steps and whole numbers above this are not taken as numbers
READ_BUDGET = 65_536  # bytes read from each file per poll (benchmarks/bench_watch.py)


@dataclass
class RunChanges:
    metrics: list[dict] = field(default_factory=list)
    metrics_reset: bool = False  # metrics.jsonl started again: `metrics` is its whole content so far
    samples: list[dict] = field(default_factory=list)
    samples_reset: bool = False  # likewise for samples.jsonl (thinned, trimmed or removed)
    config: dict | None = None  # config.json, when it changed
    checkpoint: bool = False  # checkpoint.pt appeared or changed
    notes: list[str] = field(default_factory=list)  # for the user: skipped lines, files gone or unreadable
    more: bool = False  # some file has more to read than one poll takes: poll again soon

    def __bool__(self) -> bool:
        return bool(self.metrics or self.metrics_reset or self.samples or self.samples_reset
                    or self.config is not None or self.checkpoint or self.notes)


def _step_problem(row: object) -> str | None:
    if not isinstance(row, dict):
        return "not a JSON object"
    step = row.get("step")
    if not isinstance(step, int) or isinstance(step, bool):
        return "no step (a whole number)"
    if not 0 <= step <= MAX_STEP:
        return f"step {step} is out of range"
    return None


def _number_problem(row: dict, key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{key} is not a number"
    if isinstance(value, int) and abs(value) > MAX_STEP:  # e.g. 400 digits: no float holds it
        return f"{key} is out of range"
    return None


def metrics_problem(row: object) -> str | None:
    """Why a parsed line is not a metrics row, or None. Rows of kinds not known here (an
    integer step and numbers) pass, for the reader to ignore."""
    problem = _step_problem(row)
    for key in NUMBER_KEYS:
        problem = problem or _number_problem(row, key)
    return problem


def sample_problem(row: object) -> str | None:
    """Why a parsed line is not a sample (samplelog.sample_row), or None."""
    problem = _step_problem(row)
    if problem is None and not isinstance(row.get("text"), str):
        return "no text"
    if problem is None and not isinstance(row.get("prompt", ""), str):
        return "its prompt is not text"
    return problem or _number_problem(row, "val_loss")


class RunFollower:
    """Polls one run directory (RunError if it is not a folder now)."""

    def __init__(self, path: str | os.PathLike, budget: int | None = None):
        self.path = Path(path)
        if not self.path.is_dir():
            raise RunError(f"{self.path}: not a folder" if self.path.exists()
                           else f"{self.path}: no such folder")
        self.budget = budget or READ_BUDGET
        self._metrics = JsonlTail(self.path / METRICS)
        self._samples = JsonlTail(self.path / SAMPLES)
        self._config_stat: tuple | None = None
        self._checkpoint_stat: tuple | None = None
        self._folder_gone = False
        self.config: dict | None = None
        self.last_step: int | None = None  # the highest step of the metrics rows read
        self.skipped = 0  # lines skipped so far

    @property
    def has_metrics(self) -> bool:
        """Whether metrics.jsonl exists (a folder that will hold a run may not have it yet)."""
        return self._metrics.exists

    def poll(self) -> RunChanges:
        changes = RunChanges()
        if not self.path.is_dir():
            if not self._folder_gone:
                self._folder_gone = True
                changes.notes.append(f"{self.path} is gone; what was read stays shown")
            return changes
        if self._folder_gone:
            self._folder_gone = False
            changes.notes.append(f"{self.path} is back")
        metrics = self._metrics.read(self.budget)
        changes.metrics = self._rows(METRICS, metrics, metrics_problem, changes)
        changes.metrics_reset = metrics.reset
        if metrics.reset:
            self.last_step = None
        for row in changes.metrics:
            self.last_step = row["step"] if self.last_step is None else max(self.last_step, row["step"])
        samples = self._samples.read(self.budget // 4)  # a sample costs the view more than a row
        changes.samples = self._rows(SAMPLES, samples, sample_problem, changes)
        # `gptviz train` removes samples.jsonl when it starts a run afresh: start the samples over
        changes.samples_reset = samples.reset or samples.gone
        if samples.gone:
            self._samples.restart()  # a new samples.jsonl is read whole, even if it begins the same
        changes.more = metrics.more or samples.more
        self._read_config(changes)
        stat = _stat(self.path / CHECKPOINT)
        if stat is not None and stat != self._checkpoint_stat:
            changes.checkpoint = True
        self._checkpoint_stat = stat
        return changes

    # -- the two JSON-lines files ---------------------------------------------------------
    def _rows(self, name: str, read: TailRead, problem, changes: RunChanges) -> list[dict]:
        """The rows of the lines read; the notes about the file into changes."""
        if read.error:
            changes.notes.append(read.error)
        if read.gone and name == METRICS:
            changes.notes.append(f"{name} was removed; what was read stays shown until it is back")
        if read.reset:
            changes.notes.append(f"{name} was replaced or truncated: read again from its start")
        bad = [f"{name} line {reason}" for reason in read.skipped]
        rows = []
        for line_no, raw in read.lines:
            try:
                row = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                bad.append(f"{name} line {line_no}: not UTF-8 text")
                continue
            except json.JSONDecodeError as e:
                bad.append(f"{name} line {line_no}: not JSON ({e.msg} at column {e.colno})")
                continue
            except (ValueError, RecursionError) as e:  # a number of over 4300 digits; deep nesting
                bad.append(f"{name} line {line_no}: not readable JSON ({type(e).__name__})")
                continue
            reason = problem(row)
            if reason is None:
                rows.append(row)
            else:
                bad.append(f"{name} line {line_no}: {reason}")
        self.skipped += len(bad)
        room = MAX_NOTES - len(changes.notes)
        changes.notes.extend(f"skipped {b}" for b in bad[:max(room, 0)])
        if len(bad) > max(room, 0):
            changes.notes.append(f"skipped {len(bad) - max(room, 0):,} more lines of {name}")
        return rows

    # -- config.json --------------------------------------------------------------------------
    def _read_config(self, changes: RunChanges) -> None:
        path = self.path / CONFIG
        stat = _stat(path)
        if stat is None or stat == self._config_stat:
            return
        self._config_stat = stat
        try:
            config = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            changes.notes.append(f"{CONFIG} is not readable yet ({e}); tried again when it changes")
            return
        if not isinstance(config, dict):
            changes.notes.append(f"{CONFIG} is not a JSON object; ignored")
            return
        self.config = changes.config = config


def _stat(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
