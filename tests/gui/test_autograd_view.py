"""The autograd explorer tab, driven as a user would: type, edit inputs, step, click, export."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGraphicsView, QPlainTextEdit, QPushButton

from gptviz.gui.autograd_view import AutogradView
from gptviz.gui.graph_export import save_scene


@pytest.fixture
def view(qtbot):
    v = AutogradView()
    qtbot.addWidget(v)
    v.resize(1200, 800)
    v.show()
    qtbot.waitExposed(v)
    return v


def lines_of(view, label):
    """The text drawn on the node labelled `label`."""
    g = view.graph
    (node,) = [n for n in g.nodes if n.label == label]
    return view.scene.items_by_id[node.id].lines


def type_program(qtbot, view, text):
    editor = view.findChild(QPlainTextEdit, "exprEditor")
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    for i, line in enumerate(text.split("\n")):   # keyClicks cannot type a newline
        if i:
            qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.keyClicks(editor, line)
    qtbot.waitUntil(lambda: view.graph is not None and view.graph.program.text == text
                    or view.error is not None, timeout=3000)


def test_the_seed_program_is_shown_with_values_and_grads(view):
    assert view.findChild(QPlainTextEdit, "exprEditor").toPlainText() == "r = x*x + y"
    assert lines_of(view, "x") == ["x", "data 1", "grad 2"]
    assert lines_of(view, "y") == ["y", "data 0", "grad 1"]
    assert lines_of(view, "r") == ["r", "data 1", "grad 1"]
    assert lines_of(view, "*") == ["*"] and lines_of(view, "+") == ["+"]


def test_typing_a_program_draws_its_graph(qtbot, view):
    type_program(qtbot, view, "a = x*y\nb = a + x\nb")
    labels = {n.label for n in view.graph.nodes}
    assert {"x", "y", "a", "b", "*", "+"} <= labels
    assert [view.inputs.item(r, 0).text() for r in range(view.inputs.rowCount())] == ["x", "y"]
    # x defaults to 1 (kept from the seed), y to 0: b = x*y + x, db/dx = y + 1 = 1, db/dy = x = 1
    assert lines_of(view, "x")[1:] == ["data 1", "grad 1"]
    assert lines_of(view, "y")[1:] == ["data 0", "grad 1"]
    assert view.findChild(QPlainTextEdit, "exprEditor").extraSelections() == []


def test_editing_an_input_updates_values_and_grads_at_once(view):
    view.inputs.item(0, 1).setText("3")          # x
    assert lines_of(view, "x")[1:] == ["data 3", "grad 6"]     # dr/dx = 2x
    assert lines_of(view, "r")[1:] == ["data 9", "grad 1"]
    view.inputs.item(0, 1).setText("0")
    assert lines_of(view, "x")[1:] == ["data 0", "grad 0"]     # at x = 0, dr/dx = 0
    assert lines_of(view, "y")[1:] == ["data 0", "grad 1"]     # dr/dy is always 1


def test_a_bad_input_value_is_flagged_and_the_last_graph_stays(view):
    before = view.graph
    view.inputs.item(1, 1).setText("abc")
    assert view.graph is before
    assert "input y" in view.message.text() and "not a number" in view.message.text()
    assert view.inputs.item(1, 1).background().color().red() > 200


def test_a_program_error_points_at_the_line_and_column(qtbot, view):
    before = view.graph
    type_program(qtbot, view, "r = x*x\ns = r.real")
    assert view.graph is before
    assert view.message.text().startswith("✖ line 2, column 5")
    (selection,) = view.findChild(QPlainTextEdit, "exprEditor").extraSelections()
    assert selection.cursor.selectedText() == "r.real"


def test_too_large_a_program_is_refused_with_a_message(view):
    view.set_program("\n".join(["h = x"] + ["h = h*w + h"] * 300), {"w": "0.5"})
    assert "more than 1,000 graph nodes" in view.message.text()


def test_stepping_backward_visits_every_node_in_reverse_topological_order(qtbot, view):
    view.set_program("a = x*x\nb = a*y + x\nc = b + a")
    step = view.findChild(QPushButton, "backwardStepButton")
    seen = []
    for _ in range(len(view.graph.backward_order)):
        qtbot.mouseClick(step, Qt.MouseButton.LeftButton)
        seen.append(view.walk.current)
        highlighted = [i for i, item in view.scene.items_by_id.items() if item.current]
        assert highlighted == [view.walk.current]
    g = view.graph
    assert seen == g.backward_order
    assert set(seen) == {n.id for n in g.nodes if n.kind == "op" or n.tensor.requires_grad}
    position = {node: i for i, node in enumerate(seen)}
    for e in g.edges:   # every node comes after all the nodes that use it
        if e.src in position and e.dst in position:
            assert position[e.dst] < position[e.src]
    assert view.walk_status.text() == f"backward step {len(seen)} of {len(seen)}"
    # the last node is x, which fans out: its running sum is shown
    x_text = view.findChild(QPlainTextEdit, "stepExplanation").toPlainText()
    assert x_text.startswith("dc/dx") and "running sum" in x_text


def test_grads_appear_only_on_nodes_the_backward_walk_has_reached(qtbot, view):
    step = view.findChild(QPushButton, "backwardStepButton")
    qtbot.mouseClick(step, Qt.MouseButton.LeftButton)            # r, the output
    assert lines_of(view, "r")[2] == "grad 1"
    assert lines_of(view, "x")[2] == "grad ?"
    for _ in range(4):                                            # +, y, x*x, *
        qtbot.mouseClick(step, Qt.MouseButton.LeftButton)
    explanation = view.findChild(QPlainTextEdit, "stepExplanation").toPlainText()
    assert "to x: 1 × (x = 1) = 1" in explanation                 # x*x sends x·1 along each edge
    qtbot.mouseClick(step, Qt.MouseButton.LeftButton)            # x
    assert lines_of(view, "x")[2] == "grad 2"
    assert "running sum: 1 + 1 = 2" in view.explanation.toPlainText()
    qtbot.mouseClick(view.findChild(QPushButton, "stepBackButton"), Qt.MouseButton.LeftButton)
    assert lines_of(view, "x")[2] == "grad ?"
    qtbot.mouseClick(view.findChild(QPushButton, "resetWalkButton"), Qt.MouseButton.LeftButton)
    assert lines_of(view, "x")[2] == "grad 2"


def test_stepping_forward_reveals_values_in_evaluation_order(qtbot, view):
    step = view.findChild(QPushButton, "forwardStepButton")
    qtbot.mouseClick(step, Qt.MouseButton.LeftButton)
    assert view.walk.current == view.graph.forward_order[0]
    assert lines_of(view, "x")[1] == "data 1" and lines_of(view, "r")[1] == "data ?"
    for _ in range(len(view.graph.forward_order) - 1):
        qtbot.mouseClick(step, Qt.MouseButton.LeftButton)
    assert lines_of(view, "r")[1] == "data 1"
    assert view.explanation.toPlainText() == "r = 1  (from `x*x + y`)"


def test_backward_again_accumulates_and_zero_grad_clears(qtbot, view):
    qtbot.mouseClick(view.findChild(QPushButton, "backwardButton"), Qt.MouseButton.LeftButton)
    assert lines_of(view, "x")[2] == "grad 4"
    assert lines_of(view, "y")[2] == "grad 2"
    qtbot.mouseClick(view.findChild(QPushButton, "zeroGradButton"), Qt.MouseButton.LeftButton)
    assert lines_of(view, "x")[2] == "grad None"
    qtbot.mouseClick(view.findChild(QPushButton, "backwardButton"), Qt.MouseButton.LeftButton)
    assert lines_of(view, "x")[2] == "grad 2"


def test_clicking_a_node_shows_its_full_value_grad_and_local_derivatives(qtbot, view):
    view.set_program("h = tanh(W @ v)", {"W": "[[1, 2], [3, 4]]", "v": "[0.5, -1]"})
    (w,) = [n for n in view.graph.nodes if n.label == "W"]
    item = view.scene.items_by_id[w.id]
    view.view.centerOn(item)
    qtbot.mouseClick(view.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.view.mapFromScene(item.pos()))
    html = view.details.toPlainText()
    assert html.startswith("W") and "shape 2×2" in html
    assert "[3., 4.]" in html                                     # the full value
    assert "upstream @ vᵀ" in html                                # the local derivative of @


def test_export_png_and_svg(tmp_path, view):
    png, svg = tmp_path / "g.png", tmp_path / "g.svg"
    save_scene(view.scene, png=str(png), svg=str(svg))
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 100
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 5                                      # not blank
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and ">x*x<" in text
    assert not list(tmp_path.glob(".*"))                        # no temp files left


def test_the_main_window_has_an_autograd_tab(qtbot, shakespeare_path):
    from gptviz.gui import build_main_window
    window = build_main_window(["--corpus", str(shakespeare_path), "--preset", "tiny"])
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.corpus is not None and not window.loader.busy(), timeout=15_000)
    tabs = window.views
    titles = [tabs.tabText(i) for i in range(tabs.count())]
    assert "Autograd" in titles
    tabs.setCurrentIndex(titles.index("Autograd"))
    editor = window.findChild(QPlainTextEdit, "exprEditor")
    assert editor is not None and editor.isVisible()
    assert window.findChild(QGraphicsView, "graphView").isVisible()
    window.shutdown()
