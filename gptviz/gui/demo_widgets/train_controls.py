"""Step / Play / Reset and a learning-rate slider, shared by the demos that train something,
and `TrainingDemo`, what those demos do with them alike.

The slider moves over round learning rates on a log scale (1, 2, 3, 5, 7 in each decade):
learning rates that matter differ by factors of ten, and a learner should read "0.003", not
"0.0031623". Play is a timer that asks for a tick every `interval_ms`; what a tick does is
the widget's business.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from .base import DemoWidget

MANTISSAS = (1, 2, 3, 5, 7)


def round_rates(lo: float, hi: float, include: float | None = None) -> list[float]:
    """The round learning rates from `lo` to `hi` (and `include`, if it is not one of them)."""
    rates = {float(f"{m}e{e}") for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
             for m in MANTISSAS}
    rates = {r for r in rates if lo * (1 - 1e-9) <= r <= hi * (1 + 1e-9)}
    if include is not None:
        rates.add(float(include))
    return sorted(rates)


def rate_text(lr: float) -> str:
    return f"{lr:g}"


class LearningRateSlider(QWidget):
    """A slider over round learning rates, with the chosen one written beside it."""

    valueChanged = Signal(float)

    def __init__(self, value: float, lo: float, hi: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.rates = round_rates(lo, hi, include=value)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("demoLearningRate")
        self.slider.setRange(0, len(self.rates) - 1)
        self.slider.setPageStep(len(MANTISSAS))        # Page Up / Down: a factor of ten
        self.slider.setValue(self.rates.index(float(value)))
        self.slider.setToolTip("The learning rate: how far each step moves the weights (log scale)")
        self.slider.setMinimumWidth(120)
        self.label = QLabel()
        self.label.setObjectName("demoLearningRateValue")
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("0.0007 "))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("learning rate"))
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._moved)
        self._moved(self.slider.value())

    def value(self) -> float:
        return self.rates[self.slider.value()]

    def set_value(self, lr: float) -> None:
        """Move to the round rate nearest `lr` (on the log scale)."""
        nearest = min(range(len(self.rates)), key=lambda i: abs(math.log(self.rates[i] / lr)))
        self.slider.setValue(nearest)

    def _moved(self, index: int) -> None:
        self.label.setText(rate_text(self.rates[index]))
        self.valueChanged.emit(self.rates[index])


class TrainControls(QWidget):
    """Step, Play/Pause and Reset buttons, and optionally a learning-rate slider.

    `tick` fires every `interval_ms` while playing; `step` when Step is clicked; `reset`
    when Reset is. `pause()` is also how a widget stops Play itself (e.g. when training
    diverged).
    """

    step = Signal()
    tick = Signal()
    reset = Signal()
    playingChanged = Signal(bool)

    def __init__(self, interval_ms: int, lr: float | None = None, lr_range: tuple[float, float] = (1e-4, 1.0),
                 parent: QWidget | None = None):
        super().__init__(parent)
        self._can_step = True
        self.step_button = QPushButton("Step")
        self.step_button.setObjectName("demoStep")
        self.step_button.setToolTip("One training step")
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("demoPlay")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Train step after step until paused")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setObjectName("demoReset")
        self.reset_button.setToolTip("Back to the start, with the learning rate chosen now")
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for button in (self.step_button, self.play_button, self.reset_button):
            layout.addWidget(button)
        self.rate: LearningRateSlider | None = None
        if lr is not None:
            self.rate = LearningRateSlider(lr, *lr_range)
            layout.addSpacing(12)
            layout.addWidget(self.rate, 1)
        else:
            layout.addStretch(1)
        self.step_button.clicked.connect(self.step)
        self.play_button.toggled.connect(self._toggled)
        self.reset_button.clicked.connect(self.reset)

    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self) -> None:
        self.play_button.setChecked(True)

    def pause(self) -> None:
        self.play_button.setChecked(False)

    def _toggled(self, on: bool) -> None:
        if on:
            self.timer.start()
        else:
            self.timer.stop()
        self.play_button.setText("Pause" if on else "Play")
        self.step_button.setEnabled(not on and self._can_step)
        self.playingChanged.emit(on)

    def set_can_step(self, can: bool) -> None:
        """Whether Step and Play make sense now (not after the numbers became inf or nan)."""
        self._can_step = can
        if not can:
            self.pause()
        self.step_button.setEnabled(can and not self.playing())
        self.play_button.setEnabled(can)


class TrainingDemo(DemoWidget):
    """A demo that trains something with `self.controls` (TrainControls with a learning-rate
    slider). A subclass sets `self.controls`, keeps what trains in `self.learning` (with an
    `lr`) and defines `_start(lr)`, which makes a fresh `self.learning`."""

    controls: TrainControls

    def reset(self) -> None:
        """Pause, and start over with the learning rate chosen now."""
        self.controls.pause()
        self._start(self.controls.rate.value())

    def _set_lr(self, lr: float) -> None:
        """A new learning rate applies from the next step on; Reset starts over with it."""
        self.learning.lr = lr

    def stop(self) -> None:
        self.controls.pause()
