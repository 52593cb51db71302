"""A neuron learning to spot a bump in the middle of 100 pixels: accuracy, weights, and a try-out.

The engine is `gptviz.lessons.feature_neuron.FeatureLearning`, stepped on a short-lived
thread (short_thread.py). Below the training plots, a slider moves a bump along a clean
input and the widget shows what the neuron says about it, so the learner can check the
neuron lights up in the middle and not at the sides.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout

from ...lessons.feature_neuron import BUMP, MIDDLE, TEST_EXAMPLES, WIDTH, FeatureLearning, bump_input
from ..plot_style import SERIES_COLORS, FollowsPalette, apply_palette, faded, palette_colors, prepare_plot
from .accuracy_plot import AccuracyCurve
from .short_thread import on_short_thread
from .train_controls import TrainControls, TrainingDemo

PLAY_INTERVAL_MS = 60
STEPS_PER_TICK = 2
LR_RANGE = (1e-3, 10.0)


class FeatureNeuronDemo(FollowsPalette, TrainingDemo):
    """state: seed (0), lr (0.1), batch (32), steps (trained on open, 0), probe (bump start, 45)."""

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        self.seed = int(state.get("seed", 0))
        self.batch = int(state.get("batch", 32))
        lr = float(state.get("lr", 0.1))
        self.controls = TrainControls(PLAY_INTERVAL_MS, lr=lr, lr_range=LR_RANGE)
        self.status = QLabel()
        self.status.setObjectName("featureStatus")

        self.graphics = pg.GraphicsLayoutWidget()
        self.accuracy_plot = self.graphics.addPlot(row=0, col=0,
                                                   title=f"Accuracy on {TEST_EXAMPLES} test inputs")
        self.weight_plot = self.graphics.addPlot(row=1, col=0)
        self.input_plot = self.graphics.addPlot(row=2, col=0)
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 4)
        self.graphics.ci.layout.setRowStretchFactor(2, 1)
        for plot in (self.accuracy_plot, self.weight_plot):
            prepare_plot(plot, many_points=False)
        self.accuracy = AccuracyCurve(self.accuracy_plot)
        self.middle = pg.LinearRegionItem((MIDDLE[0] - 0.5, MIDDLE[1] - 0.5), movable=False,
                                          brush=faded(SERIES_COLORS[2], 40), pen=pg.mkPen(None))
        self.weight_plot.addItem(self.middle)
        self.bars = pg.BarGraphItem(x=np.arange(WIDTH), height=np.zeros(WIDTH), width=0.8,
                                    brush=SERIES_COLORS[0], pen=None)
        self.weight_plot.addItem(self.bars)
        self.input_image = pg.ImageItem(axisOrder="row-major")
        self.input_plot.addItem(self.input_image)
        self.input_plot.hideAxis("left")
        self.input_plot.getViewBox().disableAutoRange()
        self.input_plot.setXLink(self.weight_plot)     # pixel i under weight i
        self.weight_plot.getViewBox().disableAutoRange(axis=pg.ViewBox.XAxis)
        self.weight_plot.setXRange(-1, WIDTH, padding=0)
        self.input_plot.setYRange(0, 1, padding=0)
        self.input_plot.setMouseEnabled(x=False, y=False)
        self.input_plot.setMaximumHeight(90)

        self.probe = QSlider(Qt.Orientation.Horizontal)
        self.probe.setObjectName("featureProbe")
        self.probe.setRange(0, WIDTH - BUMP)
        self.probe.setValue(int(state.get("probe", 45)))
        self.probe.setToolTip("Move the bump along the input and see what the neuron says")
        self.answer = QLabel()
        self.answer.setObjectName("featureAnswer")
        self.answer.setMinimumWidth(self.answer.fontMetrics().horizontalAdvance("says 0.999: middle! "))
        probe_row = QHBoxLayout()
        probe_row.addWidget(QLabel("Try it: bump at"))
        probe_row.addWidget(self.probe, 1)
        probe_row.addWidget(self.answer)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addWidget(self.status)
        layout.addWidget(self.graphics, 1)
        layout.addLayout(probe_row)
        self.controls.step.connect(lambda: self.advance(1))
        self.controls.tick.connect(lambda: self.advance(STEPS_PER_TICK))
        self.controls.reset.connect(self.reset)
        self.controls.rate.valueChanged.connect(self._set_lr)
        self.probe.valueChanged.connect(lambda _: self._show_probe())
        self._restyle()
        self._start(lr, int(state.get("steps", 0)))

    # -- training ----------------------------------------------------------------------

    def _start(self, lr: float, steps: int = 0) -> None:
        start = self.probe.value()

        def work():
            learning = FeatureLearning(seed=self.seed, lr=lr, batch=self.batch)
            learning.train(steps)
            return learning, self._snapshot(learning, start)

        self.learning, self.shown = on_short_thread(work)
        self._show()

    @staticmethod
    def _snapshot(learning: FeatureLearning, start: int) -> dict:
        """What the widget shows, as plain numbers (read on the worker thread), with the
        neuron's answer for a bump at `start`."""
        return {"accuracy": learning.accuracies[-1], "steps": learning.steps, "w": learning.weights(),
                "b": learning.bias(), "loss": learning.losses[-1] if learning.losses else None,
                "probe": learning.probability(bump_input(start))}

    def advance(self, steps: int) -> None:
        start = self.probe.value()

        def work():
            self.learning.train(steps)
            return self._snapshot(self.learning, start)

        self.shown = on_short_thread(work)
        self._show()

    # -- drawing -----------------------------------------------------------------------

    def _show(self) -> None:
        s = self.shown
        loss = "" if s["loss"] is None else f"   ·   loss on the last batch {s['loss']:.3f}"
        self.status.setText(f"step {s['steps']}   ·   accuracy {100 * s['accuracy']:.1f} %{loss}")
        self.accuracy.show(self.learning.accuracies)
        self.bars.setOpts(height=np.asarray(s["w"]))
        self.weight_plot.setTitle(f"The 100 weights (bias {s['b']:.3g}); shaded: the middle",
                                  color=palette_colors(self)[1].name())
        self._show_answer(s["probe"])

    def _show_probe(self) -> None:
        start = self.probe.value()
        self.shown["probe"] = on_short_thread(lambda: self.learning.probability(bump_input(start)))
        self._show_answer(self.shown["probe"])

    def _show_answer(self, p: float) -> None:
        start = self.probe.value()
        pixels = 0.08 * np.ones((1, WIDTH), dtype=np.float32)
        pixels[0, start:start + BUMP] = 1.0
        self.input_image.setImage(pixels, levels=(0.0, 1.0), autoLevels=False)
        self.input_image.setRect(-0.5, 0.0, WIDTH, 1.0)    # after setImage: it scales by the image's size
        lit = p > 0.5
        colour = QColor(SERIES_COLORS[2] if lit else SERIES_COLORS[8])
        self.answer.setText(f"says {p:.3f}: {'middle!' if lit else 'side'}")
        self.answer.setStyleSheet(f"color: {colour.name()}; font-weight: bold;")
        self.input_plot.setTitle(f"The input: a bump at pixels {start}–{start + BUMP - 1}",
                                 color=palette_colors(self)[1].name())

    def _restyle(self) -> None:
        apply_palette(self, [self.graphics], [self.accuracy_plot, self.weight_plot, self.input_plot])

    # -- the demo API ------------------------------------------------------------------

    def result(self) -> dict:
        """accuracy (on the test set), w, b and the probe's output, as the step's code computes them."""
        s = self.shown
        return {"accuracy": s["accuracy"], "w": list(s["w"]), "b": s["b"], "probe": s["probe"]}
