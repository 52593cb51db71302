"""The status line: step / max, progress, loss, tokens/s, elapsed and ETA.

Steps come up to ~30 times a second; the line shows the latest at most 4 times a second
(text to read, not to watch). Each update used to re-lay out the status bar and repaint
the window behind it: py-spy put QLabel painting and text layout at ~10 % of the GUI
thread's samples while training `default`. Fixed-size labels end the relayouts.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

SHOW_EVERY_S = 0.25


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


class TrainingStatus(QStatusBar):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.state = QLabel("idle")
        self.step = QLabel("step –")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(False)
        self.loss = QLabel("loss –")
        self.speed = QLabel("– tok/s")
        self.clock = QLabel("elapsed – · ETA –")
        widest = {self.state: "finished, stopping…", self.step: "step 10000000 / 10000000",
                  self.loss: "loss 100.0000", self.speed: "10,000,000 tok/s",
                  self.clock: "elapsed 100:00:00 · ETA 100:00:00"}
        for label, text in widest.items():  # a fixed size: new text does not relayout the window
            label.setFixedSize(label.fontMetrics().horizontalAdvance(text) + 8, label.sizeHint().height())
        for w in (self.state, self.step, self.progress, self.loss, self.speed, self.clock):
            self.addPermanentWidget(w)
        self._started: float | None = None
        self._active = 0.0  # seconds spent running (pauses excluded)
        self._first_step: int | None = None
        self._pending: tuple[int, int, float, float] | None = None  # the latest step, not shown yet
        self._shown_at = -SHOW_EVERY_S
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._show_pending)

    def set_state(self, state: str) -> None:
        self._show_pending()  # e.g. paused: the step it paused at
        self.state.setText(state)
        now = time.monotonic()
        if state == "running":
            self._started = now
        elif self._started is not None:
            self._active += now - self._started
            self._started = None

    def elapsed(self) -> float:
        running = time.monotonic() - self._started if self._started is not None else 0.0
        return self._active + running

    def reset(self, step: int, max_steps: int) -> None:
        self._pending = None
        self._active, self._started, self._first_step = 0.0, None, step
        self._show_step(step, max_steps)

    def set_max_steps(self, step: int, max_steps: int) -> None:
        """A new goal for the same run (training continued past its old max_iters)."""
        self._show_pending()
        self._show_step(step, max_steps)

    def update_step(self, step: int, max_steps: int, loss: float, tokens_per_sec: float) -> None:
        """Show this step now, or within SHOW_EVERY_S if the line changed less than that ago."""
        if self._first_step is None:
            self._first_step = step
        self._pending = (step, max_steps, loss, tokens_per_sec)
        if not self._timer.isActive():
            wait = self._shown_at + SHOW_EVERY_S - time.monotonic()
            if wait > 0:
                self._timer.start(int(wait * 1000) + 1)
            else:
                self._show_pending()

    def _show_pending(self) -> None:
        self._timer.stop()
        if self._pending is None:
            return
        step, max_steps, loss, tokens_per_sec = self._pending
        self._pending, self._shown_at = None, time.monotonic()
        self._show_step(step, max_steps)
        self.loss.setText(f"loss {loss:.4f}")
        self.speed.setText(f"{tokens_per_sec:,.0f} tok/s")
        elapsed = self.elapsed()
        done = step - self._first_step
        eta = elapsed / done * (max_steps - step) if done > 0 else None
        self.clock.setText(f"elapsed {_clock(elapsed)} · ETA {_clock(eta) if eta is not None else '–'}")

    def _show_step(self, step: int, max_steps: int) -> None:
        self.progress.setRange(0, max_steps)
        self.progress.setValue(step)
        self.step.setText(f"step {step} / {max_steps}")
