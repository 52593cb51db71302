"""The status line: step / max, progress, loss, tokens/s, elapsed and ETA."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar


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
        for w in (self.state, self.step, self.progress, self.loss, self.speed, self.clock):
            self.addPermanentWidget(w)
        self._started: float | None = None
        self._active = 0.0  # seconds spent running (pauses excluded)
        self._first_step: int | None = None

    def set_state(self, state: str) -> None:
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
        self._active, self._started, self._first_step = 0.0, None, step
        self.progress.setRange(0, max_steps)
        self.progress.setValue(step)
        self.step.setText(f"step {step} / {max_steps}")

    def set_max_steps(self, step: int, max_steps: int) -> None:
        """A new goal for the same run (training continued past its old max_iters)."""
        self.progress.setRange(0, max_steps)
        self.progress.setValue(step)
        self.step.setText(f"step {step} / {max_steps}")

    def update_step(self, step: int, max_steps: int, loss: float, tokens_per_sec: float) -> None:
        if self._first_step is None:
            self._first_step = step
        self.progress.setRange(0, max_steps)
        self.progress.setValue(step)
        self.step.setText(f"step {step} / {max_steps}")
        self.loss.setText(f"loss {loss:.4f}")
        self.speed.setText(f"{tokens_per_sec:,.0f} tok/s")
        elapsed = self.elapsed()
        done = step - self._first_step
        eta = elapsed / done * (max_steps - step) if done > 0 else None
        self.clock.setText(f"elapsed {_clock(elapsed)} · ETA {_clock(eta) if eta is not None else '–'}")
