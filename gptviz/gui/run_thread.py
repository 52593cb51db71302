"""A QThread with a TrainingWorker in it, started and shut down safely.

A QThread garbage-collected while running aborts the whole process, so shutting down is
always stop → quit → wait, with a timeout, before the objects are dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QThread

from ..trainer import Trainer
from .gc_policy import collect_on_gui_thread
from .worker import TrainingWorker


class RunThread(QObject):
    def __init__(self, make_trainer: Callable[[], Trainer], start_paused: bool = False,
                 diagnostics_every: int = 10, parent: QObject | None = None):
        super().__init__(parent)
        collect_on_gui_thread()
        self.thread = QThread()
        self.thread.setObjectName("gptviz-training")
        self.worker = TrainingWorker(make_trainer, start_paused, diagnostics_every)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.finished.connect(self.thread.quit)

    @property
    def trainer(self) -> Trainer | None:
        """The run's Trainer, once the worker thread has built it."""
        return self.worker.trainer

    def start(self) -> None:
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the loop and wait for the thread; True if it ended in time."""
        if self.thread.isRunning():
            self.worker.stop()
            self.thread.quit()
            return self.thread.wait(timeout_ms)
        return True
