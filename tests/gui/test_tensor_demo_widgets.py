"""The tensor, broadcasting and matmul demo widgets: edits update what they show, bad input
says why, and a mismatch shows torch's own message."""

import pytest
import torch
from PySide6.QtCore import Qt


def torch_message(operation):
    with pytest.raises(RuntimeError) as raised:
        operation()
    return str(raised.value)


def test_editing_the_value_updates_shape_ndim_and_dtype(demo_widget):
    w = demo_widget("tensor", {"text": "1"})
    assert (w.shape_label.text(), w.ndim_label.text().split()[0], w.dtype_label.text()) == \
        ("torch.Size([])", "0", "torch.int64")
    w.editor.setText("[[1.5, 2], [3, 4]]")
    assert w.shape_label.text() == "torch.Size([2, 2])"
    assert w.ndim_label.text().startswith("2")
    assert w.dtype_label.text() == "torch.float32"
    assert w.printed.text() == str(torch.tensor([[1.5, 2], [3, 4]]))
    assert w.grid.texts[(0, 0)] == "1.5" and w.grid.texts[(1, 1)] == "4.0"
    w.dtype_picker.setCurrentText("int64")
    assert w.dtype_label.text() == "torch.int64"
    assert w.result()["value"].tolist() == [[1, 2], [3, 4]]
    assert w.code.text() == "x = torch.tensor([[1.5, 2], [3, 4]], dtype=torch.int64)"


def test_three_dimensions_draw_a_stack_of_grids(demo_widget):
    w = demo_widget("tensor", {"text": "[[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]]"})
    assert [caption for caption, *_ in w.grid.blocks] == ["x[0]", "x[1]", "x[2]"]
    assert w.grid.texts[(2, 1, 0)] == "11"


def test_invalid_text_says_why_and_the_widget_stays_up(demo_widget):
    w = demo_widget("tensor", {"text": "[1, 2, 3]"})
    w.editor.setText("[1, 2")
    assert w.problem.isVisible() and "not a number" in w.problem.text()
    assert w.shape_label.text() == "—" and w.result()["value"] is None
    assert w.isVisible() and w.editor.isEnabled()
    w.editor.setText("[[1, 2], [3]]")
    assert "different shapes" in w.problem.text()
    w.editor.setText("[1, 2, 3, 4]")
    assert not w.problem.isVisible() and w.shape_label.text() == "torch.Size([4])"


def test_clicking_a_cell_reports_its_index(qtbot, demo_widget):
    w = demo_widget("tensor", {"text": "[[1, 2, 3], [4, 5, 6]]"})
    rect = w.grid.cell_rect((1, 2))
    with qtbot.waitSignal(w.grid.cellClicked) as clicked:
        qtbot.mouseClick(w.grid, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert clicked.args == [(1, 2)]
    assert w.grid.cell_rect((5, 5)) is None


def test_a_broadcast_mismatch_shows_torchs_own_error(demo_widget):
    w = demo_widget("broadcast", {"a": "[[1, 2, 3], [4, 5, 6]]", "op": "*", "b": "[1, 2]"})
    message = torch_message(lambda: torch.tensor([[1, 2, 3], [4, 5, 6]]) * torch.tensor([1, 2]))
    assert w.error_label.isVisible()
    assert w.error_label.text() == f"RuntimeError: {message}"
    assert w.result() == {"result": None, "shape": None, "error": message}
    assert "neither is 1" in w.explanation.text()
    assert [kinds for _, _, kinds in w.drawing.rows()][:2] == [["", "mismatch"], ["stretched", "mismatch"]]
    w.b_edit.setText("[[1], [2]]")                      # a column: now it broadcasts
    assert not w.error_label.isVisible()
    assert w.result()["result"].tolist() == [[1, 2, 3], [8, 10, 12]]
    assert w.grids["b"].copies == {(0, 1), (0, 2), (1, 1), (1, 2)}     # the column reused sideways


def test_the_operator_and_shapes_only_mode(demo_widget):
    w = demo_widget("broadcast", {"a": "[1, 2, 3]", "op": "*", "b": "2"})
    assert w.result()["result"].tolist() == [2, 4, 6]
    w.op_picker.setCurrentText("+")
    assert w.result()["result"].tolist() == [3, 4, 5]
    w.shapes_box.setChecked(True)
    assert (w.a_edit.text(), w.b_edit.text()) == ("(3,)", "()")
    w.a_edit.setText("8, 1, 6, 1")
    w.b_edit.setText("7, 1, 5")
    assert w.result() == {"result": None, "shape": [8, 7, 6, 5], "error": None}
    w.b_edit.setText("7, 2, 5")
    message = torch_message(lambda: torch.ones(8, 1, 6, 1) + torch.ones(7, 2, 5))
    assert w.result()["error"] == message and w.error_label.text() == f"RuntimeError: {message}"
    w.b_edit.setText("7, x")
    assert w.problem.isVisible() and w.problem.text().startswith("b:")
    w.shapes_box.setChecked(False)
    assert (w.a_edit.text(), w.b_edit.text()) == ("[1, 2, 3]", "2")


def test_the_matmul_widget_spells_out_a_neuron_and_shows_torchs_error(qtbot, demo_widget):
    w = demo_widget("matmul", {"W": "[[1, 0, 2, -1], [0, 1, 1, 0], [3, -1, 0, 2]]", "x": "[1, 2, 3, 4]"})
    assert w.result()["y"].tolist() == [3, 5, 9]
    assert w.sum.text().startswith("y[0] = 1·1")
    rect = w.grids["W"].cell_rect((2, 1))
    qtbot.mouseClick(w.grids["W"], Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert w.sum.text() == "y[2] = 3·1 + -1·2 + 0·3 + 2·4 = 9"
    assert w.grids["y"].highlight == {(2,)}
    w.x_edit.setText("[1, 2, 3]")
    message = torch_message(lambda: torch.tensor([[1, 0, 2, -1], [0, 1, 1, 0], [3, -1, 0, 2]])
                            @ torch.tensor([1, 2, 3]))
    assert w.problem.isVisible() and w.problem.text() == message
    assert w.result() == {"y": None, "shape": None}


def test_the_layer_shapes_follow_the_sizes(demo_widget):
    w = demo_widget("layer_shapes", {"neurons": 1000, "inputs": 2000})
    assert w.result() == {"shape": [1000], "multiply_adds": 2_000_000}
    w.spins["batch"].setValue(32)
    assert w.result() == {"shape": [1000, 32], "multiply_adds": 64_000_000}
    assert "(2000, 32)" in w.summary.text()
    rects = w.drawing.rects()
    assert rects["W"].width() == pytest.approx(rects["x"].height())      # drawn to one scale
