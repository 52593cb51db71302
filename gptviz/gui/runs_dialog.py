"""The Runs window: the run directories overlaid on the loss plot, and one run's details.

A list of the overlaid runs (each in its colour), with Open run… (any run directory,
from the window or `gptviz train`), Add this run (the window's own run directory, as it
is now), Remove, the x axis (step or training time) and export of the selected run (CSV,
TensorBoard). Below: the selected run's settings, what it lacks (e.g. no checkpoint: its
curves and samples still show) and its samples, read-only. Nothing here loads a
checkpoint or a model: only the run's text files are read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..export import ExportError, export_csv, export_tensorboard
from ..runs import RunError, RunRecord, load_run
from .loss_plot import LossPlot
from .run_dir import runs_root
from .run_overlay import AXES, OverlaidRun, RunOverlay

ERROR_STYLE = "color: #d04040;"
NOTICE_STYLE = "color: #c08000;"


class RunsDialog(QDialog):
    def __init__(self, loss_plot: LossPlot, current_run_dir: Callable[[], Path | None],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("runsDialog")
        self.setWindowTitle("Runs — compare and export")
        self.resize(560, 620)
        self.overlay = RunOverlay(loss_plot)
        self._current_run_dir = current_run_dir

        self._list = QListWidget(objectName="runList")
        self._list.currentItemChanged.connect(lambda *_: self._show_selected())
        buttons = QHBoxLayout()
        for name, text, slot, tip in (
                ("openRunButton", "Open run…", self.choose_run, "Overlay a run directory (metrics.jsonl)"),
                ("addCurrentRunButton", "Add this run", self.add_current_run,
                 "Overlay the window's run as it is now (e.g. to compare it by time)"),
                ("removeRunButton", "Remove", self.remove_selected, "Take the selected run off the plot")):
            b = QPushButton(text, objectName=name, toolTip=tip)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self._axis = QComboBox(objectName="runAxisChoice")
        for key, label in AXES.items():
            self._axis.addItem(f"x: {label}", key)
        self._axis.setToolTip("Compare by step, or by seconds spent training (pauses, evaluations "
                              "and samples excluded); the live run is drawn by step only")
        self._axis.currentIndexChanged.connect(lambda _: self.set_axis(self._axis.currentData()))
        buttons.addWidget(self._axis)

        exports = QHBoxLayout()
        for name, text, slot in (("exportRunCsvButton", "Export CSV…", self.export_selected_csv),
                                 ("exportRunTensorBoardButton", "Export TensorBoard…",
                                  self.export_selected_tensorboard)):
            b = QPushButton(text, objectName=name)
            b.clicked.connect(slot)
            exports.addWidget(b)
        exports.addStretch(1)

        self._message = QLabel(objectName="runsMessage", wordWrap=True)
        self._message.hide()
        self._info = QLabel(objectName="runInfo", wordWrap=True,
                            textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self._notes = QLabel(objectName="runNotes", wordWrap=True)
        self._notes.setStyleSheet(NOTICE_STYLE)
        self._samples = QComboBox(objectName="runSampleChoice")
        self._samples.currentIndexChanged.connect(lambda _: self._show_sample())
        self._text = QPlainTextEdit(objectName="runSampleText", readOnly=True)
        self._text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self._list, 1)
        layout.addLayout(exports)
        layout.addWidget(self._message)
        layout.addWidget(self._info)
        layout.addWidget(self._notes)
        layout.addWidget(QLabel("Samples (read-only):"))
        layout.addWidget(self._samples)
        layout.addWidget(self._text, 2)
        self.overlay.changed.connect(self._refresh_list)
        self._update_buttons()

    # -- commands ------------------------------------------------------------------

    def add_run(self, path: str | Path) -> RunRecord:
        """Overlay the run directory at path and select it (RunError if it is not one)."""
        run = load_run(path)
        self.overlay.add(run)
        self.select(run.path)
        return run

    def choose_run(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a run directory (with metrics.jsonl)",
                                                  str(runs_root()))
        if folder:
            self.open_path(folder)

    def open_path(self, folder: str | Path) -> bool:
        """add_run, saying in the dialog what went wrong instead of raising."""
        try:
            run = self.add_run(folder)
        except RunError as e:
            self.show_message(str(e), error=True)
            return False
        self.show_message(f"Opened {run.path}")
        return True

    def add_current_run(self) -> None:
        path = self._current_run_dir()
        if path is None:
            self.show_message("The window has no run yet: start training first.", error=True)
            return
        self.open_path(path)

    def remove_selected(self) -> None:
        entry = self.selected()
        if entry is not None:
            self.overlay.remove(entry.run.path)

    def set_axis(self, axis: str) -> None:
        if self._axis.currentData() != axis:
            self._axis.setCurrentIndex(self._axis.findData(axis))  # calls back here once
            return
        self.overlay.set_axis(axis)
        missing = [e.run.name for e in self.overlay.runs() if axis == "time" and not e.run.has_time]
        if missing:
            self.show_message("No times in " + ", ".join(missing) + " (older runs): off the plot while "
                              "comparing by time.", error=True)

    def export_selected_csv(self) -> None:
        entry = self.selected()
        if entry is None:
            self.show_message("Select a run to export.", error=True)
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the run's metrics",
                                              f"{entry.run.name}.csv", "CSV (*.csv)")
        if path:
            self._export(lambda: f"Wrote {export_csv(entry.run.path, path)} steps to {path}")

    def export_selected_tensorboard(self) -> None:
        entry = self.selected()
        if entry is None:
            self.show_message("Select a run to export.", error=True)
            return
        folder = QFileDialog.getExistingDirectory(self, "Write TensorBoard event files into a folder")
        if folder:
            self._export(lambda: f"Wrote {export_tensorboard(entry.run.path, folder)} TensorBoard events "
                                 f"to {folder} (tensorboard --logdir {folder})")

    def _export(self, write: Callable[[], str]) -> None:
        try:
            self.show_message(write())
        except (ExportError, RunError, OSError) as e:
            self.show_message(str(e), error=True)

    # -- reading -------------------------------------------------------------------

    def selected(self) -> OverlaidRun | None:
        item = self._list.currentItem()
        return None if item is None else self.overlay.get(item.data(Qt.ItemDataRole.UserRole))

    def select(self, path: str | Path) -> None:
        key = str(Path(path).resolve())
        for row in range(self._list.count()):
            if self._list.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self._list.setCurrentRow(row)

    def show_message(self, text: str, error: bool = False) -> None:
        self._message.setStyleSheet(ERROR_STYLE if error else "")
        self._message.setText(text)
        self._message.show()

    def message(self) -> str:
        return self._message.text() if self._message.isVisibleTo(self) else ""

    # -- showing -------------------------------------------------------------------

    def _refresh_list(self) -> None:
        chosen = self.selected()
        self._list.blockSignals(True)
        self._list.clear()
        for entry in self.overlay.runs():
            item = QListWidgetItem(_swatch(entry.color), f"{entry.curve.name()} — {entry.run.summary()}")
            item.setData(Qt.ItemDataRole.UserRole, str(entry.run.path.resolve()))
            item.setToolTip(str(entry.run.path))
            self._list.addItem(item)
        self._list.blockSignals(False)
        if chosen is not None and self.overlay.get(chosen.run.path) is not None:
            self.select(chosen.run.path)
        elif self._list.count():
            self._list.setCurrentRow(self._list.count() - 1)
        self._show_selected()

    def _show_selected(self) -> None:
        entry = self.selected()
        self._samples.blockSignals(True)
        self._samples.clear()
        if entry is None:
            self._info.clear()
            self._notes.hide()
        else:
            run = entry.run
            self._info.setText(f"{run.path}\n{run.summary()}")
            notes = run.notes()
            self._notes.setText("\n".join(notes))
            self._notes.setVisible(bool(notes))
            for sample in run.samples:
                val = sample.get("val_loss")
                label = f"step {sample['step']}"
                if isinstance(val, (int, float)):
                    label += f" · val {val:.2f}"
                self._samples.addItem(label)
            if not run.samples:
                self._samples.addItem("(no samples in this run)")
            self._samples.setCurrentIndex(max(0, len(run.samples) - 1))
        self._samples.blockSignals(False)
        self._show_sample()
        self._update_buttons()

    def _show_sample(self) -> None:
        entry, i = self.selected(), self._samples.currentIndex()
        if entry is None or not (0 <= i < len(entry.run.samples)):
            self._text.clear()
            return
        sample = entry.run.samples[i]
        self._text.setPlainText((sample.get("prompt") or "") + sample["text"])

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        for name in ("removeRunButton", "exportRunCsvButton", "exportRunTensorBoardButton"):
            self.findChild(QPushButton, name).setEnabled(has)


def _swatch(color: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)
