"""The lecture's "mathematical trick" to live with: mixing the past with one matrix multiply.

Three versions (gptviz/lessons/attention_trick.py): a lower-triangular averaging matrix,
the same weights from softmax over masked zeros, and one attention head whose weights come
from queries and keys. The weights are drawn as a heatmap, the matrix they come from as a
table beside it, and (for the first two) the input and its running average as a plot.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ...lessons import attention_trick
from ..plot_style import SERIES_COLORS, FollowsPalette, apply_palette, faded, prepare_plot
from .attention_map import AttentionMap
from .base import DemoWidget
from .short_thread import on_short_thread

VERSIONS = {
    "average": "1. average the past: tril(ones) / row sums",
    "softmax": "2. softmax over masked zeros",
    "head": "3. one head: softmax over masked q·k",
}
BEFORE = {
    "average": "torch.tril(torch.ones(T, T)) — then each row is divided by its sum",
    "softmax": "scores: zeros, with the future set to -inf — softmax turns each row into weights",
    "head": "scores = q @ k.T * head_size**-0.5, the future set to -inf",
}


def _short(v: float) -> str:
    """A score in a narrow table cell: -inf, a whole number, or one decimal."""
    if v == -math.inf:
        return "-inf"
    return str(int(v)) if v == int(v) else f"{v:.1f}".replace("-0.0", "0.0")


class AttentionTrickDemo(FollowsPalette, DemoWidget):
    """state: mode ("average", "softmax" or "head"), T (positions, 2–16, default 8),
    seed (for torch.manual_seed, default 1337)."""

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        mode = state.get("mode", "average")
        if mode not in VERSIONS:
            raise ValueError(f"mode must be one of {', '.join(VERSIONS)}, got {mode!r}")
        self.version = QComboBox()
        self.version.setObjectName("trickVersion")
        for key, text in VERSIONS.items():
            self.version.addItem(text, key)
        self.version.setCurrentIndex(list(VERSIONS).index(mode))
        self.length = QSpinBox()
        self.length.setObjectName("trickT")
        self.length.setRange(2, 16)
        self.length.setValue(int(state.get("T", 8)))
        self.seed = QSpinBox()
        self.seed.setObjectName("trickSeed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(int(state.get("seed", 1337)))
        controls = QHBoxLayout()
        controls.addWidget(self.version, 1)
        controls.addWidget(QLabel("T"))
        controls.addWidget(self.length)
        controls.addWidget(QLabel("seed"))
        controls.addWidget(self.seed)

        self.map = AttentionMap("wei: the weights")
        self.before_label = QLabel()
        self.before_label.setWordWrap(True)
        self.before = QTableWidget()
        self.before.setObjectName("trickBefore")
        self.before.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        small = self.before.font()
        small.setPointSizeF(max(small.pointSizeF() * 0.85, 6.0))
        self.before.setFont(small)
        for header in (self.before.horizontalHeader(), self.before.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(20)
        side = QVBoxLayout()
        side.addWidget(self.before_label)
        side.addWidget(self.before, 1)
        self.plot_view = pg.GraphicsLayoutWidget()
        self.plot_view.setMinimumHeight(150)
        self.plot = self.plot_view.addPlot(title="x (dots) and wei @ x (lines), per channel")
        prepare_plot(self.plot, many_points=False)
        self.plot.setLabel("bottom", "position t")
        self.plot.setMouseEnabled(x=False, y=False)
        self.head_note = QLabel()
        self.head_note.setWordWrap(True)

        grid = self.grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addLayout(controls, 0, 0, 1, 2)
        grid.addWidget(self.map, 1, 0)
        grid.addLayout(side, 1, 1)
        grid.addWidget(self.plot_view, 2, 0, 1, 2)
        grid.addWidget(self.head_note, 3, 0, 1, 2)
        grid.setRowStretch(1, 3)
        grid.setRowStretch(2, 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)

        self.version.currentIndexChanged.connect(self.recompute)
        self.length.valueChanged.connect(self.recompute)
        self.seed.valueChanged.connect(self.recompute)
        self._restyle()
        self.recompute()

    @property
    def mode(self) -> str:
        return self.version.currentData()

    def recompute(self) -> None:
        mode, T, seed = self.mode, self.length.value(), self.seed.value()
        self.attention = on_short_thread(lambda: attention_trick.compute(mode, T, seed))
        a = self.attention
        T = a.wei.shape[0]
        self.map.set_weights(a.wei.numpy(), [str(t) for t in range(T)], characters=False)
        matrix = a.scores if a.scores is not None else np.tril(np.ones((T, T), dtype=np.float32))
        self.before_label.setText(BEFORE[self.mode])
        self.before.setRowCount(T)
        self.before.setColumnCount(T)
        for r in range(T):
            for c in range(T):
                v = float(matrix[r, c])
                self.before.setItem(r, c, QTableWidgetItem(_short(v)))
        self.before.setHorizontalHeaderLabels([str(t) for t in range(T)])
        self.before.setVerticalHeaderLabels([str(t) for t in range(T)])
        is_head = self.mode == "head"
        self.plot_view.setVisible(not is_head)
        self.grid.setRowStretch(2, 0 if is_head else 2)
        self.head_note.setText(
            f"x: {tuple(a.x.shape)} (T, C) → q, k, v: (T, head_size) = ({T}, {a.out.shape[1]}) → "
            f"wei: {tuple(a.wei.shape)} → out = wei @ v: {tuple(a.out.shape)}. Row t of wei now "
            "differs from row to row: each position decides for itself what to read."
            if is_head else
            "Row t of wei averages positions 0…t: the line (wei @ x) at t is the mean of the dots up "
            "to t. Change T or the seed and watch it follow.")
        if not is_head:
            self._draw_plot()

    def _draw_plot(self) -> None:
        self.plot.clear()
        x, out = self.attention.x.numpy(), self.attention.out.numpy()
        t = np.arange(len(x), dtype=float)
        for channel in range(x.shape[1]):
            color = SERIES_COLORS[channel % len(SERIES_COLORS)]
            self.plot.plot(t, x[:, channel], pen=None, symbol="o", symbolSize=7,
                           symbolBrush=faded(color, 160), symbolPen=None)
            self.plot.plot(t, out[:, channel], pen=pg.mkPen(color, width=1), name=f"channel {channel}")

    def result(self) -> dict:
        """The weights and the output shown, as nested lists."""
        return {"wei": self.attention.wei.tolist(), "out": self.attention.out.tolist()}

    def _restyle(self) -> None:
        apply_palette(self, [self.plot_view], [self.plot])
