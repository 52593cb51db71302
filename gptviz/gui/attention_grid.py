"""Every layer × head of a model's attention as a grid of small heatmaps, in one scene.

One GraphicsLayoutWidget with a ViewBox and an ImageItem per head (not one widget per head:
36 plot widgets for the `lecture` preset would cost far more to lay out and paint). Each map
is drawn as AttentionMap draws its large one: rows are queries, columns keys, weights on a
fixed 0–1 viridis scale (explicit levels, float32, row-major), the masked future blank.
Hovering a map names the query and key characters and the weight; clicking one chooses it
(`cellChosen`), and the chosen map gets a frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtWidgets import QGraphicsRectItem

from ..lessons.tiny_gpt import shown
from .plot_style import SERIES_COLORS, SceneStaysActive, palette_colors

CHOSEN_PEN = pg.mkPen(SERIES_COLORS[1], width=3)  # cosmetic: 3 pixels whatever the zoom


def masked_future(weights: np.ndarray) -> np.ndarray:
    """A float32 copy of (…, T, T) weights with the causally masked cells (exact zeros above
    the diagonal) set to NaN, which the image leaves blank."""
    shown_ = np.array(weights, dtype=np.float32)
    T = shown_.shape[-1]
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    shown_[np.broadcast_to(future, shown_.shape) & (shown_ == 0)] = np.nan
    return shown_


def describe(chars: str, weights: np.ndarray, row: int, col: int) -> str:
    """What hovering cell (row, col) of a (T, T) map says."""
    q, k = f"'{shown(chars[row])}' (position {row})", f"'{shown(chars[col])}' (position {col})"
    w = float(weights[row, col])
    if col > row and w == 0:
        return f"{q} cannot see {k}: it is in the future (weight 0)."
    return f"{q} takes {w:.3f} of its mix from {k}."


class AttentionGrid(pg.GraphicsLayoutWidget):
    cellChosen = Signal(int, int)  # layer, head
    hovered = Signal(str)  # what the map under the mouse says there

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(200, 200)
        SceneStaysActive(self)
        self.weights = np.zeros((0, 0, 0, 0), dtype=np.float32)
        self.chars = ""
        self.boxes: list[list[pg.ViewBox]] = []
        self.frames: list[list[QGraphicsRectItem]] = []
        self.labels: list[pg.LabelItem] = []
        self.images: list[list[pg.ImageItem]] = []
        self.chosen = (0, 0)
        self.scene().sigMouseMoved.connect(self._on_moved)
        self.scene().sigMouseClicked.connect(self._on_clicked)

    def set_maps(self, weights: np.ndarray, chars: str) -> None:
        """Show (n_layer, n_head, T, T) weights; `chars` names the T positions."""
        if weights.shape[:2] != self.weights.shape[:2]:
            self._build(*weights.shape[:2])
        self.weights, self.chars = weights, chars
        images = masked_future(weights)
        T = weights.shape[-1]
        for layer, row in enumerate(self.images):
            for head, image in enumerate(row):
                image.setImage(images[layer, head], levels=(0.0, 1.0))
                image.setRect(0, 0, T, T)
                self.frames[layer][head].setRect(QRectF(0, 0, T, T))
                self.boxes[layer][head].setRange(xRange=(0, T), yRange=(0, T), padding=0.02)

    def choose(self, layer: int, head: int) -> None:
        if not self.boxes:
            return
        old_layer, old_head = self.chosen
        if old_layer < len(self.frames) and old_head < len(self.frames[0]):
            self.frames[old_layer][old_head].setVisible(False)
        self.chosen = (layer, head)
        self.frames[layer][head].setVisible(True)
        self.cellChosen.emit(layer, head)

    def cell_center(self, layer: int, head: int, row: int, col: int) -> QPointF:
        """Scene position of cell (row, col) of one map (for tests)."""
        return self.boxes[layer][head].mapViewToScene(QPointF(col + 0.5, row + 0.5))

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int, int, int] | None:
        """(layer, head, row, col) under a scene position, or None."""
        for layer, row_boxes in enumerate(self.boxes):
            for head, box in enumerate(row_boxes):
                if box.sceneBoundingRect().contains(scene_pos):
                    point = box.mapSceneToView(scene_pos)
                    row, col = int(np.floor(point.y())), int(np.floor(point.x()))
                    T = self.weights.shape[-1]
                    if 0 <= row < T and 0 <= col < T:
                        return layer, head, row, col
                    return None
        return None

    # -- internals ----------------------------------------------------------------------------
    def _build(self, layers: int, heads: int) -> None:
        self.clear()
        self.boxes, self.images, self.labels, self.frames = [], [], [], []
        _, fg = palette_colors(self)
        for head in range(heads):
            self.labels.append(self.addLabel(f"head {head + 1}", row=0, col=head + 1, color=fg.name()))
        for layer in range(layers):
            self.labels.append(self.addLabel(f"layer {layer + 1}", row=layer + 1, col=0, angle=-90,
                                             color=fg.name()))
            boxes, images, frames = [], [], []
            for head in range(heads):
                box = self.addViewBox(row=layer + 1, col=head + 1, lockAspect=True, invertY=True,
                                      enableMouse=False, enableMenu=False)
                image = pg.ImageItem(axisOrder="row-major")
                image.setColorMap(pg.colormap.get("viridis"))
                box.addItem(image)
                frame = QGraphicsRectItem()
                frame.setPen(CHOSEN_PEN)
                frame.setVisible(False)
                box.addItem(frame)
                boxes.append(box)
                images.append(image)
                frames.append(frame)
            self.boxes.append(boxes)
            self.images.append(images)
            self.frames.append(frames)
        layer, head = self.chosen
        self.chosen = (min(layer, layers - 1), min(head, heads - 1)) if layers and heads else (0, 0)
        if layers and heads:
            self.frames[self.chosen[0]][self.chosen[1]].setVisible(True)

    def restyle(self) -> None:
        """Background and labels in the palette's colours (light or dark)."""
        bg, fg = palette_colors(self)
        self.setBackground(bg)
        for label in self.labels:
            label.setText(label.text, color=fg.name())

    def _on_moved(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell is not None:
            layer, head, row, col = cell
            text = describe(self.chars, self.weights[layer, head], row, col)
            self.hovered.emit(f"layer {layer + 1} · head {head + 1}: {text}")

    def _on_clicked(self, event) -> None:
        for layer, row_boxes in enumerate(self.boxes):
            for head, box in enumerate(row_boxes):
                if box.sceneBoundingRect().contains(event.scenePos()):
                    self.choose(layer, head)
                    return
