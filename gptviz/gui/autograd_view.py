"""The autograd explorer tab: type a program, set its inputs, watch values and grads on its graph.

The engine (`gptviz.expr`) does all the work: parsing, torch autograd, the chain-rule terms,
the walk. This widget edits text, fills the inputs table, and asks the scene to redraw.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..expr import ExprGraph, ProgramError, parse_program
from ..expr.walk import Walk
from .graph_export import save_scene
from .graph_scene import GraphScene
from .graph_view import GraphView
from .node_details import node_details_html

SEED_PROGRAM = "r = x*x + y"
SEED_INPUTS = {"x": "1", "y": "0"}
DEFAULT_INPUT = "1"
EDIT_DELAY_MS = 250      # re-evaluate this long after the last keystroke
PLAY_INTERVAL_MS = 700


class AutogradView(QWidget):
    graphChanged = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("autogradView")
        self.values: dict[str, str] = dict(SEED_INPUTS)   # input name -> its text, kept across edits
        self.graph: ExprGraph | None = None
        self.walk: Walk | None = None
        self.error: ProgramError | None = None
        self.detail_node: int | None = None

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.editor = QPlainTextEdit(SEED_PROGRAM)
        self.editor.setObjectName("exprEditor")
        self.editor.setFont(mono)
        self.editor.setPlaceholderText("e.g.  r = x*x + y   (statements on new lines or separated by ;)")
        self.editor.setToolTip("Operators + - * / ** @, functions exp log tanh relu sigmoid sin cos "
                               "sqrt abs sum mean; inputs are the names you use without assigning them")
        self.message = QLabel()
        self.message.setObjectName("exprMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.inputs = QTableWidget(0, 2)
        self.inputs.setObjectName("inputsTable")
        self.inputs.setHorizontalHeaderLabels(["input", "value (number or [list])"])
        self.inputs.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.inputs.verticalHeader().hide()

        def button(text, name, slot, tip):
            b = QPushButton(text)
            b.setObjectName(name)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            return b

        self.backward_button = button("Backward again", "backwardButton", self.backward_again,
                                      "Run backward once more without zeroing: every grad adds up")
        self.zero_button = button("Zero grad", "zeroGradButton", self.zero_grad, "Clear every grad")
        self.forward_step = button("Step forward", "forwardStepButton", lambda: self.step("forward"),
                                   "Compute the nodes one at a time, in evaluation order")
        self.backward_step = button("Step backward", "backwardStepButton", lambda: self.step("backward"),
                                    "Walk the backward pass one node at a time (reverse topological order)")
        self.back_button = button("Back", "stepBackButton", self.step_back, "Undo the last step")
        self.play_button = button("Play", "playButton", self.toggle_play, "Step backward automatically")
        self.play_button.setCheckable(True)
        self.reset_button = button("Reset", "resetWalkButton", self.reset_walk, "Show every value and grad")
        self.fit_button = button("Fit", "fitButton", lambda: self.view.fit(), "Fit the graph to the view (F)")
        self.png_button = button("PNG…", "exportPngButton", lambda: self.export("png"),
                                 "Save the graph as PNG")
        self.svg_button = button("SVG…", "exportSvgButton", lambda: self.export("svg"),
                                 "Save the graph as SVG")

        self.walk_status = QLabel()
        self.walk_status.setObjectName("walkStatus")
        self.explanation = QPlainTextEdit()
        self.explanation.setObjectName("stepExplanation")
        self.explanation.setReadOnly(True)
        self.explanation.setFont(mono)
        self.explanation.setPlaceholderText("Step forward or backward to see the arithmetic at each node.")
        self.details = QTextBrowser()
        self.details.setObjectName("nodeDetails")
        self.details.setPlaceholderText("Click a node for its full value, grad and local derivatives.")

        self.scene = GraphScene(self)
        self.view = GraphView(self.scene)
        self.scene.nodeClicked.connect(self.show_details)

        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(QLabel("Program"))
        col.addWidget(self.editor, 2)
        col.addWidget(self.message)
        col.addWidget(self.inputs, 2)
        for row in ((self.backward_button, self.zero_button),
                    (self.forward_step, self.backward_step),
                    (self.back_button, self.play_button, self.reset_button),
                    (self.fit_button, self.png_button, self.svg_button)):
            line = QHBoxLayout()
            for w in row:
                line.addWidget(w)
            col.addLayout(line)
        col.addWidget(self.walk_status)
        col.addWidget(self.explanation, 2)
        col.addWidget(self.details, 3)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.view)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.edit_timer = QTimer(self)
        self.edit_timer.setSingleShot(True)
        self.edit_timer.setInterval(EDIT_DELAY_MS)
        self.edit_timer.timeout.connect(self.evaluate)
        self.editor.textChanged.connect(self.edit_timer.start)
        self.inputs.itemChanged.connect(self._input_edited)
        self.play_timer = QTimer(self)
        self.play_timer.setInterval(PLAY_INTERVAL_MS)
        self.play_timer.timeout.connect(self._play_tick)
        self.evaluate()

    # -- evaluation -----------------------------------------------------------------------

    def set_program(self, text: str, inputs: dict[str, object] | None = None) -> None:
        """Show `text` (and these input values) at once, as if typed."""
        if inputs:
            self.values.update({k: str(v) for k, v in inputs.items()})
        self.editor.blockSignals(True)
        self.editor.setPlainText(text)
        self.editor.blockSignals(False)
        self.evaluate()

    def set_input(self, name: str, value: object) -> None:
        self.values[name] = str(value)
        self.evaluate()

    def evaluate(self) -> bool:
        """Parse and run the program; on an error keep the last good graph and point at it."""
        self.edit_timer.stop()
        text = self.editor.toPlainText()
        try:
            program = parse_program(text)
            self._fill_inputs(program.inputs)
            graph = ExprGraph.build(program, {n: self.values[n] for n in program.inputs})
        except ProgramError as e:
            self._show_error(e)
            return False
        same_shape = self.graph is not None and self.graph.program.text == text \
            and len(self.graph.nodes) == len(graph.nodes)
        walk = Walk(graph)
        if same_shape and self.walk and self.walk.mode:
            walk.mode, walk.position = self.walk.mode, min(self.walk.position, len(walk.order))
        self.graph, self.walk, self.error = graph, walk, None
        self.editor.setExtraSelections([])
        self._show_message("\n".join("⚠ " + w for w in graph.warnings), warning=True)
        self.scene.show_graph(graph, walk)
        self._after_walk_change()
        if not same_shape:
            self.view.fit()
            self.detail_node = None
            self.details.clear()
        elif self.detail_node is not None:
            self.show_details(self.detail_node)
        self.graphChanged.emit()
        return True

    def _fill_inputs(self, names: tuple[str, ...]) -> None:
        self.inputs.blockSignals(True)
        self.inputs.setRowCount(len(names))
        for row, name in enumerate(names):
            self.values.setdefault(name, DEFAULT_INPUT)
            label = QTableWidgetItem(name)
            label.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.inputs.setItem(row, 0, label)
            current = self.inputs.item(row, 1)
            if current is None or current.text() != self.values[name]:
                self.inputs.setItem(row, 1, QTableWidgetItem(self.values[name]))
            self.inputs.item(row, 1).setBackground(QColor(0, 0, 0, 0))
        self.inputs.blockSignals(False)

    def _input_edited(self, item: QTableWidgetItem) -> None:
        if item.column() != 1:
            return
        name = self.inputs.item(item.row(), 0).text()
        self.values[name] = item.text()
        if not self.evaluate():
            self.inputs.blockSignals(True)      # a colour change is an itemChanged too
            item.setBackground(QColor(234, 67, 53, 60))
            self.inputs.blockSignals(False)

    def _show_error(self, e: ProgramError) -> None:
        self.error = e
        self._show_message(f"✖ {e}", warning=False)
        doc = self.editor.document()
        block = doc.findBlockByLineNumber(e.line - 1)
        if not block.isValid():
            self.editor.setExtraSelections([])
            return
        text_length = block.length() - 1                     # without the line break
        start = max(0, min(e.column - 1, text_length - 1))    # an error past the end marks the last char
        if e.end_line == e.line and e.end_column > e.column:
            end = min(text_length, max(start + 1, e.end_column - 1))
        else:
            end = text_length
        cursor = QTextCursor(doc)
        cursor.setPosition(block.position() + start)
        cursor.setPosition(block.position() + max(end, start + 1), QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(QColor(234, 67, 53))
        fmt.setBackground(QColor(234, 67, 53, 40))
        fmt.setProperty(QTextFormat.Property.FullWidthSelection, False)
        selection = QTextEdit.ExtraSelection()
        selection.cursor, selection.format = cursor, fmt
        self.editor.setExtraSelections([selection])

    def _show_message(self, text: str, warning: bool) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.message.setStyleSheet("color: #b26a00;" if warning else "color: #d93025;")

    # -- grads and the walk ---------------------------------------------------------------

    def backward_again(self) -> None:
        if self.graph:
            self.graph.backward()
            self._grads_changed()

    def zero_grad(self) -> None:
        if self.graph:
            self.graph.zero_grad()
            self._grads_changed()

    def _grads_changed(self) -> None:
        self._show_message("\n".join("⚠ " + w for w in self.graph.warnings), warning=True)
        self.scene.refresh()
        self._after_walk_change()

    def step(self, mode: str) -> None:
        if self.walk is None:
            return
        if self.walk.mode != mode or self.walk.finished:
            self.walk.start(mode)
        self.walk.step()
        self._after_walk_change()

    def step_back(self) -> None:
        if self.walk and self.walk.mode:
            self.walk.back()
            self._after_walk_change()

    def reset_walk(self) -> None:
        self.play_button.setChecked(False)
        self.play_timer.stop()
        if self.walk:
            self.walk.reset()
            self._after_walk_change()

    def toggle_play(self) -> None:
        if self.play_button.isChecked():
            if self.walk and (self.walk.mode != "backward" or self.walk.finished):
                self.walk.start("backward")
            self.play_timer.start()
            self._play_tick()
        else:
            self.play_timer.stop()

    def _play_tick(self) -> None:
        if self.walk is None or self.walk.finished:
            self.play_button.setChecked(False)
            self.play_timer.stop()
            return
        self.step(self.walk.mode or "backward")

    def _after_walk_change(self) -> None:
        walk = self.walk
        self.scene.refresh()
        if walk is None or walk.mode is None:
            self.walk_status.setText("Showing every value and grad" if self.graph and self.graph.passes
                                     else "Showing every value (no grads: zeroed)")
            self.explanation.setPlainText("")
        else:
            self.walk_status.setText(f"{walk.mode} step {walk.position} of {len(walk.order)}")
            self.explanation.setPlainText(walk.explain())
            if walk.current is not None:
                self.view.ensureVisible(self.scene.items_by_id[walk.current], 40, 40)
        self.back_button.setEnabled(bool(walk and walk.mode and walk.position > 0))

    def show_details(self, node_id: int) -> None:
        self.detail_node = node_id
        if self.graph is not None:
            self.details.setHtml(node_details_html(self.graph, node_id))

    # -- export ---------------------------------------------------------------------------

    def export(self, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Save the graph as {kind.upper()}",
                                              f"graph.{kind}", f"{kind.upper()} (*.{kind})")
        if path:
            try:
                save_scene(self.scene, **{kind: path})
            except OSError as e:
                self._show_message(f"✖ could not save {path}: {e}", warning=False)
