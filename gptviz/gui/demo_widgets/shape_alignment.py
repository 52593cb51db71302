"""The broadcasting rule drawn: two shapes lined up from the right, one column per dimension,
stretched sizes in orange ("1→3"), a mismatch in red, and the result shape underneath."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontDatabase, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...lessons.broadcasting import MISMATCH, Alignment, shape_text
from ..plot_style import SERIES_COLORS, faded, palette_colors

STRETCH_COLOR = QColor(SERIES_COLORS[1])     # orange
MISMATCH_COLOR = QColor(SERIES_COLORS[3])    # red
RESULT_COLOR = QColor(SERIES_COLORS[2])      # green
MARGIN, ROW_GAP, HEADER = 6.0, 6.0, 18.0


class ShapeAlignment(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("shapeAlignment")
        self.font_ = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.font_.setPointSizeF(self.font_.pointSizeF() * 1.15)
        self.alignment: Alignment | None = None
        self.names = ("a", "b", "result")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._geometry()

    def set_alignment(self, alignment: Alignment | None, result_name: str = "result") -> None:
        self.alignment = alignment
        self.names = ("a", "b", result_name)
        self._geometry()
        self.updateGeometry()
        self.update()

    def rows(self) -> list[tuple[str, list[str], list[str]]]:
        """(row label, cell texts, cell kinds) for a, b and the result; kinds are "", "none",
        "stretched", "mismatch" and "result"."""
        al = self.alignment
        if al is None:
            return []
        a_cells, b_cells, r_cells, a_kinds, b_kinds, r_kinds = [], [], [], [], [], []
        for d in al.dims:
            for size, stretched, cells, kinds in ((d.a, d.a_stretched, a_cells, a_kinds),
                                                  (d.b, d.b_stretched, b_cells, b_kinds)):
                shown = "·" if size is None else str(size)
                if d.status == MISMATCH:
                    cells.append(shown)
                    kinds.append("mismatch")
                elif stretched:
                    cells.append(f"{shown}→{d.result}")
                    kinds.append("stretched")
                else:
                    cells.append(shown)
                    kinds.append("none" if size is None else "")
            r_cells.append("✗" if d.result is None else str(d.result))
            r_kinds.append("mismatch" if d.result is None else "result")
        return [(f"{self.names[0]} {shape_text(al.a)}", a_cells, a_kinds),
                (f"{self.names[1]} {shape_text(al.b)}", b_cells, b_kinds),
                (f"{self.names[2]} {shape_text(al.result) if al.ok else '—'}", r_cells, r_kinds)]

    def _geometry(self) -> None:
        metrics = QFontMetricsF(self.font_)
        rows = self.rows()
        texts = [t for _, cells, _ in rows for t in cells]
        self.cell_w = max([56.0] + [metrics.horizontalAdvance(t) + 16 for t in texts])
        self.cell_h = metrics.height() + 12
        self.label_w = max([60.0] + [metrics.horizontalAdvance(label) + 16 for label, _, _ in rows])
        columns = len(self.alignment.dims) if self.alignment else 0
        width = MARGIN * 2 + self.label_w + columns * self.cell_w
        legend = 2 * (QFontMetricsF(self.font()).height() + 4)
        height = MARGIN * 2 + HEADER + 3 * (self.cell_h + ROW_GAP) + ROW_GAP + legend
        self._size = QSize(int(width), int(height))
        self.setMinimumSize(self._size)

    def sizeHint(self) -> QSize:
        return self._size

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        base, text = palette_colors(self)
        dim = faded(text, 120)
        painter.setFont(self.font_)
        rows = self.rows()
        if not rows:
            return
        x0 = MARGIN + self.label_w
        columns = len(self.alignment.dims)
        small = painter.font()
        small.setPointSizeF(small.pointSizeF() * 0.75)
        painter.setFont(small)
        painter.setPen(dim)
        for c in range(columns):
            painter.drawText(QRectF(x0 + c * self.cell_w, MARGIN, self.cell_w, HEADER),
                             Qt.AlignmentFlag.AlignCenter, f"dim {c - columns}")
        painter.setFont(self.font_)
        fills = {"": base, "none": base, "stretched": faded(STRETCH_COLOR, 90),
                 "mismatch": faded(MISMATCH_COLOR, 110), "result": faded(RESULT_COLOR, 45)}
        for r, (label, cells, kinds) in enumerate(rows):
            y = MARGIN + HEADER + r * (self.cell_h + ROW_GAP) + (ROW_GAP if r == 2 else 0)
            painter.setPen(text)
            painter.drawText(QRectF(MARGIN, y, self.label_w - 8, self.cell_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
            for c, (cell, kind) in enumerate(zip(cells, kinds)):
                rect = QRectF(x0 + c * self.cell_w + 2, y, self.cell_w - 4, self.cell_h)
                painter.setBrush(fills[kind])
                painter.setPen(QPen(faded(text, 60 if kind == "none" else 110), 1,
                                    Qt.PenStyle.DashLine if kind == "none" else Qt.PenStyle.SolidLine))
                painter.drawRoundedRect(rect, 4, 4)
                painter.setPen(dim if kind == "none" else text)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, cell)
        self._paint_legend(painter, text, MARGIN + HEADER + 3 * (self.cell_h + ROW_GAP) + ROW_GAP)

    def _paint_legend(self, painter: QPainter, text: QColor, y: float) -> None:
        metrics = QFontMetricsF(self.font())
        painter.setFont(self.font())
        x = MARGIN
        for colour, words in ((STRETCH_COLOR, "stretched: size 1 (or no dimension, ·) reused"),
                              (MISMATCH_COLOR, "mismatch: different sizes, neither is 1")):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(faded(colour, 110))
            painter.drawRoundedRect(QRectF(x, y + 3, 12, 12), 2, 2)
            painter.setPen(text)
            painter.drawText(QRectF(x + 16, y, metrics.horizontalAdvance(words) + 4, metrics.height() + 4),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, words)
            y += metrics.height() + 4
