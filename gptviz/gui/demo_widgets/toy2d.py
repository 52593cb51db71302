"""A small network learning a 2-D toy problem, its decision region redrawn as it trains.

Pick the data (blobs, moons, circles, spiral), the depth and width of the network and its
activation; Step / Play / Reset and the learning rate. The picture is the network's output
on a 64 × 64 grid (blue: class 0, orange: class 1, the background colour where it is
unsure) under the points; beside it, the accuracy after every step. With no hidden layer
the boundary can only be a straight line, and on curved data the accuracy stalls.

The engine is `gptviz.lessons.toy2d.ToyLearning`; steps and the grid run on a short-lived
thread (short_thread.py).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout

from ...lessons.toy2d import ACTIVATIONS, ToyLearning
from ...lessons.toy_data import DATASETS
from ..plot_style import SERIES_COLORS, FollowsPalette, apply_palette, palette_colors, prepare_plot
from .accuracy_plot import AccuracyCurve
from .short_thread import on_short_thread
from .train_controls import TrainControls, TrainingDemo

PLAY_INTERVAL_MS = 50
STEPS_PER_TICK = 4
LR_RANGE = (1e-3, 1.0)
WIDTHS = (1, 2, 3, 4, 8, 16, 32)
MAX_DEPTH = 4
CLASS_COLORS = (SERIES_COLORS[0], SERIES_COLORS[1])


def rgba(color: QColor) -> np.ndarray:
    return np.array(color.getRgb(), dtype=np.float64)


def region_lookup_table(background: QColor, strength: float = 0.55) -> np.ndarray:
    """256 colours: class 0's (faded into the background) → the background → class 1's.

    Unsure regions take the palette's background, so the picture suits light and dark themes.
    """
    bg = rgba(background)
    lo, hi = (bg + strength * (rgba(QColor(c)) - bg) for c in CLASS_COLORS)
    t = np.linspace(0.0, 1.0, 256)[:, None]
    table = np.where(t < 0.5, lo + (bg - lo) * (t / 0.5), bg + (hi - bg) * ((t - 0.5) / 0.5))
    return np.clip(np.round(table), 0, 255).astype(np.uint8)


def describe(hidden: list[int]) -> str:
    return " → ".join(str(n) for n in [2, *hidden, 1])


class Toy2DDemo(FollowsPalette, TrainingDemo):
    """state: dataset ("moons"), hidden ([16, 16]: widths of the hidden layers, [] for none),
    activation ("tanh" or "relu"), lr (0.03), seed (0), points (per class, 100),
    steps (trained on open, 0)."""

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        self.seed = int(state.get("seed", 0))
        self.points = int(state.get("points", 100))
        hidden = [int(h) for h in state.get("hidden", [16, 16])]
        lr = float(state.get("lr", 0.03))

        self.dataset_box = QComboBox()
        self.dataset_box.setObjectName("toyDataset")
        self.dataset_box.addItems(list(DATASETS))
        self.dataset_box.setCurrentText(str(state.get("dataset", "moons")))
        self.depth_box = QSpinBox()
        self.depth_box.setObjectName("toyDepth")
        self.depth_box.setRange(0, MAX_DEPTH)
        self.depth_box.setValue(len(hidden))
        self.depth_box.setToolTip("How many hidden layers: 0 is a single neuron")
        self.width_box = QComboBox()
        self.width_box.setObjectName("toyWidth")
        widths = sorted(set(WIDTHS) | ({hidden[0]} if hidden else set()))
        self.width_box.addItems([str(w) for w in widths])
        self.width_box.setCurrentText(str(hidden[0] if hidden else 16))
        self.width_box.setToolTip("Neurons in each hidden layer")
        self.activation_box = QComboBox()
        self.activation_box.setObjectName("toyActivation")
        self.activation_box.addItems(list(ACTIVATIONS))
        self.activation_box.setCurrentText(str(state.get("activation", "tanh")))
        structure = QHBoxLayout()
        for label, box in (("data", self.dataset_box), ("hidden layers", self.depth_box),
                           ("width", self.width_box), ("activation", self.activation_box)):
            structure.addWidget(QLabel(label))
            structure.addWidget(box)
            structure.addSpacing(6)
        structure.addStretch(1)

        self.controls = TrainControls(PLAY_INTERVAL_MS, lr=lr, lr_range=LR_RANGE)
        self.status = QLabel()
        self.status.setObjectName("toyStatus")
        self.graphics = pg.GraphicsLayoutWidget()
        self.region_plot = self.graphics.addPlot(row=0, col=0, title="What the network answers where")
        self.accuracy_plot = self.graphics.addPlot(row=0, col=1, title="Accuracy")
        self.graphics.ci.layout.setColumnStretchFactor(0, 3)
        self.graphics.ci.layout.setColumnStretchFactor(1, 2)
        prepare_plot(self.region_plot, many_points=False)
        prepare_plot(self.accuracy_plot, many_points=False)
        self.region_plot.setAspectLocked(True)
        self.region_plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.region_plot.addItem(self.image)
        self.scatter = pg.ScatterPlotItem(size=6)
        self.region_plot.addItem(self.scatter)
        self.accuracy = AccuracyCurve(self.accuracy_plot)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(structure)
        layout.addWidget(self.controls)
        layout.addWidget(self.status)
        layout.addWidget(self.graphics, 1)
        self.controls.step.connect(lambda: self.advance(1))
        self.controls.tick.connect(lambda: self.advance(STEPS_PER_TICK))
        self.controls.reset.connect(self.reset)
        self.controls.rate.valueChanged.connect(self._set_lr)
        self.dataset_box.currentTextChanged.connect(lambda _: self.reset())
        self.depth_box.valueChanged.connect(lambda _: self.reset())
        self.width_box.currentTextChanged.connect(lambda _: self.reset())
        self.activation_box.currentTextChanged.connect(lambda _: self.reset())
        self._restyle()
        self._start(hidden, lr, int(state.get("steps", 0)))

    # -- training ----------------------------------------------------------------------

    def chosen_hidden(self) -> list[int]:
        return [int(self.width_box.currentText())] * self.depth_box.value()

    def _start(self, hidden: list[int], lr: float, steps: int = 0) -> None:
        dataset, activation = self.dataset_box.currentText(), self.activation_box.currentText()

        def work():
            learning = ToyLearning(dataset, hidden, activation, lr=lr, seed=self.seed, points=self.points)
            learning.train(steps)
            points = (learning.X.numpy().copy(), learning.Y.numpy().copy())
            return learning, points, self._snapshot(learning)

        self.learning, (self.xy, self.labels), self.shown = on_short_thread(work)
        self.width_box.setEnabled(bool(hidden))
        x0, x1, y0, y1 = self.shown["extent"]
        self.region_plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self._show_points()
        self._show()

    @staticmethod
    def _snapshot(learning: ToyLearning) -> dict:
        """What the widget shows (read on the worker thread): plain numbers and the region."""
        return {"accuracy": learning.accuracy, "loss": learning.loss, "steps": learning.steps,
                "region": learning.region(), "extent": learning.extent()}

    def advance(self, steps: int) -> None:
        def work():
            self.learning.train(steps)
            return self._snapshot(self.learning)

        self.shown = on_short_thread(work)
        self._show()

    def reset(self) -> None:
        """Start over with the data, structure and learning rate chosen now (Play keeps going)."""
        self._start(self.chosen_hidden(), self.controls.rate.value())

    def _set_lr(self, lr: float) -> None:
        for group in self.learning.optimizer.param_groups:
            group["lr"] = lr

    # -- drawing -----------------------------------------------------------------------

    def _show_points(self) -> None:
        _, fg = palette_colors(self)
        brushes = [pg.mkBrush(CLASS_COLORS[int(label)]) for label in self.labels]
        self.scatter.setData(pos=self.xy, brush=brushes, pen=pg.mkPen(fg, width=1))

    def _show(self) -> None:
        s = self.shown
        self.status.setText(f"network {describe(self.learning.hidden)}   ·   step {s['steps']}   ·   "
                            f"accuracy {100 * s['accuracy']:.1f} %   ·   loss {s['loss']:.3f}")
        x0, x1, y0, y1 = s["extent"]
        self.image.setImage(s["region"], levels=(0.0, 1.0), autoLevels=False)
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.accuracy.show(self.learning.accuracies)

    def _restyle(self) -> None:
        bg, _ = palette_colors(self)
        self.image.setLookupTable(region_lookup_table(bg))
        apply_palette(self, [self.graphics], [self.region_plot, self.accuracy_plot])
        if hasattr(self, "labels"):
            self._show_points()

    # -- the demo API ------------------------------------------------------------------

    def result(self) -> dict:
        """accuracy and loss on all the points, now: as the step's code computes them."""
        return {"accuracy": self.shown["accuracy"], "loss": self.shown["loss"]}
