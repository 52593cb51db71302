"""A vertical line at one step on plots whose x axis is the step: where the timeline is.

The plots that draw a run over its steps (loss, learning rate, gradient norms, update
ratios, activation percentages) show the step of the timeline snapshot being viewed with
it; `set(None)` hides it again (live). The line does not count in the plots' ranges.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from .plot_style import SERIES_COLORS

MARKER_COLOR = SERIES_COLORS[7]  # ochre: apart from the curves' first colours


class StepMarker:
    """One dashed vertical line per plot, all at the same step (made on first use, so that
    plots never marked hold no extra item)."""

    def __init__(self, plots):
        self.step: float | None = None
        self._plots = tuple(plots)
        self.lines: list[pg.InfiniteLine] = []

    def set(self, step: float | None) -> None:
        """Show the line at `step` on every plot, or hide it (None)."""
        self.step = step
        if step is not None and not self.lines:
            for plot in self._plots:
                line = pg.InfiniteLine(angle=90, movable=False,
                                       pen=pg.mkPen(MARKER_COLOR, width=2, style=Qt.PenStyle.DashLine))
                line.setZValue(20)  # above the curves
                plot.addItem(line, ignoreBounds=True)
                self.lines.append(line)
        for line in self.lines:
            if step is not None:
                line.setValue(step)
            line.setVisible(step is not None)
