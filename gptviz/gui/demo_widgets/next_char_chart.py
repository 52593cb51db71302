"""Bars of the likeliest next characters, with the one actually sampled marked.

The sampled character is drawn from the whole distribution, so it need not be among the
likeliest: then it gets a bar of its own at the right, labelled with its rank.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ...lessons.next_char import NextChar
from ...lessons.tiny_gpt import shown
from ..plot_style import SERIES_COLORS, FollowsPalette, apply_palette, prepare_plot

BAR, SAMPLED = SERIES_COLORS[0], SERIES_COLORS[1]


class NextCharChart(FollowsPalette, QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumHeight(160)
        self.plot = self.view.addPlot(title="probability of each next character")
        prepare_plot(self.plot, many_points=False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setLabel("left", "probability")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.plot.addItem(self.bars)
        self.marker = pg.TextItem("", anchor=(0.5, 1.0), color=SAMPLED)
        self.plot.addItem(self.marker)
        self.uniform = self.plot.addLine(y=0, pen=pg.mkPen(SERIES_COLORS[8], style=Qt.PenStyle.DashLine),
                                         label="", labelOpts={"position": 0.85, "color": SERIES_COLORS[8],
                                                              "anchors": [(0.5, 1.0), (0.5, 1.0)]})
        self.caption = QLabel()
        self.caption.setObjectName("nextCharCaption")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        self.shown_ids: list[int] = []
        self.sampled_position = -1
        self._restyle()

    def show_next(self, nxt: NextChar, chars: str) -> None:
        ids = list(nxt.top)
        if nxt.sampled not in ids:
            ids.append(nxt.sampled)
        self.shown_ids = ids
        self.sampled_position = ids.index(nxt.sampled)
        heights = np.array([float(nxt.probs[i]) for i in ids])
        x = np.arange(len(ids), dtype=float)
        brushes = [pg.mkBrush(SAMPLED if i == nxt.sampled else BAR) for i in ids]
        self.bars.setOpts(x=x, height=heights, width=0.7, brushes=brushes, pen=None)
        labels = [(float(k), shown(chars[i]) if k < len(nxt.top) else f"{shown(chars[i])} (#{nxt.rank(i)})")
                  for k, i in enumerate(ids)]
        self.plot.getAxis("bottom").setTicks([labels])
        even = 1.0 / len(nxt.probs)
        self.uniform.setValue(even)
        self.uniform.label.setFormat(f"1/{len(nxt.probs)}: all equally likely")
        top = max(float(heights.max()), even)
        self.plot.setXRange(-0.6, len(ids) - 0.4, padding=0)
        self.plot.setYRange(0, top * 1.25, padding=0)
        self.marker.setText("sampled")
        self.marker.setPos(self.sampled_position, heights[self.sampled_position] + top * 0.02)
        p = float(nxt.probs[nxt.sampled])
        self.caption.setText(
            f"Sampled '{shown(chars[nxt.sampled])}' (p = {p:.3f}, rank {nxt.rank(nxt.sampled)} of "
            f"{len(nxt.probs)}) with seed {nxt.seed}. The bars are the {len(nxt.top)} likeliest "
            f"characters; together they hold {float(nxt.probs[list(nxt.top)].sum()):.0%} of the probability.")

    def _restyle(self) -> None:
        apply_palette(self, [self.view], [self.plot])
