"""The tensors of a trace as a table: name, shape in numbers and in letters, what it is.

Selecting a row prints the top-left corner of that tensor's values below the table, so the
shapes are visibly made of numbers.
"""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...lessons.gpt_trace import Trace

COLUMNS = ("tensor", "shape", "as letters", "what it is")
PREVIEW_ROWS, PREVIEW_COLS = 3, 6


def shape_text(shape: tuple[int, ...]) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"


class TensorTable(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.trace: Trace | None = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("traceTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.preview = QLabel("Select a row to see some of its numbers.")
        self.preview.setObjectName("tracePreview")
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.preview)
        self.table.currentCellChanged.connect(lambda row, *_: self._preview(row))

    def show_trace(self, trace: Trace) -> None:
        row_before = max(self.table.currentRow(), 0)
        self.trace = trace
        self.table.setRowCount(len(trace.steps))
        for row, step in enumerate(trace.steps):
            cells = (step.label, shape_text(step.shape), f"({step.dims})", step.what)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.setCurrentCell(min(row_before, len(trace.steps) - 1), 0)
        self._preview(self.table.currentRow())

    def shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        """What the table shows: each row's label and shape."""
        rows = range(self.table.rowCount())
        return [(self.table.item(r, 0).text(), self.trace.steps[r].shape) for r in rows]

    def _preview(self, row: int) -> None:
        if self.trace is None or not 0 <= row < len(self.trace.steps):
            return
        step = self.trace.steps[row]
        values = step.tensor
        if values.dim() == 1:
            values = values[None]
        corner = values[:PREVIEW_ROWS, :PREVIEW_COLS]
        if values.is_floating_point():
            lines = ["  ".join(f"{v:7.3f}" for v in r) for r in corner.tolist()]
        else:
            lines = ["  ".join(f"{v:3d}" for v in r) for r in corner.tolist()]
        more = values.shape[0] > PREVIEW_ROWS or values.shape[1] > PREVIEW_COLS
        self.preview.setText(f"{step.label} {shape_text(step.shape)}" + (", top-left corner" if more else "")
                             + ":\n" + "\n".join(lines))
