"""How the gradients behave while the model learns, in four plots.

(a) the global gradient norm at every step, with the clipping threshold;
(b) the gradient norm of each layer at the diagnostic steps;
(c) the histogram of one parameter's gradient at the latest diagnostics;
(d) the update:data ratio of each weight matrix, std(Δp) / std(p), on a log axis with
    the lecture's rule of thumb (about 1e-3) as a guide: far below, the layer barely
    learns; far above, its updates are too big.

The list beside the plots is the legend of (b) and (d) and shows or hides each layer.
Viewing a timeline snapshot (`pin`), (c) shows that snapshot's histogram and (a), (b), (d)
mark its step, while new steps keep extending the curves; `unpin` goes back to the latest.
Redrawing works as in LossPlot: data and settings only mark the panel dirty, a
single-shot ~30 Hz timer calls `redraw()`, which is public. `export_png()` saves one
image of the whole panel, controls included (`QWidget.grab()`); `plots()` hands out each
plot for plot_export.py to write on its own.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..metrics import Histogram, is_weight_matrix  # is_weight_matrix: which ratios are plotted
from .history import History
from .payloads import Diagnostics, StepBatch
from .plot_export import save_png
from .plot_style import (
    SERIES_COLORS,
    CodeDrivenView,
    FollowsPalette,
    RedrawLater,
    SceneStaysActive,
    apply_palette,
    faded,
    palette_colors,
    prepare_plot,
    settled,
    value_range,
    whole_run,
)
from .step_marker import StepMarker

UPDATE_RATIO_GUIDE = 1e-3  # the lecture's rule of thumb for std(Δp) / std(p)
RECENT_HISTOGRAMS = 5  # the histogram's axes fit this many latest ones: steady, not jumpy
EMBEDDING_TABLES = {"wte", "wpe", "table"}  # GPT token/position tables, the bigram table
SHADES = (100, 135, -135, 170, -170)  # a layer's matrices: its colour, lighter (+), darker (-)


def layer_group(name: str) -> str:
    """The layer a parameter belongs to: 'blocks.0.attn.c_attn.weight' -> 'blocks.0',
    'wte.weight' -> 'embeddings', 'ln_f.bias' -> 'ln_f'."""
    parts = name.split(".")
    if parts[0] == "blocks" and len(parts) > 2:
        return ".".join(parts[:2])
    if parts[0] in EMBEDDING_TABLES:
        return "embeddings"
    return parts[0]


class PowersOfTenAxis(pg.AxisItem):
    """A log axis labelled 10⁻³, 2·10⁻³, 5·10⁻³: short labels, and only the 1-2-5 ticks."""

    _SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

    def __init__(self, orientation: str):
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)  # no "(x0.001)" after the label: the ticks say it
        self.setWidth(80)  # room for "5·10⁻⁴" beside the axis label

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        labels = []
        for v in values:
            exponent = math.floor(v + 1e-9)
            mantissa = round(10 ** (v - exponent), 1)
            power = f"10{str(exponent).translate(self._SUPERSCRIPT)}"
            labels.append(power if mantissa == 1 else f"{mantissa:g}·{power}"
                          if mantissa in (2, 5) else "")
        return labels


def _shade(color: str, factor: int) -> QColor:
    c = QColor(color)
    return c.lighter(factor) if factor > 0 else c.darker(-factor)


def _group_norm(norms: list[float]) -> float:
    """The L2 norm of a layer's whole gradient, from its parameters' norms."""
    return float(np.sqrt(np.sum(np.square(norms)))) if norms else np.nan


class GradientsPanel(FollowsPalette, QWidget):
    """Global and per-layer gradient norms, a gradient histogram, update:data ratios."""

    def __init__(self, parent: QWidget | None = None, capacity: int = 200_000):
        super().__init__(parent)
        self.setObjectName("gradientsPanel")
        self._capacity = capacity
        self._steps = History(("grad_norm",), capacity)
        self._diag: History | None = None  # per-layer norms and ratios, made on first use
        self._names: set[str] = set()  # the parameters the curves below were made for
        self._groups: dict[str, list[str]] = {}  # layer -> its parameter names, model order
        self._recent: dict[str, deque[tuple[int, Histogram]]] = {}
        self._curves_for: tuple[str, ...] = ()  # the parameter names the curves were made for, in order
        self._clip = 0.0
        self._x = self._norm_y = self._layer_y = self._ratio_y = None  # set by code
        self._hist_x = self._hist_y = None
        self._pinned: tuple[int, Diagnostics | None] | None = None  # (step, its diagnostics) viewed
        self._redraws = RedrawLater(self, self.redraw)  # marks: "steps", "diagnostics", "histogram", "ranges"
        self._build()
        self._restyle()

    # -- public API ----------------------------------------------------------------

    def append_steps(self, batch: StepBatch) -> None:
        self._steps.append_batch(batch)
        self._redraws.mark_data("steps")

    def set_diagnostics(self, d: Diagnostics) -> None:
        """Add one diagnostic step (norms, ratios, histograms of every parameter)."""
        names = list(dict.fromkeys([*d.grad_norms, *d.update_ratios, *d.histograms]))
        if self._diag is None or not self._names.issuperset(names):
            self._start_over(names)  # first diagnostics, or another model
        values = {f"norm {g}": _group_norm([d.grad_norms[n] for n in params if n in d.grad_norms])
                  for g, params in self._groups.items()}
        values.update({f"ratio {n}": r for n, r in d.update_ratios.items() if is_weight_matrix(n)})
        self._diag.append(d.step, values)
        for name, hist in d.histograms.items():
            if name not in self._recent:
                self._recent[name] = deque(maxlen=RECENT_HISTOGRAMS)
                self._hist_combo.addItem(name)
            self._recent[name].append((d.step, hist))
        self._redraws.mark_data("diagnostics", "histogram")

    def pin(self, step: int, d: Diagnostics | None) -> None:
        """Show a timeline snapshot: its diagnostics `d` (None: none yet by then) in the
        histogram, its step marked on the other plots, until `unpin()`."""
        self._pinned = (step, d)
        self._marker.set(step)
        self._hist_x = self._hist_y = None
        self._redraws.mark("histogram")

    def unpin(self) -> None:
        """Back to the latest diagnostics."""
        self._pinned = None
        self._marker.set(None)
        self._hist_x = self._hist_y = None
        self._redraws.mark("histogram")

    def histogram_shown(self) -> tuple[int, str, Histogram] | None:
        """(step, parameter, histogram) drawn in (c), or None when it is empty."""
        shown = self._histograms_to_show()
        return (shown[-1][0], self._hist_combo.currentText(), shown[-1][1]) if shown else None

    def set_clip(self, value: float) -> None:
        """Draw the gradient-clipping threshold on plot (a); 0 means no clipping, no line."""
        self._clip = max(float(value), 0.0)
        self._clip_line.setVisible(self._clip > 0)
        if self._clip > 0:
            self._clip_line.setValue(self._clip)
            self._clip_line.label.setFormat(f"clip {self._clip:g}")
        self._redraws.mark("steps")

    def clear(self) -> None:
        """Empty the panel for a new run. Its curves stay, empty, for a next model with the
        same parameters (_start_over)."""
        self._steps.clear()
        self._start_over([])
        self._diag = None
        self._redraws.mark("steps", "diagnostics", "histogram")

    def plots(self) -> dict[str, pg.PlotItem]:
        """The four plots by file-friendly name, drawn up to date (e.g. to export each one)."""
        self.redraw()
        norm, layer, hist, ratio = self._plots
        return {"gradient_norm": norm, "gradient_norm_per_layer": layer,
                "gradient_histogram": hist, "update_data_ratio": ratio}

    def export_png(self, path) -> None:
        """Save the whole panel as it is now (one image, controls included) as a PNG."""
        self.redraw()
        save_png(self.grab(), path)

    def redraw(self) -> None:
        """Draw what changed since the last redraw; does nothing when nothing did."""
        dirty = self._redraws.take()
        if "steps" in dirty:
            self._norm_curve.setData(self._steps.x, self._steps["grad_norm"])
        if "diagnostics" in dirty:
            self._draw_diagnostics()
        if "histogram" in dirty:
            self._draw_histogram()
        if dirty & {"steps", "diagnostics", "ranges"}:
            self._fit_views()

    # -- building ------------------------------------------------------------------

    def _build(self) -> None:
        self._views = (pg.PlotWidget(), pg.PlotWidget(), pg.PlotWidget(),
                       pg.PlotWidget(axisItems={"left": PowersOfTenAxis("left")}))
        self._norm_pw, self._layer_pw, self._hist_pw, self._ratio_pw = self._views
        for view in self._views:
            SceneStaysActive(view)
        norm, layer, hist, ratio = self._plots = tuple(pw.getPlotItem() for pw in self._views)
        for plot, title, y_label in ((norm, "Gradient norm, all parameters", "L2 norm"),
                                     (layer, "Gradient norm per layer", "L2 norm"),
                                     (ratio, "Update : data ratio, weight matrices", "std(Δp) / std(p)")):
            prepare_plot(plot)
            plot.setTitle(title)
            plot.setLabel("left", y_label)
            plot.setLabel("bottom", "step")
        prepare_plot(hist, many_points=False)
        hist.setTitle("Gradient histogram")
        hist.setLabel("left", "count")
        hist.setLabel("bottom", "gradient value")
        layer.setXLink(norm)
        ratio.setXLink(norm)
        ratio.setLogMode(y=True)

        self._norm_curve = norm.plot(pen=pg.mkPen(SERIES_COLORS[0], width=1))
        self._clip_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(SERIES_COLORS[3], width=1,
                                                                style=Qt.PenStyle.DashLine),
                                          label="clip", labelOpts={"position": 0.9})
        self._clip_line.setVisible(False)
        norm.addItem(self._clip_line, ignoreBounds=True)
        # In log mode the view's y is log10(ratio), so the guide sits at -3.
        self._guide = pg.InfiniteLine(np.log10(UPDATE_RATIO_GUIDE), angle=0, label="1e-3",
                                      labelOpts={"position": 0.95})
        self._guide.setZValue(10)  # above the curves
        ratio.addItem(self._guide, ignoreBounds=True)
        self._hist_curve = hist.plot(stepMode="center", fillLevel=0, pen=pg.mkPen(SERIES_COLORS[2]),
                                     brush=faded(SERIES_COLORS[2], 80))
        self._norm_curves: dict[str, pg.PlotDataItem] = {}
        self._ratio_curves: dict[str, pg.PlotDataItem] = {}

        self._view = CodeDrivenView((norm, layer, ratio), self)  # linked on x: one owner
        self._view.code_took_over.connect(self._forget_ranges)
        self._marker = StepMarker((norm, layer, ratio))
        self._hist_view = CodeDrivenView((hist,), self)
        self._hist_view.code_took_over.connect(lambda: self._on_histogram_chosen(""))

        self._hist_combo = QComboBox(objectName="histogramParam")
        self._hist_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._hist_combo.currentTextChanged.connect(self._on_histogram_chosen)
        self._layer_list = QListWidget(objectName="layerList")
        self._layer_list.setToolTip("Tick to show a layer in the per-layer plots")
        self._layer_list.setMaximumWidth(150)
        self._layer_list.itemChanged.connect(self._on_layer_toggled)
        self._layout_widgets()

    def _layout_widgets(self) -> None:
        hist_row = QHBoxLayout()
        hist_row.addWidget(QLabel("Histogram of"))
        hist_row.addWidget(self._hist_combo, 1)
        hist_box = QVBoxLayout()
        hist_box.addLayout(hist_row)
        hist_box.addWidget(self._hist_pw, 1)
        layers = QVBoxLayout()
        layers.addWidget(QLabel("Layers"))
        layers.addWidget(self._layer_list, 1)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self._norm_pw, 0, 0)
        grid.addWidget(self._layer_pw, 0, 1)
        grid.addLayout(layers, 0, 2, 2, 1)
        grid.addLayout(hist_box, 1, 0)
        grid.addWidget(self._ratio_pw, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

    def _start_over(self, names: list[str]) -> None:
        """Make the curves, legend and histogram choices for a model's parameter names.
        The curves of the last names are kept when the names are the same (a new run of the
        same model): making them took the GUI thread 26-44 ms for `default`, at the run's
        first diagnostics, in the middle of its first steps."""
        self._names, self._groups = set(names), {}
        for name in names:
            self._groups.setdefault(layer_group(name), []).append(name)
        ratio_names = [n for n in names if is_weight_matrix(n)]
        self._diag = History([*(f"norm {g}" for g in self._groups),
                              *(f"ratio {n}" for n in ratio_names)], self._capacity)
        self._recent = {}  # filled, with the histogram choices, as histograms arrive
        # (no names: a clear() between runs, the curves kept; in order: the colours follow it)
        remake = bool(names) and tuple(names) != self._curves_for
        if remake:
            for curve in self._norm_curves.values():
                self._layer_pw.removeItem(curve)
            for curve in self._ratio_curves.values():
                self._ratio_pw.removeItem(curve)
            self._norm_curves, self._ratio_curves = {}, {}
            self._curves_for = tuple(names)
        for curve in (*self._norm_curves.values(), *self._ratio_curves.values()):
            curve.clear()
            curve.setVisible(True)  # as its legend entry below: checked
        self._layer_list.blockSignals(True)
        self._layer_list.clear()
        for i, (group, params) in enumerate(self._groups.items()):
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            matrices = [n for n in params if n in ratio_names]
            if remake:
                self._norm_curves[group] = self._layer_pw.plot(name=group, pen=pg.mkPen(color, width=1))
                for j, name in enumerate(matrices):
                    self._ratio_curves[name] = self._ratio_curve(name, _shade(color, SHADES[j % 5]))
            self._layer_list.addItem(self._legend_item(group, color, matrices))
        self._layer_list.blockSignals(False)
        self._hist_combo.clear()
        self._forget_ranges()

    def _ratio_curve(self, name: str, color: QColor) -> pg.PlotDataItem:
        curve = self._ratio_pw.plot(name=name, pen=pg.mkPen(color, width=1))
        curve.setCurveClickable(True, width=6)  # click a curve to see whose it is
        curve.sigClicked.connect(lambda *_: self._ratio_pw.setTitle(
            f"Update : data ratio — {name}", color=palette_colors(self)[1].name()))
        return curve

    @staticmethod
    def _legend_item(group: str, color: str, matrices: list[str]) -> QListWidgetItem:
        swatch = QPixmap(12, 12)
        swatch.fill(QColor(color))
        item = QListWidgetItem(QIcon(swatch), group)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        if matrices:  # which update:data lines are this layer's
            item.setToolTip("\n".join([f"{group}: update:data ratio of", *matrices,
                                       "(click a line in that plot to see its name)"]))
        return item

    # -- drawing -------------------------------------------------------------------

    def _draw_diagnostics(self) -> None:
        if self._diag is None:
            return
        x = self._diag.x
        for group, curve in self._norm_curves.items():
            curve.setData(x, self._diag[f"norm {group}"])
        for name, curve in self._ratio_curves.items():
            curve.setData(x, self._diag[f"ratio {name}"])

    def _histograms_to_show(self) -> list[tuple[int, Histogram]]:
        """The chosen parameter's histograms that (c) fits its axes to, the one drawn last:
        the snapshot's alone when one is viewed, else the latest few."""
        name = self._hist_combo.currentText()
        if self._pinned is None:
            return list(self._recent.get(name, ()))
        d = self._pinned[1]
        return [(d.step, d.histograms[name])] if d is not None and name in d.histograms else []

    def _draw_histogram(self) -> None:
        recent = self._histograms_to_show()
        if not recent:
            self._hist_curve.clear()
            if self._pinned is not None:
                self._hist_pw.setTitle(f"Gradient histogram: none by step {self._pinned[0]}",
                                       color=palette_colors(self)[1].name())
            return
        step, latest = recent[-1]
        self._hist_curve.setData(latest.edges, latest.counts.astype(np.float64))
        self._hist_pw.setTitle(f"Gradient histogram, step {step}", color=palette_colors(self)[1].name())
        lo = min(h.lo for _, h in recent)
        hi = max(h.hi for _, h in recent)
        top = max(float(h.counts.max()) for _, h in recent)
        self._hist_x = settled(self._hist_x, lo, hi)
        self._hist_y = settled(self._hist_y, 0.0, top if top > 0 else 1.0)
        self._hist_view.show(self._plots[2], x=self._hist_x, y=self._hist_y)

    def _fit_views(self) -> None:
        """Ranges for (a), (b), (d): the whole run on x; y changed only when it must."""
        xs = [x for x in (self._steps.x, self._diag.x if self._diag else None) if x is not None and len(x)]
        if not xs:
            return
        self._x = whole_run(self._x, min(x[0] for x in xs), max(x[-1] for x in xs))
        norm, layer, _, ratio = self._plots
        top = value_range([self._steps["grad_norm"]])[1]
        self._norm_y = settled(self._norm_y, 0.0, np.nanmax([top, self._clip, 1e-12]))
        self._view.show(norm, x=self._x, y=self._norm_y)
        if self._diag is None or not len(self._diag):
            return
        shown = self._shown_groups()
        top = value_range([self._diag[f"norm {g}"] for g in shown])[1]
        self._layer_y = settled(self._layer_y, 0.0, top if np.isfinite(top) else 1.0)
        self._view.show(layer, y=self._layer_y)
        lo, hi = value_range([self._diag[f"ratio {n}"] for n in self._ratio_curves
                              if layer_group(n) in shown], log=True)
        guide = np.log10(UPDATE_RATIO_GUIDE)  # keep the guide in view
        self._ratio_y = settled(self._ratio_y, np.fmin(lo, guide), np.fmax(hi, guide))
        self._view.show(ratio, y=self._ratio_y)

    def _shown_groups(self) -> set[str]:
        items = (self._layer_list.item(i) for i in range(self._layer_list.count()))
        return {it.text() for it in items if it.checkState() == Qt.CheckState.Checked}

    # -- plumbing ------------------------------------------------------------------

    def _on_histogram_chosen(self, _name: str) -> None:
        self._hist_x = self._hist_y = None  # another parameter, another scale
        self._redraws.mark("histogram")

    def _on_layer_toggled(self, item: QListWidgetItem) -> None:
        visible = item.checkState() == Qt.CheckState.Checked
        self._norm_curves[item.text()].setVisible(visible)
        for name, curve in self._ratio_curves.items():
            if layer_group(name) == item.text():
                curve.setVisible(visible)
        self._redraws.mark("ranges")

    def _forget_ranges(self) -> None:
        self._x = self._norm_y = self._layer_y = self._ratio_y = None
        self._redraws.mark("steps", "diagnostics")

    def _restyle(self) -> None:
        apply_palette(self, self._views, self._plots)
        fg = palette_colors(self)[1]
        self._guide.setPen(pg.mkPen(faded(fg.name(), 160), width=1, style=Qt.PenStyle.DashLine))
        self._guide.label.setColor(fg)
        self._clip_line.label.setColor(QColor(SERIES_COLORS[3]))
