"""What every layer's activations look like as the model learns, in four plots.

(a) the latest histogram of each layer's MLP hidden activations, one curve per layer;
(b) the same for each layer's attention output (what it adds to the residual stream);
(c) % saturated (solid) and % dead (dashed) MLP units of each layer, over the steps;
(d) % saturated attention rows (top softmax weight > 0.99) of each layer, over the steps.

The statistics and their exact definitions are gptviz/activations.py's: the worker computes
them at the diagnostic steps and sends only bins and percentages (`Diagnostics.activations`).
A line under the plots gives the latest percentages in words. Viewing a timeline snapshot
(`pin`), (a), (b) and the line show that snapshot's statistics and (c), (d) mark its step;
`unpin` goes back to the latest. Redrawing works as in the
other plots: data only marks the view dirty, a ~30 Hz single-shot timer calls `redraw()`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from ..activations import ActivationStats
from .history import History
from .payloads import Diagnostics
from .plot_style import (
    SERIES_COLORS,
    CodeDrivenView,
    FollowsPalette,
    RedrawLater,
    SceneStaysActive,
    apply_palette,
    palette_colors,
    prepare_plot,
    settled,
    whole_run,
)
from .step_marker import StepMarker

PERCENT_RANGE = (-3.0, 103.0)  # (c) and (d) always show 0–100 %: no rescaling as values move


def layer_of(site: str) -> str:
    """'blocks.2.mlp' -> 'layer 2' (any other name is kept as it is)."""
    parts = site.split(".")
    return f"layer {parts[1]}" if len(parts) == 3 and parts[0] == "blocks" else site


class ActivationsView(FollowsPalette, QWidget):
    """Per-layer activation histograms, and the % of dead or saturated units over time."""

    def __init__(self, parent: QWidget | None = None, capacity: int = 20_000):
        super().__init__(parent)
        self.setObjectName("activationsView")
        self._capacity = capacity
        self._sites: list[str] = []
        self._series: History | None = None  # "<site> saturated", "<site> dead", per diagnostic step
        self._latest: dict[str, ActivationStats] = {}
        self._latest_step = 0
        self._pinned: tuple[int, Diagnostics | None] | None = None  # (step, its diagnostics) viewed
        self._hist_curves: dict[str, pg.PlotDataItem] = {}
        self._series_curves: dict[str, pg.PlotDataItem] = {}
        self._ranges: dict[str, tuple[float, float] | None] = {}
        self._redraws = RedrawLater(self, self.redraw)  # marks: "latest", "series"
        self._build()
        self._restyle()

    # -- public API ----------------------------------------------------------------

    @Slot(object)
    def set_diagnostics(self, d: Diagnostics) -> None:
        """Add one diagnostic step's activation statistics (nothing to do without any)."""
        if not d.activations:
            return
        sites = list(d.activations)
        if sites != self._sites:
            self._start_over(sites)  # first statistics, or another model
        values = {}
        for site, stats in d.activations.items():
            values[f"{site} saturated"] = stats.saturated
            if stats.kind == "mlp":
                values[f"{site} dead"] = stats.dead
        self._series.append(d.step, values)
        self._latest, self._latest_step = dict(d.activations), d.step
        self._redraws.mark_data("latest", "series")

    def clear(self) -> None:
        """Empty the plots for a new run; the curves stay for a model with the same sites
        (as GradientsPanel.clear: making them takes the GUI thread ~28 ms for `default`)."""
        if self._series is None:
            self._start_over([])
        else:
            self._series.clear()
            self._latest, self._latest_step = {}, 0
            self._forget_ranges("mlp", "attn", "x")
            self.summary.setText("Activation statistics appear at the first diagnostic step.")
        self._redraws.mark("latest", "series")

    def latest(self) -> tuple[int, dict[str, ActivationStats]]:
        """The step and statistics of the latest diagnostics received."""
        return self._latest_step, dict(self._latest)

    def pin(self, step: int, d: Diagnostics | None) -> None:
        """Show a timeline snapshot: its statistics in (a), (b) and the summary (`d` None:
        none yet by then), its step marked on (c) and (d), until `unpin()`."""
        self._pinned = (step, d)
        self._marker.set(step)
        self._redraws.mark("latest")

    def unpin(self) -> None:
        self._pinned = None
        self._marker.set(None)
        self._redraws.mark("latest")

    def shown(self) -> tuple[int, dict[str, ActivationStats]]:
        """The step and statistics drawn in (a) and (b): a viewed snapshot's, else the latest."""
        if self._pinned is None:
            return self.latest()
        d = self._pinned[1]
        return (self._pinned[0], {}) if d is None or not d.activations else (d.step, dict(d.activations))

    def series(self, site: str, what: str = "saturated") -> tuple[np.ndarray, np.ndarray]:
        """(steps, percentages) of one site's 'saturated' or 'dead' curve (copies)."""
        if self._series is None or f"{site} {what}" not in self._series.columns:
            return np.empty(0), np.empty(0)
        return self._series.x.copy(), self._series[f"{site} {what}"].copy()

    def plots(self) -> dict[str, pg.PlotItem]:
        """The four plots by file-friendly name, drawn up to date."""
        self.redraw()
        return dict(zip(("activation_histogram_mlp", "activation_histogram_attention",
                         "mlp_saturated_dead", "attention_saturated"), self._plots))

    def redraw(self) -> None:
        dirty = self._redraws.take()
        if "latest" in dirty:
            self._draw_latest()
        if "series" in dirty:
            self._draw_series()

    # -- building ------------------------------------------------------------------

    def _build(self) -> None:
        self._views = tuple(pg.PlotWidget() for _ in range(4))
        for view in self._views:
            SceneStaysActive(view)
        self._plots = tuple(pw.getPlotItem() for pw in self._views)
        titles = (("MLP activations", "% of values", "activation"),
                  ("Attention output", "% of values", "value"),
                  ("MLP: % saturated, % dead (- -)", "% of units / activations", "step"),
                  ("Attention: % rows max > 0.99", "% of softmax rows", "step"))
        for i, (plot, (title, y_label, x_label)) in enumerate(zip(self._plots, titles)):
            prepare_plot(plot, many_points=i >= 2)
            plot.setTitle(title)
            plot.setLabel("left", y_label)
            plot.setLabel("bottom", x_label)
            plot.getAxis("left").enableAutoSIPrefix(False)  # no "(x0.001)": the label says %
        self._legend = self._plots[0].addLegend(offset=(-10, 10), labelTextSize="8pt")
        self._plots[3].setXLink(self._plots[2])
        self._marker = StepMarker(self._plots[2:])
        self._hist_view = CodeDrivenView(self._plots[:2], self)
        self._hist_view.code_took_over.connect(lambda: self._forget_ranges("mlp", "attn"))
        self._series_view = CodeDrivenView(self._plots[2:], self)
        self._series_view.code_took_over.connect(lambda: self._forget_ranges("x"))
        self.summary = QLabel("Activation statistics appear at the first diagnostic step.")
        self.summary.setObjectName("activationsSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        for i, view in enumerate(self._views):
            grid.addWidget(view, i // 2, i % 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid, 1)
        layout.addWidget(self.summary)

    def _start_over(self, sites: list[str]) -> None:
        for plot in self._plots:
            plot.clear()
        self._marker = StepMarker(self._plots[2:])  # clear() took the lines away
        self._marker.set(None if self._pinned is None else self._pinned[0])
        self._legend.clear()
        self._sites = sites
        self._hist_curves, self._series_curves = {}, {}
        self._latest, self._latest_step = {}, 0
        columns = [f"{s} saturated" for s in sites] + [f"{s} dead" for s in sites if s.endswith("mlp")]
        self._series = History(columns, self._capacity) if sites else None
        layers = list(dict.fromkeys(layer_of(s) for s in sites))
        for site in sites:
            color = SERIES_COLORS[layers.index(layer_of(site)) % len(SERIES_COLORS)]
            mlp = site.endswith("mlp")
            hist_plot, series_plot = self._plots[0 if mlp else 1], self._plots[2 if mlp else 3]
            self._hist_curves[site] = hist_plot.plot(stepMode="center", pen=pg.mkPen(color, width=1),
                                                     name=layer_of(site) if mlp else None)
            self._series_curves[f"{site} saturated"] = series_plot.plot(pen=pg.mkPen(color, width=1))
            if mlp:
                self._series_curves[f"{site} dead"] = series_plot.plot(
                    pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine))
        self._forget_ranges("mlp", "attn", "x")
        self.summary.setText("Activation statistics appear at the first diagnostic step." if not sites
                             else "")

    # -- drawing -------------------------------------------------------------------

    def _draw_latest(self) -> None:
        step, latest = self.shown()
        for site, curve in self._hist_curves.items():
            stats = latest.get(site)
            if stats is None:
                curve.clear()
            else:
                curve.setData(stats.histogram.edges, 100.0 * stats.histogram.counts.astype(np.float64))
        fg = palette_colors(self)[1].name()
        for plot, kind, title in ((self._plots[0], "mlp", "MLP activations"),
                                  (self._plots[1], "attn", "Attention output")):
            shown = [s for s in latest.values() if s.kind == kind]
            if not shown:
                plot.setTitle(title if self._pinned is None else f"{title}: none by step {step}", color=fg)
                continue
            plot.setTitle(f"{title}, step {step}", color=fg)
            lo = min(s.histogram.lo for s in shown)
            hi = max(s.histogram.hi for s in shown)
            top = 100.0 * max(float(s.histogram.counts.max()) for s in shown)
            self._ranges[kind] = settled(self._ranges.get(kind), lo, hi)
            self._ranges[f"{kind} y"] = settled(self._ranges.get(f"{kind} y"), 0.0, top or 1.0)
            self._hist_view.show(plot, x=self._ranges[kind], y=self._ranges[f"{kind} y"])
        if latest or self._pinned is not None:
            self.summary.setText(self._summary_text(step, latest))

    def _draw_series(self) -> None:
        if self._series is None or not len(self._series):
            for curve in self._series_curves.values():
                curve.clear()
            return
        x = self._series.x
        for column, curve in self._series_curves.items():
            curve.setData(x, self._series[column])
        self._ranges["x"] = whole_run(self._ranges.get("x"), float(x[0]), float(x[-1]))
        for plot in self._plots[2:]:
            self._series_view.show(plot, x=self._ranges["x"], y=PERCENT_RANGE)

    @staticmethod
    def _summary_text(step: int, latest: dict[str, ActivationStats]) -> str:
        if not latest:
            return f"No activation statistics by step {step}."
        by_layer: dict[str, list[str]] = {}
        for site, s in latest.items():
            words = (f"MLP {s.saturated:.0f}% saturated, {s.dead:.0f}% dead" if s.kind == "mlp"
                     else f"attention {s.saturated:.0f}% rows saturated")
            by_layer.setdefault(layer_of(site), []).append(words)
        return f"Step {step} — " + "; ".join(
            f"{layer}: {', '.join(parts)}" for layer, parts in by_layer.items())

    # -- plumbing ------------------------------------------------------------------

    def _forget_ranges(self, *which: str) -> None:
        for key in which:
            self._ranges[key] = None
            self._ranges.pop(f"{key} y", None)
        self._redraws.mark("latest", "series")

    def _restyle(self) -> None:
        apply_palette(self, self._views, self._plots, legends=(self._legend,))
