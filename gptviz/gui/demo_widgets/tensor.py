"""Type a value, pick a dtype, and see the tensor torch makes: its numbers, shape, ndim and dtype."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
)

from ...lessons.tensors import DTYPES, parse_tensor
from .base import DemoWidget
from .tensor_grid import TensorGrid

PROBLEM_STYLE = "color: #ef4444;"     # mid-luminance red: readable on light and dark backgrounds


def monospace_label(text: str = "", name: str = "") -> QLabel:
    label = QLabel(text)
    label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    if name:
        label.setObjectName(name)
    return label


def problem_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(PROBLEM_STYLE)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


class TensorDemo(DemoWidget):
    """state: text (a number, a nested list, or those joined by + - * /), dtype (a key of
    `lessons.tensors.DTYPES`, default "as typed"), name (the variable shown, default "x")."""

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        self.name = str(state.get("name", "x"))
        self.tensor: torch.Tensor | None = None

        self.editor = QLineEdit(str(state.get("text", "1")))
        self.editor.setObjectName("tensorText")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setPlaceholderText("a number, or a list such as [[1, 2], [3, 4]]")
        self.editor.setToolTip("A number (1, 2.5, -3), a list of numbers, lists of lists, "
                               "or any of those joined by + - * /")
        self.dtype_picker = QComboBox()
        self.dtype_picker.setObjectName("tensorDtypePicker")
        self.dtype_picker.addItems(list(DTYPES))
        dtype = str(state.get("dtype", "as typed"))
        self.dtype_picker.setCurrentText(dtype if dtype in DTYPES else "as typed")
        self.dtype_picker.setToolTip("\"as typed\" lets torch choose: int64 for whole numbers, "
                                     "float32 once a number has a decimal point")

        self.problem = problem_label("tensorProblem")
        self.code = monospace_label(name="tensorCode")
        self.shape_label = monospace_label(name="tensorShape")
        self.ndim_label = monospace_label(name="tensorNdim")
        self.dtype_label = monospace_label(name="tensorDtype")
        self.numel_label = monospace_label(name="tensorNumel")
        self.printed = monospace_label(name="tensorPrinted")
        self.grid = TensorGrid()
        scroll = QScrollArea()
        scroll.setWidget(self.grid)
        scroll.setWidgetResizable(True)
        scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        entry = QHBoxLayout()
        entry.addWidget(QLabel(f"{self.name} ="))
        entry.addWidget(self.editor, 1)
        entry.addWidget(QLabel("dtype:"))
        entry.addWidget(self.dtype_picker)
        facts = QFormLayout()
        facts.addRow("The same in PyTorch:", self.code)
        facts.addRow(f"{self.name}.shape", self.shape_label)
        facts.addRow(f"{self.name}.ndim", self.ndim_label)
        facts.addRow(f"{self.name}.dtype", self.dtype_label)
        facts.addRow(f"{self.name}.numel()", self.numel_label)
        facts.addRow(f"print({self.name})", self.printed)
        layout = QVBoxLayout(self)
        layout.addLayout(entry)
        layout.addWidget(self.problem)
        layout.addLayout(facts)
        layout.addWidget(scroll, 1)

        self.editor.textChanged.connect(self.refresh)
        self.dtype_picker.currentTextChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the text and the dtype; show the tensor, or why there is none."""
        try:
            parsed = parse_tensor(self.editor.text(), self.dtype_picker.currentText())
        except ValueError as e:
            self.tensor = None
            self.problem.setText(str(e))
            self.problem.show()
            for label in (self.code, self.shape_label, self.ndim_label, self.dtype_label, self.numel_label,
                          self.printed):
                label.setText("—")
            self.grid.set_tensor(None)
            return
        self.tensor = t = parsed.tensor
        self.problem.hide()
        self.code.setText(f"{self.name} = {parsed.code}")
        self.shape_label.setText(str(t.shape))
        self.ndim_label.setText(f"{t.ndim}    " + ("a scalar: no dimensions" if t.ndim == 0 else
                                                   f"{t.ndim} dimension{'s' if t.ndim > 1 else ''}"))
        self.dtype_label.setText(str(t.dtype))
        self.numel_label.setText(f"{t.numel()}")
        self.printed.setText(str(t))
        self.grid.set_tensor(t, self.name)

    def result(self) -> dict:
        """What the labels show: the tensor, shape, ndim and dtype (all None for invalid text)."""
        t = self.tensor
        if t is None:
            return {"value": None, "shape": None, "ndim": None, "dtype": None}
        return {"value": t, "shape": list(t.shape), "ndim": t.ndim, "dtype": str(t.dtype)}
