"""A T×T attention heatmap: row = the query position reading, column = the key it reads.

Weights run from 0 to 1 on a fixed colour scale; the masked future (exactly 0 after the
softmax) is left blank, so the lower triangle that causal attention leaves stands out.
Hovering a cell names both characters and the weight; small maps also print each weight.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..plot_style import FollowsPalette, apply_palette

NUMBERS_UP_TO = 10  # print the weight in each cell for maps this small
SMALL_LABELS_FROM = 16  # smaller character labels for maps larger than this


class AttentionMap(FollowsPalette, QWidget):
    def __init__(self, title: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.weights = np.zeros((0, 0), dtype=np.float32)
        self.queries: list[str] = []
        self.keys: list[str] = []
        self.characters = True
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumSize(160, 160)
        self.plot = self.view.addPlot(title=title or None)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setLabel("left", "query (reading)")
        self.plot.setLabel("bottom", "key (read)")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self.image)
        self.numbers: list[pg.TextItem] = []
        self.hover = QLabel("Hover over a cell to read it.")
        self.hover.setObjectName("attentionHover")
        self.hover.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hover)
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._restyle()

    def set_weights(self, weights, queries: list[str], keys: list[str] | None = None,
                    characters: bool = True) -> None:
        """Show a (T, T) array of weights; `queries`/`keys` label the rows/columns (characters,
        named in quotes when hovered, or with characters=False just positions)."""
        self.characters = characters
        self.weights = np.asarray(weights, dtype=np.float32)
        self.queries, self.keys = list(queries), list(keys if keys is not None else queries)
        shown = self.weights.copy()
        rows, cols = shown.shape
        shown[np.triu(np.ones((rows, cols), dtype=bool), k=1) & (shown == 0)] = np.nan  # the masked future
        self.image.setImage(shown, levels=(0.0, 1.0))
        self.image.setRect(0, 0, cols, rows)
        self.plot.setXRange(0, cols, padding=0.02)
        self.plot.setYRange(0, rows, padding=0.02)
        font = self.font()
        if max(rows, cols) > SMALL_LABELS_FROM:
            font.setPointSizeF(max(font.pointSizeF() * 0.7, 6.0))
        for ticks, axis in ((self.queries, "left"), (self.keys, "bottom")):
            self.plot.getAxis(axis).setTicks([[(i + 0.5, label) for i, label in enumerate(ticks)]])
            self.plot.getAxis(axis).setStyle(tickFont=font)
        self._write_numbers()

    def describe(self, row: int, col: int) -> str:
        """What hovering cell (row, col) says."""
        w = float(self.weights[row, col])
        if self.characters:
            q, k = f"'{self.queries[row]}' (position {row})", f"'{self.keys[col]}' (position {col})"
        else:
            q, k = f"position {row}", f"position {col}"
        if col > row and w == 0:
            return f"{q} cannot see {k}: it is in the future (weight 0)."
        return f"{q} takes {w:.3f} of its mix from {k}."

    def cell_center(self, row: int, col: int) -> QPointF:
        """Where cell (row, col) is in scene coordinates (for tests and tooltips)."""
        return self.plot.getViewBox().mapViewToScene(QPointF(col + 0.5, row + 0.5))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        rows, cols = self.weights.shape
        if not rows or not self.plot.sceneBoundingRect().contains(scene_pos):
            return
        point = self.plot.getViewBox().mapSceneToView(scene_pos)
        row, col = int(np.floor(point.y())), int(np.floor(point.x()))
        if 0 <= row < rows and 0 <= col < cols:
            self.hover.setText(self.describe(row, col))

    def _write_numbers(self) -> None:
        for item in self.numbers:
            self.plot.removeItem(item)
        self.numbers = []
        rows, cols = self.weights.shape
        if max(rows, cols) > NUMBERS_UP_TO:
            return
        for r in range(rows):
            for c in range(min(cols, r + 1)):
                w = float(self.weights[r, c])
                item = pg.TextItem(f"{w:.2f}", color="k" if w > 0.6 else "w", anchor=(0.5, 0.5))
                item.setPos(c + 0.5, r + 0.5)
                self.plot.addItem(item)
                self.numbers.append(item)

    def _restyle(self) -> None:
        apply_palette(self, [self.view], [self.plot])
