"""Two tensors (or just their shapes) and an operator: the broadcasting rule drawn, the
stretched copies shown faded, and the result, or torch's own error for a mismatch."""

from __future__ import annotations

import math
import operator

import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ...lessons.broadcasting import align, parse_shape, shape_text, stretch_mask
from ...lessons.tensors import MAX_ELEMENTS, parse_tensor
from .base import DemoWidget
from .shape_alignment import ShapeAlignment
from .tensor import monospace_label, problem_label
from .tensor_grid import TensorGrid

OPERATIONS = {"*": operator.mul, "+": operator.add, "-": operator.sub, "/": operator.truediv}


class BroadcastDemo(DemoWidget):
    """state: a, b (tensor text such as "[1, 2, 3]", or shapes such as "2, 3" when mode is
    "shapes"), op (one of * + - /, default *), mode ("values", the default, or "shapes")."""

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        self.result_tensor: torch.Tensor | None = None
        self.result_shape: tuple[int, ...] | None = None
        self.error: str | None = None
        self.shapes_mode = state.get("mode", "values") == "shapes"
        self._other_texts: tuple[str, str] | None = None    # the values to go back to from shapes mode
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        self.a_edit = QLineEdit(str(state.get("a", "[1, 2, 3]")))
        self.a_edit.setObjectName("broadcastA")
        self.b_edit = QLineEdit(str(state.get("b", "2")))
        self.b_edit.setObjectName("broadcastB")
        for edit in (self.a_edit, self.b_edit):
            edit.setFont(mono)
        self.op_picker = QComboBox()
        self.op_picker.setObjectName("broadcastOp")
        self.op_picker.addItems(list(OPERATIONS))
        self.op_picker.setCurrentText(str(state.get("op", "*")))
        self.shapes_box = QCheckBox("Shapes only (type sizes such as 5, 1, 4)")
        self.shapes_box.setObjectName("broadcastShapesOnly")
        self.shapes_box.setChecked(self.shapes_mode)

        self.problem = problem_label("broadcastProblem")
        self.drawing = ShapeAlignment()
        self.explanation = QLabel()
        self.explanation.setObjectName("broadcastExplanation")
        self.explanation.setWordWrap(True)
        self.error_label = problem_label("broadcastError")
        self.error_label.setFont(mono)
        self.result_label = monospace_label(name="broadcastResult")

        self.grids = {key: TensorGrid() for key in ("a", "b", "result")}
        self.captions = {key: QLabel() for key in self.grids}
        holder = QWidget()
        row = QGridLayout(holder)
        for column, key in enumerate(("a", "op", "b", "eq", "result")):
            if key in self.grids:
                row.addWidget(self.captions[key], 0, column * 2)
                row.addWidget(self.grids[key], 1, column * 2, Qt.AlignmentFlag.AlignTop)
            else:
                sign = QLabel("=" if key == "eq" else "")
                sign.setObjectName(f"broadcastSign{key}")
                sign.setFont(mono)
                row.addWidget(sign, 1, column * 2, Qt.AlignmentFlag.AlignVCenter)
                setattr(self, f"{key}_sign", sign)
        row.setColumnStretch(10, 1)
        row.setRowStretch(2, 1)
        self.scroll = QScrollArea()
        self.scroll.setWidget(holder)
        self.scroll.setWidgetResizable(True)

        entry = QHBoxLayout()
        entry.addWidget(QLabel("a ="))
        entry.addWidget(self.a_edit, 3)
        entry.addWidget(self.op_picker)
        entry.addWidget(QLabel("b ="))
        entry.addWidget(self.b_edit, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(entry)
        layout.addWidget(self.shapes_box)
        layout.addWidget(self.problem)
        layout.addWidget(self.drawing)
        layout.addWidget(self.explanation)
        layout.addWidget(self.error_label)
        layout.addWidget(self.result_label)
        layout.addWidget(self.scroll, 100)
        layout.addStretch(1)                  # takes the room when there are no values to draw

        for edit in (self.a_edit, self.b_edit):
            edit.textChanged.connect(self.refresh)
        self.op_picker.currentTextChanged.connect(self.refresh)
        self.shapes_box.toggled.connect(self._switch_mode)
        self.refresh()

    def _switch_mode(self, shapes: bool) -> None:
        """Shapes only: the fields take the shapes of the current values; back: the values return."""
        texts = (self.a_edit.text(), self.b_edit.text())
        if shapes:
            try:
                new = tuple(shape_text(tuple(parse_tensor(t).tensor.shape)).removesuffix(" (a scalar)")
                            for t in texts)
            except ValueError:
                new = ("2, 3", "3")
        else:
            new = self._other_texts or ("[1, 2, 3]", "2")
        self._other_texts = texts
        self.shapes_mode = shapes
        for edit, text in zip((self.a_edit, self.b_edit), new):
            edit.blockSignals(True)
            edit.setText(text)
            edit.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        op = self.op_picker.currentText()
        self.result_tensor = self.result_shape = self.error = None
        self.problem.hide()
        try:
            if self.shapes_mode:
                a_shape, b_shape = (self._read(parse_shape, edit, name) for edit, name in
                                    ((self.a_edit, "a"), (self.b_edit, "b")))
                a = b = None
            else:
                a, b = (self._read(lambda t: parse_tensor(t).tensor, edit, name) for edit, name in
                        ((self.a_edit, "a"), (self.b_edit, "b")))
                a_shape, b_shape = tuple(a.shape), tuple(b.shape)
            alignment = align(a_shape, b_shape, op)
            if not self.shapes_mode and alignment.ok and math.prod(alignment.result) > MAX_ELEMENTS:
                raise ValueError(f"the result would have {math.prod(alignment.result):,} numbers; the limit "
                                 f"here is {MAX_ELEMENTS:,} (tick \"Shapes only\" for big shapes)")
        except ValueError as e:
            self.problem.setText(str(e))
            self.problem.show()
            self._show(None, None, None, None)
            return
        explanation = alignment.explanation()
        if self.shapes_mode:
            self.result_shape, self.error = alignment.result, alignment.error
        else:
            try:
                self.result_tensor = OPERATIONS[op](a, b)     # small: capped above
                self.result_shape = tuple(self.result_tensor.shape)
            except RuntimeError as e:                         # torch's own words, whatever the cause
                self.error = str(e)
                if alignment.ok:
                    explanation = ["The shapes fit, but torch refuses this operation for these dtypes."]
        self._show(alignment, explanation, a, b)

    def _read(self, parse, edit: QLineEdit, name: str):
        try:
            return parse(edit.text())
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None

    def _show(self, alignment, explanation, a, b) -> None:
        op = self.op_picker.currentText()
        self.drawing.set_alignment(alignment, f"a {op} b")
        self.explanation.setText("<br>".join(explanation or []))
        self.explanation.setVisible(bool(explanation))
        self.error_label.setText(f"RuntimeError: {self.error}" if self.error else "")
        self.error_label.setVisible(bool(self.error))
        if self.result_shape is not None:
            self.result_label.setText(f"a {op} b has shape {shape_text(self.result_shape)}")
        else:
            self.result_label.setText("")
        self.result_label.setVisible(self.result_shape is not None)
        self.scroll.setVisible(a is not None)
        if a is None:
            return
        self.op_sign.setText(op)
        self.eq_sign.setVisible(self.result_tensor is not None)
        result = self.result_tensor
        for key, operand in (("a", a), ("b", b)):
            if result is not None and tuple(operand.shape) != tuple(result.shape):
                self.grids[key].set_tensor(operand.expand(result.shape), key,
                                           copies=stretch_mask(tuple(operand.shape), tuple(result.shape)))
                self.captions[key].setText(f"{key} {shape_text(tuple(operand.shape))}, stretched "
                                           f"(faded: reused copies)")
            else:
                self.grids[key].set_tensor(operand, key)
                self.captions[key].setText(f"{key} {shape_text(tuple(operand.shape))}")
        self.grids["result"].set_tensor(result, "result")
        self.grids["result"].setVisible(result is not None)
        self.captions["result"].setText(f"a {op} b" if result is not None else "")

    def result(self) -> dict:
        """The result tensor (values mode), its shape, and torch's error message (or None)."""
        return {"result": self.result_tensor,
                "shape": None if self.result_shape is None else list(self.result_shape),
                "error": self.error}
