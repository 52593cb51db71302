"""Other runs drawn over the live loss plot, to compare them with the run in the window:
for each run its smoothed train loss (a line) and its evaluations' val loss (diamonds),
in a colour of its own with a legend entry, by step or by training time.

The layer adds its own items to the LossPlot's loss PlotItem and never touches the
live run's: only `LossPlot.set_x_axis` hides the live curves while runs are compared by
time (the live run is drawn by step; add its run directory to compare it by time).
The runs are snapshots (RunRecord); smoothing follows the LossPlot's own smoothing
weight. Items are drawn by pyqtgraph like the live curves (downsampled, clipped to view)
and cost nothing between view changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox

from ..runs import RunRecord
from .history import History
from .loss_plot import LossPlot
from .plot_style import padded, value_range

#: Mid-luminance colours that the live run's loss plot does not use (it draws in blue,
#: orange and green): each has a contrast ratio of at least 2.9 against both a white and
#: a near-black (#1e1e1e) background, so it reads in light and dark palettes alike.
OVERLAY_COLORS = ("#0891b2", "#db2777", "#ca8a04", "#65a30d", "#ef4444", "#8b5cf6", "#64748b", "#d946ef")
AXES = {"step": "step", "time": "training time (s)"}


@dataclass
class OverlaidRun:
    run: RunRecord
    color: str
    curve: pg.PlotDataItem  # smoothed train loss; its name is the legend entry
    points: pg.PlotDataItem  # val loss at each evaluation
    shown: bool = False  # on the plot (a run without times is off it while comparing by time)


class RunOverlay(QObject):
    """The runs overlaid on a LossPlot, in the order they were added."""

    changed = Signal()  # a run was added or removed, or the axis changed

    def __init__(self, loss_plot: LossPlot):
        super().__init__(loss_plot)
        self._loss_plot = loss_plot
        plots = loss_plot.plots()
        self._plot: pg.PlotItem = plots["training_loss"]
        self._runs: dict[Path, OverlaidRun] = {}
        self.axis = "step"
        self._smoothing_spin = loss_plot.findChild(QDoubleSpinBox, "smoothingSpin")
        self._smoothing_spin.valueChanged.connect(lambda _: self._draw_all())
        self._log_check = loss_plot.findChild(QCheckBox, "logScaleCheck")

    # -- reading -------------------------------------------------------------------

    def runs(self) -> list[OverlaidRun]:
        return list(self._runs.values())

    def get(self, path: str | Path) -> OverlaidRun | None:
        return self._runs.get(Path(path).resolve())

    def legend_names(self) -> list[str]:
        """The overlay's legend entries, in legend order."""
        mine = {o.curve for o in self._runs.values()}
        return [label.text for sample, label in self._plot.legend.items if sample.item in mine]

    # -- changing ------------------------------------------------------------------

    def add(self, run: RunRecord) -> OverlaidRun:
        """Overlay a run (a run already overlaid is replaced by this newer snapshot)."""
        key = run.path.resolve()
        old = self._runs.get(key)
        if old is not None:
            self._hide(old)
        color = old.color if old is not None else self._free_color()
        pen = pg.mkPen(color, width=1)  # width 2 cost 3-11 ms a frame, width 1 ~1 ms
        curve = pg.PlotDataItem(name=self._label(run, key), pen=pen)
        points = pg.PlotDataItem(pen=None, symbol="d", symbolSize=8, symbolBrush=color,
                                 symbolPen=pg.mkPen(color))
        entry = OverlaidRun(run, color, curve, points)
        self._runs[key] = entry
        self._draw(entry)
        self.fit()
        self.changed.emit()
        return entry

    def remove(self, path: str | Path) -> None:
        entry = self._runs.pop(Path(path).resolve(), None)
        if entry is not None:
            self._hide(entry)
            self.fit()
            self.changed.emit()

    def clear(self) -> None:
        for path in list(self._runs):
            self.remove(path)

    def set_axis(self, axis: str) -> None:
        """"step" or "time" (training seconds; runs without times leave the plot meanwhile)."""
        if axis not in AXES:
            raise ValueError(f"axis must be one of {sorted(AXES)}, got {axis!r}")
        self.axis = axis
        self._loss_plot.set_x_axis(AXES[axis], live=axis == "step")
        self._draw_all()
        self.fit()
        self.changed.emit()

    def fit(self) -> None:
        """Show every overlaid run (and the live run, by step) whole; the view is then the
        user's, as after a zoom ("Follow latest" follows the live run again)."""
        xs, ys = [], []
        for e in self._runs.values():
            if e.shown:
                xs += list(self._x(e.run))
                ys += [e.run.loss, e.run.eval_val]
        if not xs:
            return
        if self.axis == "step":
            history, evals = self._loss_plot.history, self._loss_plot.evals
            xs += [history.x, evals.x]
            ys += [history["loss"], evals["val_loss"]]
        x_lo, x_hi = value_range(xs)
        y_lo, y_hi = value_range(ys, log=self._log_check.isChecked())
        if not (np.isfinite(x_lo) and np.isfinite(y_lo)):
            return
        self._loss_plot.set_follow_latest(False)
        self._plot.getViewBox().setRange(xRange=padded(x_lo, x_hi, 0.02), yRange=padded(y_lo, y_hi, 0.05),
                                         padding=0)

    # -- drawing -------------------------------------------------------------------

    def _draw_all(self) -> None:
        for entry in self._runs.values():
            self._draw(entry)

    def _draw(self, entry: OverlaidRun) -> None:
        run = entry.run
        if self.axis == "time" and not run.has_time:
            self._hide(entry)
            return
        weight = self._smoothing_spin.value()
        smooth = _smoothed(run, weight) if len(run.steps) else run.loss
        x, eval_x = self._x(run)
        entry.curve.setData(x, smooth)
        entry.points.setData(eval_x, run.eval_val)
        if not entry.shown:
            self._plot.addItem(entry.curve)
            self._plot.addItem(entry.points)
            entry.shown = True

    def _x(self, run: RunRecord) -> tuple[np.ndarray, np.ndarray]:
        """x of the run's steps and of its evaluations, on the current axis."""
        return (run.time, run.eval_time) if self.axis == "time" else (run.steps, run.eval_steps)

    def _hide(self, entry: OverlaidRun) -> None:
        if entry.shown:
            self._plot.removeItem(entry.curve)
            self._plot.removeItem(entry.points)
            entry.shown = False

    def _free_color(self) -> str:
        used = [e.color for e in self._runs.values()]
        for color in OVERLAY_COLORS:
            if color not in used:
                return color
        return OVERLAY_COLORS[len(used) % len(OVERLAY_COLORS)]

    def _label(self, run: RunRecord, key: Path) -> str:
        """The run's folder name, with its parent's when another run has the same name."""
        names = {e.curve.name() for p, e in self._runs.items() if p != key}
        name = run.name
        if name in names:
            name = f"{run.path.parent.name}/{run.name}"
        return name


def _smoothed(run: RunRecord, weight: float) -> np.ndarray:
    """The train loss's moving average, as the live plot draws it (History.smoothed)."""
    history = History(("loss",), capacity=max(len(run.steps), 16))
    history.append(np.arange(len(run.steps), dtype=np.float64), {"loss": run.loss})
    return history.smoothed("loss", weight).copy()
