"""The accuracy after each step, as the demos that train a classifier plot it (feature_neuron.py,
toy2d.py): 0 to 100 % on a fixed y axis, a line, and a dot at the latest step."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..plot_style import SERIES_COLORS


class AccuracyCurve:
    """Sets up `plot` (already prepared with prepare_plot) and draws accuracies on it."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        plot.setLabel("bottom", "step")
        plot.setYRange(0.0, 1.05, padding=0)
        plot.getViewBox().setMouseEnabled(y=False)
        plot.getAxis("left").setTicks([[(v, f"{v:.0%}") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        self.curve = plot.plot(pen=pg.mkPen(SERIES_COLORS[2], width=1))
        self.now = plot.plot(pen=None, symbol="o", symbolSize=6, symbolBrush=SERIES_COLORS[2], symbolPen=None)

    def show(self, accuracies) -> None:
        """The accuracy after each step so far (one value at least)."""
        accuracies = np.asarray(accuracies, dtype=np.float64)
        self.curve.setData(np.arange(len(accuracies), dtype=np.float64), accuracies)
        self.now.setData([len(accuracies) - 1.0], accuracies[-1:])
        self.plot.setXRange(0, max(10, len(accuracies) - 1), padding=0.02)
