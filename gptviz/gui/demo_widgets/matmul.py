"""A small layer you can read: W (one row per neuron) @ x = y, and one neuron's sum written out.

Click a row of W or an entry of y to pick a neuron: its weights, the inputs and its output
light up, and the weighted sum is spelled out term by term.
"""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QFormLayout, QGridLayout, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from ...lessons.broadcasting import shape_text
from ...lessons.matmul import layer_output, neuron_sum
from ...lessons.tensors import parse_tensor
from .base import DemoWidget
from .tensor import monospace_label, problem_label
from .tensor_grid import TensorGrid


class MatmulDemo(DemoWidget):
    """state: W (a nested list: one row of weights per neuron), x (a list of inputs, or a
    matrix with one input per column), neuron (the row picked at first, default 0)."""

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        self.W: torch.Tensor | None = None
        self.x: torch.Tensor | None = None
        self.y: torch.Tensor | None = None
        self.neuron = int(state.get("neuron", 0))
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.W_edit = QLineEdit(str(state.get("W", "[[1, 0, 2, -1], [0, 1, 1, 0], [3, -1, 0, 2]]")))
        self.W_edit.setObjectName("matmulW")
        self.x_edit = QLineEdit(str(state.get("x", "[1, 2, 3, 4]")))
        self.x_edit.setObjectName("matmulX")
        for edit in (self.W_edit, self.x_edit):
            edit.setFont(mono)
        self.problem = problem_label("matmulProblem")
        self.shapes = monospace_label(name="matmulShapes")
        self.sum = monospace_label(name="matmulSum")
        hint = QLabel("Click a row of W (one neuron) or an entry of y to spell out its sum.")
        hint.setWordWrap(True)

        self.grids = {"W": TensorGrid(), "x": TensorGrid(), "y": TensorGrid()}
        holder = QWidget()
        row = QGridLayout(holder)
        for column, item in enumerate(("W", "@", "x", "=", "y")):
            if item in self.grids:
                row.addWidget(QLabel(item), 0, column)
                row.addWidget(self.grids[item], 1, column, Qt.AlignmentFlag.AlignTop)
            else:
                sign = QLabel(item)
                sign.setFont(mono)
                row.addWidget(sign, 1, column, Qt.AlignmentFlag.AlignVCenter)
        row.setColumnStretch(5, 1)
        row.setRowStretch(2, 1)
        scroll = QScrollArea()
        scroll.setWidget(holder)
        scroll.setWidgetResizable(True)

        form = QFormLayout()
        form.addRow("W =", self.W_edit)
        form.addRow("x =", self.x_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.shapes)
        layout.addWidget(scroll, 1)
        layout.addWidget(hint)
        layout.addWidget(self.sum)

        for edit in (self.W_edit, self.x_edit):
            edit.textChanged.connect(self.refresh)
        self.grids["W"].cellClicked.connect(lambda index: self.pick(index[0]) if len(index) == 2 else None)
        self.grids["y"].cellClicked.connect(lambda index: self.pick(index[0]) if index else None)
        self.refresh()

    def refresh(self) -> None:
        try:
            W = self._read(self.W_edit, "W")
            x = self._read(self.x_edit, "x")
            if W.dim() != 2:
                raise ValueError(f"W should be a matrix (one row of weights per neuron); it has shape "
                                 f"{shape_text(tuple(W.shape))}")
            y = layer_output(W, x)
        except ValueError as e:
            self.W = self.x = self.y = None
            self.problem.setText(str(e))
            self.problem.show()
            self.shapes.setText("")
            self.sum.setText("")
            for grid in self.grids.values():
                grid.set_tensor(None)
            return
        self.problem.hide()
        self.W, self.x, self.y = W, x, y
        self.neuron = min(self.neuron, W.shape[0] - 1)
        self.shapes.setText(f"W {shape_text(tuple(W.shape))} @ x {shape_text(tuple(x.shape))} → "
                            f"y {shape_text(tuple(y.shape))}:  {W.shape[0]} neurons, "
                            f"{W.shape[1]} inputs each")
        self.grids["W"].set_tensor(W, "W")
        self.grids["x"].set_tensor(x, "x", vertical=True)
        self.grids["y"].set_tensor(y, "y", vertical=True)
        self.pick(self.neuron)

    def _read(self, edit: QLineEdit, name: str) -> torch.Tensor:
        try:
            return parse_tensor(edit.text()).tensor
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None

    def pick(self, neuron: int) -> None:
        """Light up neuron `neuron`: its row of W, the inputs, its output, and its sum in words."""
        if self.W is None:
            return
        self.neuron = neuron
        W, x = self.W, self.x
        self.grids["W"].set_highlight({(neuron, j) for j in range(W.shape[1])})
        if x.dim() == 1:
            self.grids["x"].set_highlight({(j,) for j in range(x.shape[0])})
            self.grids["y"].set_highlight({(neuron,)})
            self.sum.setText(neuron_sum(W, x, neuron))
        else:
            self.grids["x"].set_highlight(set())
            self.grids["y"].set_highlight({(neuron, j) for j in range(self.y.shape[1])})
            self.sum.setText(f"Row {neuron} of y: neuron {neuron}'s output for each input "
                             "(each column of x).")

    def result(self) -> dict:
        return {"y": self.y, "shape": None if self.y is None else list(self.y.shape)}
