"""The Demos tab: the list of demos, and one step at a time of the chosen demo.

Each step shows its Markdown text, the PyTorch code it corresponds to, and a live widget in
the step's initial state. Prev / Next / Restart, or the keyboard: Ctrl+Right / Page Down,
Ctrl+Left / Page Up, Ctrl+Home.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..demos import Demo, DemoError, all_demos
from .demo_widgets import DemoHost, DemoWidget, make_widget


class DemosView(QWidget):
    stepChanged = Signal(str, int)     # demo name, step index (0-based)

    def __init__(self, host: DemoHost | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("demosView")
        self.host = host
        self.demo: Demo | None = None
        self.index = 0
        self.widget: DemoWidget | None = None
        try:
            self.demos = all_demos()
            problem = ""
        except DemoError as e:
            self.demos, problem = [], str(e)

        self.list = QListWidget()
        self.list.setObjectName("demoList")
        for i, demo in enumerate(self.demos, 1):
            item = QListWidgetItem(f"{i}. {demo.title}")
            item.setToolTip(demo.summary)
            item.setData(Qt.ItemDataRole.UserRole, demo.name)
            self.list.addItem(item)
        self.list.currentRowChanged.connect(lambda row: self.open(self.demos[row].name) if row >= 0 else None)

        self.title = QLabel()
        self.title.setObjectName("demoTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.progress = QLabel()
        self.progress.setObjectName("demoProgress")
        self.text = QTextBrowser()
        self.text.setObjectName("demoText")
        self.text.setOpenExternalLinks(True)
        self.code = QPlainTextEdit()
        self.code.setObjectName("demoCode")
        self.code.setReadOnly(True)
        self.code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.code.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.problem = QLabel(problem)
        self.problem.setObjectName("demoProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d93025;")
        self.problem.setVisible(bool(problem))

        def button(text, name, slot, keys):
            b = QPushButton(text)
            b.setObjectName(name)
            b.clicked.connect(slot)
            b.setToolTip(" or ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText)
                                     for k in keys))
            for k in keys:
                shortcut = QShortcut(QKeySequence(k), self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(slot)
            return b

        self.prev_button = button("◀ Prev", "demoPrev", self.prev, ["Ctrl+Left", "PgUp"])
        self.next_button = button("Next ▶", "demoNext", self.next, ["Ctrl+Right", "PgDown"])
        self.restart_button = button("Restart", "demoRestart", self.restart, ["Ctrl+Home"])
        copy = QPushButton("Copy code")
        copy.setObjectName("demoCopy")
        copy.clicked.connect(lambda: QApplication.clipboard().setText(self.code.toPlainText()))

        self.stage = QVBoxLayout()          # holds the live widget of the current step
        stage = QWidget()
        stage.setLayout(self.stage)
        self.stage.setContentsMargins(0, 0, 0, 0)

        reading = QWidget()
        col = QVBoxLayout(reading)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.text, 3)
        code_bar = QHBoxLayout()
        code_bar.addWidget(QLabel("The same in PyTorch:"))
        code_bar.addStretch(1)
        code_bar.addWidget(copy)
        col.addLayout(code_bar)
        col.addWidget(self.code, 2)
        body = QSplitter()
        body.addWidget(reading)
        body.addWidget(stage)
        body.setStretchFactor(0, 1)
        body.setStretchFactor(1, 2)
        body.setSizes([380, 760])

        right = QWidget()
        main = QVBoxLayout(right)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.progress)
        main.addLayout(header)
        main.addWidget(self.problem)
        main.addWidget(body, 1)
        nav = QHBoxLayout()
        nav.addWidget(self.restart_button)
        nav.addStretch(1)
        nav.addWidget(self.prev_button)
        nav.addWidget(self.next_button)
        main.addLayout(nav)
        outer = QSplitter()
        outer.addWidget(self.list)
        outer.addWidget(right)
        outer.setStretchFactor(1, 5)
        outer.setSizes([190, 1100])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(outer)
        self._update_nav()

    def names(self) -> list[str]:
        return [d.name for d in self.demos]

    def open(self, name: str, step: int = 0) -> None:
        """Show demo `name` at `step` (0-based). Raises DemoError for an unknown name."""
        if name not in self.names():
            raise DemoError(f"no demo named {name!r}; the demos are: " + ", ".join(self.names()))
        row = self.names().index(name)
        demo = self.demos[row]
        if self.list.currentRow() != row:
            self.list.blockSignals(True)
            self.list.setCurrentRow(row)
            self.list.blockSignals(False)
        self.demo = demo
        self.title.setText(demo.title)
        self.show_step(step)

    def show_step(self, index: int) -> None:
        if self.demo is None:
            return
        self.index = max(0, min(index, len(self.demo) - 1))
        step = self.demo.steps[self.index]
        self.progress.setText(f"step {self.index + 1} of {len(self.demo)}")
        self.text.setMarkdown(f"### {step.title}\n\n{step.text}")
        self.code.setPlainText(step.code)
        self._replace_widget(step)
        self._update_nav()
        self.stepChanged.emit(self.demo.name, self.index)

    def _replace_widget(self, step) -> None:
        if self.widget is not None:
            self.widget.stop()
            self.widget.hide()             # it lingers until deleteLater runs
            self.stage.removeWidget(self.widget)
            self.widget.deleteLater()
            self.widget = None
        try:
            self.widget = make_widget(step.widget, step.state, self.host)
        except (KeyError, ValueError) as e:
            self.problem.setText(f"This step's widget could not be made: {e}")
            self.problem.show()
            return
        self.problem.hide()
        self.widget.setObjectName("demoWidget")
        self.stage.addWidget(self.widget)

    def next(self) -> None:
        if self.demo and self.index + 1 < len(self.demo):
            self.show_step(self.index + 1)

    def prev(self) -> None:
        if self.demo and self.index > 0:
            self.show_step(self.index - 1)

    def restart(self) -> None:
        if self.demo:
            self.show_step(0)

    def stop(self) -> None:
        if self.widget is not None:
            self.widget.stop()

    def _update_nav(self) -> None:
        has = self.demo is not None
        self.prev_button.setEnabled(has and self.index > 0)
        self.next_button.setEnabled(has and self.index + 1 < len(self.demo))
        self.restart_button.setEnabled(has)
