"""A tensor's numbers drawn as boxes: one box for a scalar, a row for a vector, a grid for a
matrix, and a stack of grids (one per leading index) for three dimensions and more.

Shared by the tensor, broadcasting and matmul demos. It only draws numbers it is given (the
tensor is turned into Python lists once), so painting never runs torch.
"""

from __future__ import annotations

import itertools
import math

import torch
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetricsF, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...lessons.tensors import element_text
from ..plot_style import faded, palette_colors

MAX_CELLS = 600          # beyond this the numbers would be unreadable: say so instead
MARGIN, GAP, INDEX_SPACE = 6.0, 14.0, 18.0


class TensorGrid(QWidget):
    """Draws one tensor. Click a box: `cellClicked` says which element (its index tuple)."""

    cellClicked = Signal(tuple)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("tensorGrid")
        self.font_ = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.font_.setPointSizeF(self.font_.pointSizeF() * 1.2)
        self.small = QFont(self.font_)
        self.small.setPointSizeF(max(6.0, self.font_.pointSizeF() * 0.8))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.name = "x"
        self.shape: tuple[int, ...] = ()
        self.texts: dict[tuple, str] = {}
        self.copies: set[tuple] = set()
        self.highlight: set[tuple] = set()
        self.vertical = False
        self.message = ""
        self.blocks: list[tuple[str, QPointF, tuple, int, int]] = []   # caption, origin, prefix, rows, cols
        self.cell = QSize(30, 22)
        self._size = QSize(60, 30)

    def set_tensor(self, tensor: torch.Tensor | None, name: str = "x", copies: torch.Tensor | None = None,
                   highlight: set[tuple] | None = None, vertical: bool = False) -> None:
        """Show `tensor` (None: nothing). `copies`, a bool tensor of the same shape, marks elements
        drawn faded (broadcast copies); `highlight` holds index tuples drawn highlighted;
        `vertical` draws a vector as a column."""
        self.name, self.vertical = name, vertical
        self.texts, self.copies, self.message = {}, set(), ""
        self.highlight = set(highlight or ())
        self.shape = () if tensor is None else tuple(tensor.shape)
        if tensor is None:
            self.message = ""
        elif tensor.numel() == 0:
            self.message = f"an empty tensor: shape {list(self.shape)} holds no numbers"
        elif tensor.numel() > MAX_CELLS:
            self.message = f"{tensor.numel():,} numbers: too many to draw here"
        else:
            values = tensor.detach().cpu().reshape(-1).tolist()
            indices = list(itertools.product(*(range(n) for n in self.shape)))
            self.texts = {index: element_text(v) for index, v in zip(indices, values)}
            if copies is not None:
                flags = copies.reshape(-1).tolist()
                self.copies = {index for index, flag in zip(indices, flags) if flag}
        self._relayout()

    def set_highlight(self, highlight: set[tuple]) -> None:
        self.highlight = set(highlight)
        self.update()

    # -- layout -------------------------------------------------------------------------

    def _relayout(self) -> None:
        metrics = QFontMetricsF(self.font_)
        widest = max((metrics.horizontalAdvance(t) for t in self.texts.values()), default=10.0)
        self.cell = QSize(int(max(34.0, widest + 16)), int(metrics.height() + 12))
        self.blocks = []
        x, y = MARGIN, MARGIN
        width = MARGIN
        if self.message or not self.texts:
            text_width = QFontMetricsF(self.font()).horizontalAdvance(self.message) if self.message else 0
            self._size = QSize(int(text_width + 2 * MARGIN), int(metrics.height() + 2 * MARGIN))
        else:
            ndim = len(self.shape)
            if ndim <= 2:
                rows, cols = (1, 1) if ndim == 0 else (1, self.shape[0]) if ndim == 1 else self.shape
                if ndim == 1 and self.vertical:
                    rows, cols = cols, rows
                origin = QPointF(x + (INDEX_SPACE if ndim == 2 or self.vertical else 0),
                                 y + (INDEX_SPACE if ndim and not self.vertical else 0))
                self.blocks.append(("", origin, (), rows, cols))
            else:
                caption_h = QFontMetricsF(self.font()).height() + 2
                rows, cols = self.shape[-2:]
                for prefix in itertools.product(*(range(n) for n in self.shape[:-2])):
                    caption = f"{self.name}[{', '.join(str(i) for i in prefix)}]"
                    self.blocks.append((caption, QPointF(x + INDEX_SPACE, y + caption_h + INDEX_SPACE),
                                        prefix, rows, cols))
                    y += caption_h + INDEX_SPACE + rows * self.cell.height() + GAP
                y -= GAP
            for _, origin, _, _, cols in self.blocks:
                width = max(width, origin.x() + cols * self.cell.width() + MARGIN)
            last = self.blocks[-1]
            height = last[1].y() + last[3] * self.cell.height() + MARGIN
            self._size = QSize(int(math.ceil(width)), int(math.ceil(height)))
        self.setMinimumSize(self._size)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return self._size

    def _cells(self):
        """(index tuple, rectangle) of every box drawn."""
        w, h = self.cell.width(), self.cell.height()
        for _, origin, prefix, rows, cols in self.blocks:
            for r in range(rows):
                for c in range(cols):
                    if len(self.shape) == 0:
                        index = ()
                    elif len(self.shape) == 1:
                        index = (r,) if self.vertical else (c,)
                    else:
                        index = (*prefix, r, c)
                    yield index, QRectF(origin.x() + c * w, origin.y() + r * h, w, h)

    def cell_rect(self, index: tuple) -> QRectF | None:
        return next((rect for i, rect in self._cells() if i == index), None)

    # -- drawing ------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        base, text = palette_colors(self)
        faded_text = faded(text, 110)
        border = faded(text, 90)
        if self.message:
            painter.setPen(faded_text)
            painter.drawText(QRectF(self.rect()).adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.message)
            return
        highlight_fill = faded(self.palette().color(QPalette.ColorRole.Highlight), 90)
        copy_fill = faded(text, 18)
        painter.setFont(self.font_)
        for index, rect in self._cells():
            copy = index in self.copies
            painter.setPen(QPen(border, 1, Qt.PenStyle.DashLine if copy else Qt.PenStyle.SolidLine))
            painter.setBrush(highlight_fill if index in self.highlight else copy_fill if copy else base)
            painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
            painter.setPen(faded_text if copy else text)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.texts.get(index, ""))
        self._paint_indices(painter, faded_text)

    def _paint_indices(self, painter: QPainter, colour: QColor) -> None:
        """Small index numbers above the columns and left of the rows, and 3-D captions."""
        w, h = self.cell.width(), self.cell.height()
        ndim = len(self.shape)
        for caption, origin, _, rows, cols in self.blocks:
            painter.setPen(colour)
            painter.setFont(self.small)
            if ndim >= 2 or (ndim == 1 and not self.vertical):
                for c in range(cols):
                    painter.drawText(QRectF(origin.x() + c * w, origin.y() - INDEX_SPACE, w, INDEX_SPACE),
                                     Qt.AlignmentFlag.AlignCenter, str(c))
            if ndim >= 2 or (ndim == 1 and self.vertical):
                for r in range(rows):
                    painter.drawText(QRectF(origin.x() - INDEX_SPACE, origin.y() + r * h, INDEX_SPACE - 3, h),
                                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(r))
            if caption:
                painter.setFont(self.font())
                painter.drawText(QPointF(origin.x() - INDEX_SPACE, origin.y() - INDEX_SPACE - 4), caption)

    def mousePressEvent(self, event) -> None:
        point = event.position()
        for index, rect in self._cells():
            if rect.contains(point):
                self.cellClicked.emit(index)
                return
        super().mousePressEvent(event)
