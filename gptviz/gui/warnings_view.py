"""The training warnings, shown above the plots without interrupting anything.

The rules are engine code (gptviz/warnings_monitor.py); this widget only feeds the
monitor what the window receives anyway (step losses, diagnostics, evaluations, on the
GUI thread: a few comparisons per step) and lists what it returns, newest first. It is
hidden while there is nothing to say; Dismiss hides the current ones.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from ..config import TrainConfig
from ..metrics import EvalMetrics
from ..warnings_monitor import TrainingWarning, WarningsMonitor, ratio_settle_steps
from .payloads import Diagnostics, StepBatch

MAX_SHOWN = 50  # older warnings drop off the list
WARNING_STYLE = "QFrame#trainingWarnings { border: 1px solid #c08000; border-radius: 3px; }"
ICONS = {"update_ratio": "⚖", "loss_spike": "⚡", "overfitting": "📈"}


class TrainingWarningsView(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingWarnings")
        self.setStyleSheet(WARNING_STYLE)
        self.monitor = WarningsMonitor()
        self.warnings: list[TrainingWarning] = []  # all of this run's, oldest first
        title = QLabel("<b>Training warnings</b>")
        title.setStyleSheet("color: #c08000;")
        dismiss = QPushButton("Dismiss")
        dismiss.setObjectName("dismissWarningsButton")
        dismiss.setToolTip("Hide these warnings (new ones show the list again)")
        dismiss.clicked.connect(self.dismiss)
        self.list = QListWidget()
        self.list.setObjectName("trainingWarningsList")
        self.list.setWordWrap(True)
        self.list.setMaximumHeight(64)  # about three lines; it scrolls
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # never takes Space/N from the window
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(dismiss)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.list)
        self.hide()

    # -- fed by the window ------------------------------------------------------------
    def reset(self, config: TrainConfig | None = None) -> None:
        """A new run: forget the monitor's state and the list."""
        if config is None:
            self.monitor.reset()
        else:
            muon = config.optimizer == "muon"  # it takes the weight matrices inside the blocks
            self.monitor.reset(config.warmup_iters, ratio_settle_steps(config.warmup_iters),
                               wide=(lambda name: name.startswith("blocks.")) if muon else None)
        self.warnings.clear()
        self.list.clear()
        self.hide()

    def observe_steps(self, batch: StepBatch) -> None:
        self.add(self.monitor.observe_losses(batch.steps, batch.loss))

    def observe_diagnostics(self, d: Diagnostics) -> None:
        self.add(self.monitor.observe_update_ratios(d.step, d.update_ratios))

    def observe_eval(self, ev: EvalMetrics) -> None:
        self.add(self.monitor.observe_eval(ev.step, ev.train_loss, ev.val_loss))

    def add(self, warnings: list[TrainingWarning]) -> None:
        for w in warnings:
            self.warnings.append(w)
            self.list.insertItem(0, f"{ICONS.get(w.kind, '!')} {w}")
            self.list.item(0).setToolTip(str(w))
        while self.list.count() > MAX_SHOWN:
            self.list.takeItem(self.list.count() - 1)
        if warnings:
            self.show()

    def shown(self) -> list[str]:
        """The lines on the list, newest first."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    def dismiss(self) -> None:
        self.list.clear()
        self.hide()
