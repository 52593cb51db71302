"""File → Watch run directory…: the window follows a run that another process writes —
`gptviz train` on this machine, or a GPU machine writing to a synced or shared folder.

The watched run is drawn as a run trained in the window is: its loss, evaluations and
learning rate, the global gradient norm, the training warnings, its samples, the settings
(locked) and the status bar; the Attention tab shows the model of its latest checkpoint
(watched_model.py). The per-layer diagnostics (gradient histograms, update ratios,
activations) are not in a run directory, so those views stay empty.

A QTimer on the GUI thread polls the folder (run_follow.py): a few stats when nothing
changed, and at most 64 KB read from each file a poll, so catching up with a long run is spread over
several polls, back to back, with the window responsive between them. Nothing is ever
written into the watched folder. Start, Open checkpoint and Watch are disabled while
watching; Stop watching (File menu, or the button in the status bar) or closing the window
stops the timer and waits for a checkpoint being loaded, so no timer or thread outlives it.
The curves stay shown after Stop watching, as after a run stopped in the window.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QLabel, QPushButton

from ..config import TrainConfig
from ..metrics import EvalMetrics
from ..model import ConfigError
from ..run_follow import RunChanges, RunFollower
from ..runlog import METRICS
from ..runs import CHECKPOINT, RunError
from . import window_timeline
from .payloads import StepBatch
from .watched_model import WatchedModel

if TYPE_CHECKING:
    from .main_window import MainWindow

POLL_MS = 250  # between polls of an idle folder (a poll that did not read everything: 0)
JOB_POLL_MS = 50  # between polls while a checkpoint is read or maps are drawn


class RunWatch(QObject):
    """One watched run directory, drawn into the window (RunError if it is not a folder)."""

    def __init__(self, window: MainWindow, path: str | Path, poll_ms: int = POLL_MS):
        follower = RunFollower(path)  # first: a folder refused leaves no QObject behind
        super().__init__(window)
        self.window = window
        self.follower = follower
        self.path = self.follower.path
        self.poll_ms = poll_ms
        self.model = WatchedModel()
        self.checkpoint_due = False  # checkpoint.pt changed since it was last loaded
        self.refresh_due = False  # the Attention view asked for maps of its prompt
        self.checkpoint_step: int | None = None
        self.max_iters: int | None = None
        self.steps_seen = False  # a train row has been drawn (the status bar shows its loss)
        self.last_loss = self.last_speed = float("nan")
        self.run_time: float | None = None
        self.note = ""
        self.label = QLabel(objectName="watchLabel")
        self.stop_button = QPushButton("Stop watching", objectName="stopWatchingButton")
        self.stop_button.setToolTip(f"Stop following {self.path} (the curves stay shown)")
        self.stop_button.clicked.connect(window.stop_watching)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.poll)

    # -- starting and stopping ------------------------------------------------------------
    def start(self) -> None:
        w = self.window
        w.loss_plot.clear()
        w.gradients.clear()
        w.samples.clear()
        w.activations.clear()
        window_timeline.reset(w)
        w.training_warnings.reset(None)
        w.settings_panel.setLocked(True)
        w.status.reset(0, 1)
        w.status.set_state("watching")
        w.status.insertPermanentWidget(0, self.label)
        w.status.insertPermanentWidget(1, self.stop_button)
        self.label.show()
        self.stop_button.show()
        self._show_status()
        self.poll()

    def stop(self) -> None:
        self.timer.stop()
        if not self.model.wait():
            self.window.statusBar().showMessage("A checkpoint is still being read; it will be dropped.")
        w = self.window
        for widget in (self.label, self.stop_button):
            w.status.removeWidget(widget)
            widget.deleteLater()
        w.status.set_state("idle")
        w.settings_panel.setLocked(False)

    # -- polling ------------------------------------------------------------------------------
    def poll(self) -> None:
        """Read what changed, draw it, and look again (at once when there is more to read)."""
        try:
            changes = self.follower.poll()
            if changes:
                self._apply(changes)
            self._collect_model()
        except Exception as e:  # a bug here must not leave a half-watched run: say so and stop
            self.window.show_error(f"Stopped watching {self.path}: {type(e).__name__}: {e}")
            QTimer.singleShot(0, self.window.stop_watching)
            return
        settings = self.window.attention_view.settings()
        if self.checkpoint_due and not self.model.busy():
            self.checkpoint_due = self.refresh_due = False
            self.model.load(self.path / CHECKPOINT, settings)
        elif self.refresh_due and not self.model.busy():
            self.refresh_due = False
            self.model.refresh(settings)
        self._show_status()
        if changes.more:
            self.timer.start(0)
        else:  # while a job runs, look for its result sooner
            self.timer.start(min(JOB_POLL_MS, self.poll_ms) if self.model.busy() else self.poll_ms)

    def refresh_attention(self) -> None:
        """The Attention view's Refresh: the latest checkpoint's maps for the prompt now typed
        (on the next poll, once no checkpoint is being read)."""
        if self.model.current is None and not self.model.busy():
            self.window.attention_view.status.setText(
                "The maps appear once the watched run has written a checkpoint.")
            return
        self.refresh_due = True
        self.timer.start(0)

    def _collect_model(self) -> None:
        result = self.model.take()
        if result is None:
            return
        if result.error:
            self.window.statusBar().showMessage(f"Watched checkpoint: {result.error}", 10_000)
        if result.loaded is not None:
            self.checkpoint_step = result.loaded.step
        if result.maps is not None:
            self.window.attention_view.show_maps(result.maps)

    # -- drawing what changed -------------------------------------------------------------------
    def _apply(self, changes: RunChanges) -> None:
        w = self.window
        if changes.config is not None:
            self._use_config(changes.config)
        if changes.metrics_reset:
            w.loss_plot.clear()
            w.gradients.clear()
            window_timeline.reset(w)
            self.run_time, self.steps_seen = None, False
        if changes.metrics_reset or changes.config is not None and not self.steps_seen:
            w.training_warnings.reset(self._train_config())  # the run's warmup, from its settings
        for batch in _step_batches([r for r in changes.metrics if "loss" in r]):
            w.loss_plot.append_steps(batch)
            w.gradients.append_steps(batch)
            w.training_warnings.observe_steps(batch)
            window_timeline.on_steps(w, batch)
            self.last_loss, self.last_speed = float(batch.loss[-1]), float(batch.tokens_per_sec[-1])
            self.steps_seen = True
            if batch.time is not None:
                self.run_time = float(batch.time[-1])
        for row in changes.metrics:
            if "val_loss" in row:
                ev = EvalMetrics(row["step"], _number(row, "train_loss"), _number(row, "val_loss"))
                w.loss_plot.append_eval(ev)
                w.training_warnings.observe_eval(ev)
                window_timeline.on_eval(w, ev)
        if changes.samples_reset:
            w.samples.clear()
        for row in changes.samples:
            w.samples.begin_sample(row["step"], _number(row, "val_loss", None))
            w.samples.append_text(row.get("prompt", "") + row["text"])
            w.samples.end_sample()
            window_timeline.on_sample_recorded(w, row)
        if changes.checkpoint:
            self.checkpoint_due = True
        if changes.notes:
            self.note = changes.notes[-1]
            w.statusBar().showMessage(" · ".join(changes.notes[:3]), 10_000)

    def _use_config(self, values: dict) -> None:
        max_iters = values.get("max_iters")
        self.max_iters = max_iters if isinstance(max_iters, int) and max_iters > 0 else None
        config = self._train_config(values)
        if config is not None:
            self.window.settings_panel.set_config(config)
            self.window.settings_panel.setLocked(True)
            self.window.gradients.set_clip(config.grad_clip)

    def _train_config(self, values: dict | None = None) -> TrainConfig | None:
        values = self.follower.config if values is None else values
        if values is None:
            return None
        try:
            return TrainConfig.from_dict({k: v for k, v in values.items() if k != "corpus"})
        except (ConfigError, TypeError, ValueError):
            return None  # a newer or foreign config.json: the curves are shown without it

    def _show_status(self) -> None:
        f, status = self.follower, self.window.status
        step = f.last_step
        text = f"Watching {self.path.name or self.path} — "
        text += f"step {step if step is not None else 0}" if f.has_metrics else f"waiting for {METRICS}"
        if self.checkpoint_step is not None:
            text += f" · checkpoint at step {self.checkpoint_step}"
        if f.skipped:
            text += f" · {f.skipped:,} line{'s' * (f.skipped != 1)} skipped"
        self.label.setText(text)
        self.label.setToolTip(f"{self.path}\n{self.note}" if self.note else str(self.path))
        if step is not None and self.steps_seen:
            goal = max(self.max_iters or step, step, 1)
            status.update_step(step, goal, self.last_loss, self.last_speed)
            run_time = "–" if self.run_time is None else f"{self.run_time:,.1f} s"
            status.clock.setText(f"training time {run_time}")


def _number(row: dict, key: str, missing=np.nan):
    value = row.get(key)
    return missing if value is None else float(value)


def _step_batches(rows: list[dict]) -> list[StepBatch]:
    """Train rows as StepBatches, split where the step goes back (History takes increasing
    steps within a batch, and drops what a later batch rewinds over)."""
    batches, start = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i]["step"] <= rows[i - 1]["step"]:
            part = rows[start:i]
            start = i

            def col(key, part=part):
                return np.array([_number(r, key) for r in part], dtype=np.float64)
            time = col("time") if all(r.get("time") is not None for r in part) else None
            batches.append(StepBatch(col("step"), col("loss"), col("lr"), col("grad_norm"),
                                     col("tokens_per_sec"), time))
    return [b for b in batches if len(b)]


# -- the window's commands (through MainWindow's slots) -------------------------------------------
def choose_and_watch(window: MainWindow) -> None:
    path = QFileDialog.getExistingDirectory(window, "Watch a run directory (read-only)")
    if path:
        watch(window, path)


def watch(window: MainWindow, path: str | Path) -> bool:
    """Follow the run directory at path; False (and why, in the error banner) if it cannot."""
    if window.active():
        window.show_error("Stop the current run before watching another.")
        return False
    try:
        new = RunWatch(window, path)
    except RunError as e:
        window.show_error(f"Cannot watch it: {e}")
        return False
    stop_watching(window)
    window.hide_error()
    window.watch = new
    window.views.setCurrentIndex(0)  # the Training tab
    new.start()
    window._update_controls()
    return True


def stop_watching(window: MainWindow) -> None:
    if window.watch is not None:
        window.watch.stop()
        window.watch.deleteLater()
        window.watch = None
        window._update_controls()
