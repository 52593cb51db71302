"""The shapes of a layer of neurons, drawn to scale: W (neurons × inputs) @ x (inputs) = y (neurons).

Only sizes are involved, no tensors: a layer of 1000 × 2000 is drawn without computing it.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QFormLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from ..plot_style import SERIES_COLORS, faded, palette_colors
from .base import DemoWidget
from .tensor import monospace_label

INNER_COLOR = QColor(SERIES_COLORS[1])      # the size W and x must share
ROW_COLOR = QColor(SERIES_COLORS[0])        # one neuron's row, and its output
MIN_SIDE = 10.0


class LayerShapesDrawing(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.neurons, self.inputs, self.batch = 1000, 2000, 1
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(360, 240)

    def set_sizes(self, neurons: int, inputs: int, batch: int) -> None:
        self.neurons, self.inputs, self.batch = neurons, inputs, batch
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(560, 360)

    def rects(self) -> dict[str, QRectF]:
        """Where W, x and y go: one scale for every size, so the picture is to scale (except
        that nothing is thinner than MIN_SIDE pixels)."""
        metrics = QFontMetricsF(self.font())
        gap = metrics.horizontalAdvance(" = ") + 16
        label_h = 2 * metrics.height() + 8
        width, height = self.width() - 24 - 2 * gap, self.height() - 24 - label_h - metrics.height()
        scale = min(width / (self.inputs + 2 * self.batch), height / max(self.neurons, self.inputs))

        def side(n: int) -> float:
            return max(MIN_SIDE, n * scale)

        top = 12 + metrics.height()
        W = QRectF(12, top, side(self.inputs), side(self.neurons))
        x = QRectF(W.right() + gap, top, side(self.batch), side(self.inputs))
        y = QRectF(x.right() + gap, top, side(self.batch), side(self.neurons))
        return {"W": W, "x": x, "y": y}

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _, text = palette_colors(self)
        fill = faded(text, 25)
        rects = self.rects()
        metrics = QFontMetricsF(self.font())
        labels = {"W": (f"W  {self.neurons:,} × {self.inputs:,}", "weights: a row per neuron"),
                  "x": (f"x  {self.inputs:,}" + (f" × {self.batch:,}" if self.batch > 1 else ""),
                        "input" if self.batch == 1 else "inputs"),
                  "y": (f"y  {self.neurons:,}" + (f" × {self.batch:,}" if self.batch > 1 else ""),
                        "outputs")}
        for name, rect in rects.items():
            painter.setPen(QPen(text, 1))
            painter.setBrush(fill)
            painter.drawRect(rect)
            first, second = labels[name]
            painter.setPen(text)
            for line, text_line in enumerate((first, second)):
                painter.drawText(QRectF(rect.left(), rect.bottom() + 4 + line * metrics.height(),
                                        max(rect.width(), metrics.horizontalAdvance(text_line) + 4),
                                        metrics.height()), Qt.AlignmentFlag.AlignLeft, text_line)
        W, x, y = rects["W"], rects["x"], rects["y"]
        # one neuron (the middle one): its row of W, times the input, gives one number of y
        row_h = max(3.0, W.height() / max(self.neurons, 1))
        row_top = W.top() + (self.neurons // 2) * W.height() / max(self.neurons, 1)
        band = faded(ROW_COLOR, 170)
        painter.fillRect(QRectF(W.left(), row_top, W.width(), row_h), band)
        painter.fillRect(QRectF(y.left(), row_top, y.width(), row_h), band)
        painter.setPen(ROW_COLOR)
        painter.drawText(QRectF(W.left() + 4, row_top + row_h, W.width() - 8, metrics.height()),
                         Qt.AlignmentFlag.AlignLeft, "one neuron")
        # the inner size, shared by W's width and x's height
        painter.setPen(QPen(INNER_COLOR, 3))
        painter.drawLine(W.topLeft(), W.topRight())
        painter.drawLine(x.topLeft(), x.bottomLeft())
        painter.drawText(QRectF(W.left(), W.top() - metrics.height() - 2, W.width(), metrics.height()),
                         Qt.AlignmentFlag.AlignCenter, f"{self.inputs:,} inputs")
        painter.setPen(text)
        for left, right, sign in ((W, x, "@"), (x, y, "=")):
            painter.drawText(QRectF(left.right(), left.top(), right.left() - left.right(),
                                    min(left.height(), right.height())), Qt.AlignmentFlag.AlignCenter, sign)


class LayerShapesDemo(DemoWidget):
    """state: neurons (default 1000), inputs (per neuron, default 2000), batch (inputs at once, default 1)."""

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        self.spins = {}
        form = QFormLayout()
        for key, label, default in (("neurons", "Neurons (rows of W)", 1000),
                                    ("inputs", "Inputs per neuron (columns of W)", 2000),
                                    ("batch", "Inputs at once (columns of x)", 1)):
            spin = QSpinBox()
            spin.setObjectName(f"layer_{key}")
            spin.setRange(1, 100_000)
            spin.setGroupSeparatorShown(True)
            spin.setValue(int(state.get(key, default)))
            spin.valueChanged.connect(self.refresh)
            self.spins[key] = spin
            form.addRow(label, spin)
        self.drawing = LayerShapesDrawing()
        self.summary = monospace_label(name="layerSummary")
        self.note = QLabel()
        self.note.setObjectName("layerNote")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.drawing, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.note)
        self.refresh()

    def sizes(self) -> tuple[int, int, int]:
        return self.spins["neurons"].value(), self.spins["inputs"].value(), self.spins["batch"].value()

    def output_shape(self) -> list[int]:
        neurons, _, batch = self.sizes()
        return [neurons] if batch == 1 else [neurons, batch]

    def refresh(self) -> None:
        neurons, inputs, batch = self.sizes()
        self.drawing.set_sizes(neurons, inputs, batch)
        x_shape = f"({inputs},)" if batch == 1 else f"({inputs}, {batch})"
        self.summary.setText(f"W ({neurons}, {inputs}) @ x {x_shape} → y "
                             f"({', '.join(str(n) for n in self.output_shape())}{',' if batch == 1 else ''})")
        self.note.setText(f"{neurons * inputs:,} weights; one @ does {neurons * inputs * batch:,} "
                          f"multiply-adds (one per weight{' per input' if batch > 1 else ''}). The "
                          f"highlighted row is one neuron: its {inputs:,} weights times the input give one "
                          "number of y.")

    def result(self) -> dict:
        neurons, inputs, batch = self.sizes()
        return {"shape": self.output_shape(), "multiply_adds": neurons * inputs * batch}
