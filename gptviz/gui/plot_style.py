"""What the plot widgets share: colours from the palette, plot setup, redrawing at most
~30 times a second (paced while training: frame_pacer.py), and view ranges set by code
instead of pyqtgraph's per-frame auto-range (which costs 20 ms a frame).
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QGraphicsItem, QWidget

from .frame_pacer import FASTEST_MS, PACER, FramePacer

RAW_ALPHA = 60  # the per-step loss, behind its moving average

# -- shared with gradient_plots.py: colours ------------------------------------------

#: Mid-luminance colours: readable on light and on dark backgrounds.
SERIES_COLORS = ("#3b82f6", "#f97316", "#22c55e", "#ef4444", "#a855f7",
                 "#06b6d4", "#ec4899", "#ca8a04", "#64748b", "#84cc16")


def palette_colors(widget: QWidget) -> tuple[QColor, QColor]:
    """(background, foreground) for plots inside `widget`: its palette's Base and Text."""
    palette = widget.palette()
    return palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)


def apply_palette(widget: QWidget, views, plots, legends=()) -> None:
    """Colour plot backgrounds, axes, titles and legends like the rest of `widget`."""
    bg, fg = palette_colors(widget)
    for view in views:
        view.setBackground(bg)
    for plot in plots:
        for side in ("left", "bottom", "right", "top"):
            axis = plot.getAxis(side)
            axis.setPen(fg)
            axis.setTextPen(fg)
        plot.setTitle(plot.titleLabel.text or None, color=fg.name())
    for legend in legends:
        legend.setLabelTextColor(fg)
        legend.setBrush(QColor(bg.red(), bg.green(), bg.blue(), 200))
        legend.setPen(QColor(fg.red(), fg.green(), fg.blue(), 60))
        for _, label in legend.items:  # existing labels keep their colour otherwise
            label.setText(label.text, color=fg.name())


def faded(color: str | QColor, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


def is_palette_change(event: QEvent) -> bool:
    return event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)


class FollowsPalette:
    """For a QWidget that colours itself from its palette (list it before QWidget among the
    bases): `_restyle()` runs again whenever the palette changes, e.g. light to dark."""

    def _restyle(self) -> None:
        raise NotImplementedError

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if is_palette_change(event):
            self._restyle()
        super().changeEvent(event)


def prepare_plot(plot: pg.PlotItem, many_points: bool = True) -> None:
    """Settings every plot here shares; `many_points` keeps 100k-point curves cheap."""
    if many_points:  # draw only what is in view, at most a few points per pixel
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
    # pyqtgraph's own "Plot Options" (log, downsampling, averaging) would fight ours.
    plot.setMenuEnabled(enableMenu=False, enableViewBoxMenu=True)
    plot.showGrid(x=True, y=True, alpha=0.15)
    for side in ("left", "bottom"):  # no finest ticks: their grid lines halved the frame rate
        plot.getAxis(side).setStyle(maxTickLevel=1)
    # Each axis (labels and grid lines) is drawn once into a pixmap and copied from there until
    # its range, size or style changes, instead of replaying its drawing, labels laid out anew,
    # on every repaint of the plot: a curve's update repaints the whole plot, grid included.
    # A 600-step window run painted its axes 309 times instead of 1,239 (0.23 s instead of
    # 0.31 s); on the GUI thread's share, within what bench_window_ab.py no-axis-cache resolves.
    for side in ("left", "bottom", "right", "top"):
        plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class SceneStaysActive(QObject):
    """Keeps a plot view's scene active from its first activation on, so that showing the
    view again (its tab brought to the front) paints it once instead of three times.

    A QGraphicsView sends its scene WindowDeactivate and WindowActivate whenever it is
    hidden and shown, and the scene passes them to every QGraphicsWidget in it (a plot, its
    view box, each axis and label), which each ask for a repaint: measured here, every
    pyqtgraph view painted 3 times per tab switch (a plain QGraphicsView once). The plots
    draw in the palette's colours either way, so nothing changes on screen.
    """

    def __init__(self, view: pg.GraphicsView) -> None:
        super().__init__(view)
        self._active = False
        view.scene().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind == QEvent.Type.WindowActivate:
            if self._active:
                return True
            self._active = True
        elif kind == QEvent.Type.WindowDeactivate:
            return self._active
        return False


# -- shared with gradient_plots.py: redrawing ----------------------------------------

class RedrawLater(QObject):
    """Redrawing at most ~30 times a second, only after something changed, and not while
    the widget sits behind another tab.

    `mark_data(*what)` (new data from the run) and `mark(*what)` (anything else: the user
    changed a setting, chose a snapshot, ...) note what changed and start a single-shot timer
    that calls `redraw`; `redraw` starts with `take()`, which returns what changed since and
    stops the timer, so a direct call draws now and the timer does not fire again for
    nothing. New data waits as long as the frame pacer says (frame_pacer.py: longer while a
    run trains, so that drawing leaves the CPU to training); the user's own changes are
    drawn within ~1/30 s. A widget on a tab that is not in front (its window shown, itself
    hidden) keeps what changed and draws it when it is shown.
    """

    def __init__(self, widget: QWidget, redraw, pacer: FramePacer = PACER) -> None:
        super().__init__(widget)
        self._widget, self._redraw, self._pacer = widget, redraw, pacer
        self._dirty: set[str] = set()
        self._timer = QTimer(self, singleShot=True, interval=FASTEST_MS)
        self._timer.timeout.connect(self._fire)
        widget.installEventFilter(self)

    def mark(self, *what: str) -> None:
        self._mark(what, FASTEST_MS)

    def mark_data(self, *what: str) -> None:
        self._mark(what, self._pacer.interval_ms())

    def _mark(self, what, interval_ms: int) -> None:
        self._dirty.update(what)
        if not self._timer.isActive() or self._timer.remainingTime() > interval_ms:
            self._timer.start(interval_ms)

    def take(self) -> set[str]:
        self._timer.stop()
        dirty, self._dirty = self._dirty, set()
        return dirty

    def behind_a_tab(self) -> bool:
        return self._widget.window().isVisible() and not self._widget.isVisible()

    def _fire(self) -> None:
        if not self.behind_a_tab():
            self._redraw()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Show and self._dirty and not self._timer.isActive():
            self._timer.start(0)  # what changed while it was hidden
        return False


# -- shared with gradient_plots.py: ranges set by code ---------------------------------

def padded(lo: float, hi: float, pad: float = 0.08) -> tuple[float, float]:
    span = hi - lo if hi > lo else max(abs(hi), 1e-12)
    return lo - pad * span, hi + pad * span


def settled(current, lo: float, hi: float) -> tuple[float, float]:
    """The range to show data spanning [lo, hi]: `current` if it still fits it snugly.

    Keeping the range until the data leaves it (or fills under 40% of it) means the axes
    change now and then, not every frame.
    """
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return current if current is not None else (0.0, 1.0)
    if current is not None:
        c_lo, c_hi = current
        if c_lo <= lo and hi <= c_hi and (hi - lo) >= 0.4 * (c_hi - c_lo):
            return current
    return padded(lo, hi)


WHOLE_RUN_LEAST = 100.0  # steps: a run's first 100 move no axis (100-step window rounds: GUI 5.0 -> 4.6%)


def whole_run(current, first: float, last: float) -> tuple[float, float]:
    """x from the first step to past the last, grown by 1.25x when the last step reaches it,
    at least WHOLE_RUN_LEAST steps wide (each change redraws the axis of every linked plot)."""
    if current is not None and current[0] <= first and last <= current[1]:
        return current
    width = max(last - first, WHOLE_RUN_LEAST) * 1.25
    return first - 0.01 * width, first + width


def sliding_window(current, last: float, span: float) -> tuple[float, float]:
    """A `span`-wide x range holding the last step, moved on by a quarter span at a time."""
    if (current is not None and math.isclose(current[1] - current[0], span)
            and current[0] <= last <= current[1]):
        return current
    hi = last + 0.25 * span
    return hi - span, hi


def value_range(arrays, log: bool = False) -> tuple[float, float]:
    """(min, max) of the finite values (positive ones in log10 when `log`); NaNs if none."""
    lo, hi = np.inf, -np.inf
    for a in arrays:
        a = a[np.isfinite(a)]
        if log:
            a = np.log10(a[a > 0])
        if len(a):
            lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
    return (lo, hi) if lo <= hi else (np.nan, np.nan)


class CodeDrivenView(QObject):
    """Who moves some plots: this code (the default) or the user's mouse.

    pyqtgraph's auto-range re-measures every item whenever data changes, which is what
    made a busy window stutter; here auto-range stays off and the code sets a range only
    when it must change. A mouse zoom or pan hands the view to the user (`user_took_over`);
    pyqtgraph's "A" button or the menu's auto-range hands it back (`code_took_over`).
    `give_to_user()` and `give_to_code()` do the same from the program, without signals.
    """

    user_took_over = Signal()
    code_took_over = Signal()

    def __init__(self, plots, parent: QObject | None = None):
        super().__init__(parent)
        self.user_owns = False
        self._shown: dict[object, tuple] = {}
        self._quiet = False
        for plot in plots:
            vb = plot.getViewBox()
            vb.disableAutoRange()
            vb.sigRangeChangedManually.connect(self._on_mouse)
            vb.sigStateChanged.connect(self._on_state)

    def show(self, plot: pg.PlotItem, x=None, y=None) -> None:
        """Set the x and/or y range of `plot`, unless the user owns the view or it is unchanged."""
        if self.user_owns:
            return
        vb = plot.getViewBox()
        shown_x, shown_y = self._shown.get(vb, (None, None))
        if x is not None and x != shown_x:
            vb.setXRange(*x, padding=0)
            shown_x = x
        if y is not None and y != shown_y:
            vb.setYRange(*y, padding=0)
            shown_y = y
        self._shown[vb] = (shown_x, shown_y)

    def give_to_code(self) -> None:
        self.user_owns = False
        self._shown.clear()

    def give_to_user(self) -> None:
        self.user_owns = True

    @contextmanager
    def quietly(self):
        """Run plot calls that may move the view (e.g. setLogMode) without a hand-over."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False
            self._shown.clear()  # the view may have moved: set the next range for sure

    def _on_mouse(self, *_):
        if not self._quiet and not self.user_owns:
            self.give_to_user()
            self.user_took_over.emit()

    def _on_state(self, vb):
        if any(vb.autoRangeEnabled()):
            vb.disableAutoRange()
            if not self._quiet:
                self.give_to_code()
                self.code_took_over.emit()


# -- the widget ---------------------------------------------------------------------
