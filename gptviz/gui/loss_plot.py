"""The training loss as it happens: every step, smoothed, at evaluations, and the LR.

Redrawing: `append_*` and the setters only mark the widget dirty and start a single-shot
timer (~30 Hz); when it fires, `redraw()` draws everything that arrived in between. So
there are at most ~30 redraws a second however often data comes, and none while idle.
`redraw()` is public: call it to draw right now (tests, export).

Colours and code-set view ranges come from plot_style.py, shared with gradient_plots.py.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..metrics import EvalMetrics
from .history import History
from .payloads import StepBatch
from .plot_export import save_png
from .plot_style import (
    RAW_ALPHA,
    SERIES_COLORS,
    CodeDrivenView,
    FollowsPalette,
    RedrawLater,
    SceneStaysActive,
    apply_palette,
    faded,
    prepare_plot,
    settled,
    sliding_window,
    value_range,
    whole_run,
)
from .step_marker import StepMarker


class LossPlot(FollowsPalette, QWidget):
    """Loss per step (thin), its moving average, evaluation points, and the learning rate.

    "Follow latest" lets the code move the view: the whole run, or — after zooming in on
    the x axis and ticking it again — a window of that width that slides with the newest
    step. Zooming or panning with the mouse unticks it; pyqtgraph's "A" button ticks it
    again with the whole run in view.

    The timeline's step is marked on both plots (`set_marker`); a left click on either
    emits `stepClicked` with the step under the mouse.
    """

    stepClicked = Signal(float)

    def __init__(self, parent: QWidget | None = None, capacity: int = 200_000):
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self._history = History.for_steps(capacity)
        self._evals = History(("train_loss", "val_loss"), capacity=10_000)
        self._smoothing = 0.9
        self._log = False
        self._span: float | None = None  # width of the followed window; None: the whole run
        self._by_step = True  # the x axis is this run's steps (not another run's time)
        self._x = self._y = self._lr_y = None  # ranges last chosen by code
        self._redraws = RedrawLater(self, self.redraw)  # marks: "steps", "evals", "view"
        self._build_controls()
        self._build_plots()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._controls)
        layout.addWidget(self._graphics, 1)
        self._restyle()

    # -- public API ----------------------------------------------------------------

    @property
    def history(self) -> History:
        """Every step received (loss, lr, grad_norm, tokens_per_sec), e.g. for a CSV export."""
        return self._history

    @property
    def evals(self) -> History:
        """Evaluations received: columns train_loss and val_loss."""
        return self._evals

    def append_steps(self, batch: StepBatch) -> None:
        self._history.append_batch(batch)
        self._redraws.mark_data("steps")

    def append_eval(self, ev: EvalMetrics) -> None:
        self._evals.append(ev.step, {"train_loss": ev.train_loss, "val_loss": ev.val_loss})
        self._redraws.mark_data("evals")

    def clear(self) -> None:
        self._history.clear()
        self._evals.clear()
        self._span = None
        self._x = self._y = self._lr_y = None
        self._redraws.mark("steps", "evals")

    def set_smoothing(self, weight: float) -> None:
        """EMA weight in [0, 1): 0 shows the raw loss only; 0.9 averages over ~10 steps."""
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
        self._smoothing = float(weight)
        _set_quietly(self._smoothing_spin, weight)
        self._raw.setPen(faded(SERIES_COLORS[0], RAW_ALPHA if weight > 0 else 255))
        self._redraws.mark("steps")

    def set_log_scale(self, on: bool) -> None:
        """Show the loss on a log10 y axis (the learning-rate plot stays linear)."""
        self._log = bool(on)
        _set_quietly(self._log_check, on)
        with self._view.quietly():
            self._loss_plot.setLogMode(y=self._log)
        self._y = None  # the old range is in the other scale
        if self._view.user_owns:  # keep the user's x, but fit y to the new scale
            vb = self._loss_plot.getViewBox()
            vb.setYRange(*settled(None, *self._loss_range(*vb.viewRange()[0])), padding=0)
        self._redraws.mark("view")

    def set_follow_latest(self, on: bool) -> None:
        """Let the code keep the newest steps in view (see the class docstring)."""
        _set_quietly(self._follow_check, on)
        if on and self._view.user_owns:
            self._span = self._zoomed_width()
            self._x = None
            self._view.give_to_code()
        elif not on and not self._view.user_owns:
            self._view.give_to_user()
        self._redraws.mark("view")

    def follows_latest(self) -> bool:
        return not self._view.user_owns

    def set_x_axis(self, label: str = "step", live: bool = True) -> None:
        """Name the x axis; live=False hides this run's curves, which are drawn by step
        (run_overlay.py compares other runs by training time over this plot)."""
        self._lr_plot.setLabel("bottom", label)
        for item in (self._raw, self._smooth, self._eval_train, self._eval_val, self._lr_curve):
            item.setVisible(live)
        self._by_step = live
        for line in self._marker.lines:
            line.setVisible(live and self._marker.step is not None)

    def set_marker(self, step: float | None) -> None:
        """Mark a step (the timeline snapshot being viewed) on both plots; None: no mark."""
        self._marker.set(step)
        if not self._by_step:  # another run's time axis: no step to mark
            for line in self._marker.lines:
                line.setVisible(False)

    def marker(self) -> float | None:
        return self._marker.step

    def plots(self) -> dict[str, pg.PlotItem]:
        """The plots by file-friendly name, drawn up to date (e.g. to export each one)."""
        self.redraw()
        return {"training_loss": self._loss_plot, "learning_rate": self._lr_plot}

    def export_png(self, path) -> None:
        """Write both plots (loss and learning rate) as they are now to a PNG file."""
        self.redraw()
        exporter = ImageExporter(self._graphics.ci)
        exporter.parameters()["width"] = max(int(self._graphics.ci.boundingRect().width()), 600)
        save_png(exporter.export(toBytes=True), path)

    def redraw(self) -> None:
        """Draw what changed since the last redraw; does nothing when nothing did."""
        dirty = self._redraws.take()
        h, e = self._history, self._evals
        if "steps" in dirty:
            self._raw.setData(h.x, h["loss"])
            if self._smoothing > 0:
                self._smooth.setData(h.x, h.smoothed("loss", self._smoothing))
            else:
                self._smooth.setData(np.empty(0), np.empty(0))
            self._lr_curve.setData(h.x, h["lr"])
        if "evals" in dirty:
            self._eval_train.setData(e.x, e["train_loss"])
            self._eval_val.setData(e.x, e["val_loss"])
        if dirty and self.follows_latest() and len(h):
            self._follow()

    # -- building ------------------------------------------------------------------

    def _build_controls(self) -> None:
        spin = self._smoothing_spin = QDoubleSpinBox(objectName="smoothingSpin")
        spin.setRange(0.0, 0.999)
        spin.setDecimals(3)
        spin.setSingleStep(0.05)
        spin.setValue(self._smoothing)
        spin.setToolTip("Weight of the exponential moving average: 0 = none, 0.9 ≈ last 10 steps")
        spin.valueChanged.connect(self.set_smoothing)
        self._log_check = QCheckBox("Log scale", objectName="logScaleCheck")
        self._log_check.setToolTip("Loss on a logarithmic axis: late, small improvements stay visible")
        self._log_check.toggled.connect(self.set_log_scale)
        self._follow_check = QCheckBox("Follow latest", objectName="followLatestCheck", checked=True)
        self._follow_check.setToolTip("Keep the newest steps in view. Zoom in first to follow a "
                                      "window of that width; dragging the plot unticks this.")
        self._follow_check.toggled.connect(self.set_follow_latest)
        row = self._controls = QHBoxLayout()
        row.addWidget(QLabel("Smoothing"))
        row.addWidget(spin)
        row.addWidget(self._log_check)
        row.addWidget(self._follow_check)
        row.addStretch(1)

    def _build_plots(self) -> None:
        self._graphics = pg.GraphicsLayoutWidget()
        SceneStaysActive(self._graphics)
        loss = self._loss_plot = self._graphics.addPlot(row=0, col=0, title="Training loss")
        lr = self._lr_plot = self._graphics.addPlot(row=1, col=0)
        self._graphics.ci.layout.setRowStretchFactor(0, 3)
        self._graphics.ci.layout.setRowStretchFactor(1, 1)
        for plot in (loss, lr):
            prepare_plot(plot)
            plot.getAxis("left").setWidth(60)  # same width: the two x axes line up
        lr.setXLink(loss)
        loss.setLabel("left", "loss")
        loss.getAxis("bottom").setStyle(showValues=False)
        lr.setLabel("left", "lr")
        lr.setLabel("bottom", "step")
        self._legend = loss.addLegend(offset=(-10, 10))
        self._raw = loss.plot(name="loss per step", pen=pg.mkPen(faded(SERIES_COLORS[0], RAW_ALPHA), width=1))
        self._smooth = loss.plot(name="smoothed", pen=pg.mkPen(SERIES_COLORS[0], width=2))
        self._eval_train = loss.plot(name="eval: train", pen=None, symbol="o", symbolSize=7,
                                     symbolBrush=SERIES_COLORS[2], symbolPen=None)
        self._eval_val = loss.plot(name="eval: val", pen=None, symbol="t", symbolSize=8,
                                   symbolBrush=SERIES_COLORS[1], symbolPen=None)
        self._lr_curve = lr.plot(pen=pg.mkPen(SERIES_COLORS[4], width=1))
        self._marker = StepMarker((loss, lr))
        self._graphics.scene().sigMouseClicked.connect(self._on_click)
        self._view = CodeDrivenView((loss, lr), self)
        self._view.user_took_over.connect(lambda: _set_quietly(self._follow_check, False))
        self._view.code_took_over.connect(self._on_code_took_over)

    # -- view ranges ---------------------------------------------------------------

    def _follow(self) -> None:
        x, ev = self._history.x, self._evals.x
        first, last = x[0], x[-1]
        if len(ev):  # e.g. the evaluation at step 0, before the first step
            first, last = min(first, ev[0]), max(last, ev[-1])
        if self._span is None:
            self._x = whole_run(self._x, first, last)
        else:
            self._x = sliding_window(self._x, last, self._span)
        self._y = settled(self._y, *self._loss_range(*self._x))
        rows = self._history.rows_between(*self._x)
        lr_max = value_range([self._history["lr"][rows]])[1]
        self._lr_y = settled(self._lr_y, 0.0, lr_max if lr_max > 0 else 1.0)
        self._view.show(self._loss_plot, x=self._x, y=self._y)
        self._view.show(self._lr_plot, y=self._lr_y)

    def _loss_range(self, x_lo: float, x_hi: float) -> tuple[float, float]:
        """Lowest and highest loss (steps and evals) between two steps, in the y axis' units."""
        rows, ev = self._history.rows_between(x_lo, x_hi), self._evals.rows_between(x_lo, x_hi)
        return value_range([self._history["loss"][rows], self._evals["train_loss"][ev],
                            self._evals["val_loss"][ev]], log=self._log)

    def _zoomed_width(self) -> float | None:
        """The x width the user zoomed to, or None when the whole run is in view."""
        lo, hi = self._loss_plot.getViewBox().viewRange()[0]
        x = self._history.x
        if not len(x) or (lo <= x[0] and x[-1] <= hi):
            return None
        return hi - lo

    def _on_code_took_over(self) -> None:
        """The "A" button: follow again, with the whole run in view."""
        self._span = None
        self._x = self._y = self._lr_y = None
        _set_quietly(self._follow_check, True)
        self._redraws.mark("view")

    # -- plumbing ------------------------------------------------------------------

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double() or not self._by_step:
            return
        for plot in (self._loss_plot, self._lr_plot):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(event.scenePos()):
                self.stepClicked.emit(float(vb.mapSceneToView(event.scenePos()).x()))
                return

    def _restyle(self) -> None:
        apply_palette(self, [self._graphics], [self._loss_plot, self._lr_plot], [self._legend])


def _set_quietly(control, value) -> None:
    """Show a value in a control without it calling back into the widget."""
    control.blockSignals(True)
    if isinstance(control, QCheckBox):
        control.setChecked(bool(value))
    else:
        control.setValue(value)
    control.blockSignals(False)

