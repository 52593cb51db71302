"""One neuron learning to answer 42: Step / Play, a learning-rate slider, the loss and the weights.

The engine is `gptviz.lessons.neuron.TargetLearning`; its steps run on a short-lived thread
(short_thread.py). Too large a learning rate is shown, not hidden: when the loss has grown
three steps running, Play stops and a warning says why; once it is inf or nan, Step stops too.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout

from ...lessons.neuron import TARGET, TargetLearning
from ..plot_style import SERIES_COLORS, FollowsPalette, apply_palette, palette_colors, prepare_plot
from .short_thread import on_short_thread
from .train_controls import TrainControls, TrainingDemo

PLAY_INTERVAL_MS = 120     # ~8 steps a second: slow enough to watch each one
LR_RANGE = (1e-4, 0.1)
LEARNED = 1e-8             # Play stops when the loss is this small: y = 42 to 4 decimals
WARNING_STYLE = "color: #d93025; font-weight: bold;"
DONE_STYLE = "color: #16a34a; font-weight: bold;"


def finite_or_zero(values: list[float]) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(a), a, 0.0)


class NeuronDemo(FollowsPalette, TrainingDemo):
    """state: seed (0), lr (0.001), steps (trained on open, 0), target (42)."""

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        self.seed = int(state.get("seed", 0))
        self.target = float(state.get("target", TARGET))
        lr = float(state.get("lr", 1e-3))
        self.controls = TrainControls(PLAY_INTERVAL_MS, lr=lr, lr_range=LR_RANGE)
        self.status = QLabel()
        self.status.setObjectName("neuronStatus")
        self.warning = QLabel()
        self.warning.setObjectName("neuronWarning")
        self.warning.setWordWrap(True)
        self.warning.hide()

        self.graphics = pg.GraphicsLayoutWidget()
        title = f"Loss (y − {self.target:g})² after each step (log scale)"
        self.loss_plot = self.graphics.addPlot(row=0, col=0, title=title)
        self.weight_plot = self.graphics.addPlot(row=1, col=0, title="The 100 weights")
        for plot in (self.loss_plot, self.weight_plot):
            prepare_plot(plot, many_points=False)
        self.loss_plot.setLogMode(x=False, y=True)
        self.loss_plot.setLabel("bottom", "step")
        self.weight_plot.setLabel("bottom", "input number")
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen(SERIES_COLORS[1], width=1), symbol="o",
                                              symbolSize=4, symbolBrush=SERIES_COLORS[1], symbolPen=None)
        self.bars = pg.BarGraphItem(x=np.arange(100), height=np.zeros(100), width=0.8,
                                    brush=SERIES_COLORS[0], pen=None)
        self.weight_plot.addItem(self.bars)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addWidget(self.status)
        layout.addWidget(self.warning)
        layout.addWidget(self.graphics, 1)
        self.controls.step.connect(self.step)
        self.controls.tick.connect(self._tick)
        self.controls.reset.connect(self.reset)
        self.controls.rate.valueChanged.connect(self._set_lr)
        self._restyle()
        self._start(lr, int(state.get("steps", 0)))

    # -- training ----------------------------------------------------------------------

    def _start(self, lr: float, steps: int = 0) -> None:
        def work():
            learning = TargetLearning(seed=self.seed, lr=lr, target=self.target)
            learning.train(steps)
            return learning, self._snapshot(learning)

        self.learning, self.shown = on_short_thread(work)
        self.controls.set_can_step(True)
        self._show()

    @staticmethod
    def _snapshot(learning: TargetLearning) -> dict:
        """What the widget shows, as plain numbers (read on the worker thread)."""
        return {"output": learning.output(), "loss": learning.loss, "losses": learning.losses(),
                "w": learning.weights(), "b": learning.bias(), "steps": learning.steps}

    def step(self) -> None:
        def work():
            self.learning.step()
            return self._snapshot(self.learning)

        self.shown = on_short_thread(work)
        self._show()

    def _tick(self) -> None:
        self.step()
        if self.learning.loss < LEARNED:
            self.controls.pause()

    # -- drawing -----------------------------------------------------------------------

    def _show(self) -> None:
        s, learning = self.shown, self.learning
        self.status.setText(f"step {s['steps']}   ·   output y = {s['output']:.4g}   ·   "
                            f"loss (y − {self.target:g})² = {s['loss']:.4g}")
        history = np.asarray(learning.history, dtype=np.float64)
        steps = np.arange(len(history), dtype=np.float64)
        keep = np.isfinite(history) & (history > 0)
        self.loss_curve.setData(steps[keep], history[keep])
        self.bars.setOpts(height=finite_or_zero(s["w"]))
        self.weight_plot.setTitle(f"The 100 weights (and the bias b = {s['b']:.4g})",
                                  color=palette_colors(self)[1].name())
        if learning.diverged:
            self._warn(f"The loss is {s['loss']}: the weights grew past what a float32 can hold. "
                       "The learning rate is far too large. Lower it and press Reset.")
            self.controls.set_can_step(False)
        elif learning.diverging:
            self._warn("The loss is shooting up: this learning rate is too large. Every step "
                       "overshoots 42 by more than the one before, so Play stopped. "
                       "Lower the learning rate and press Reset (or Step on to watch it blow up).")
            self.controls.pause()
        elif s["loss"] < LEARNED:
            self._warn(f"Learned: the output is {s['output']:.5g}, the loss is tiny.", DONE_STYLE)
        else:
            self.warning.hide()

    def _warn(self, text: str, style: str = WARNING_STYLE) -> None:
        self.warning.setText(text)
        self.warning.setStyleSheet(style)
        self.warning.show()

    def _restyle(self) -> None:
        apply_palette(self, [self.graphics], [self.loss_plot, self.weight_plot])

    # -- the demo API ------------------------------------------------------------------

    def result(self) -> dict:
        """output y, loss, losses (one per step, before its update), w, b: as the step's code."""
        s = self.shown
        return {"output": s["output"], "loss": s["loss"], "losses": list(s["losses"]),
                "w": list(s["w"]), "b": s["b"]}
