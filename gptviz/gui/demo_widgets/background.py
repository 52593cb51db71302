"""Longer torch work for a demo widget (hundreds of training steps) on a thread that ends,
while the window goes on.

Why a thread that ends: see short_thread.py (a long-lived thread that has run torch keeps an
OpenMP team that halves the training view's speed). Work of a few milliseconds uses
`short_thread.on_short_thread` and is simply waited for; this is for work that takes
seconds. Like there, torch runs alone on the thread. The thread never touches a widget: it
emits this object's signals, which Qt queues to the GUI thread (this object lives there).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from .short_thread import alone

#: work(should_stop, report) -> result; `report(value)` sends `progress` to the GUI thread.
Work = Callable[[Callable[[], bool], Callable[[object], None]], object]


class BackgroundJob(QObject):
    progress = Signal(object)
    finished = Signal(object)  # the work's return value
    failed = Signal(str)
    # what the thread emits: (run number, kind, value), relayed if the run is still current
    _from_thread = Signal(int, str, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._run = 0
        self._from_thread.connect(self._relay)

    def start(self, work: Work) -> bool:
        """Run `work` on a new thread; False (and nothing started) while one is running."""
        if self.running():
            return False
        stop = self._stop = threading.Event()
        self._run += 1
        number, send = self._run, self._from_thread.emit

        def report(value: object) -> None:
            if not stop.is_set():
                send(number, "progress", value)

        def run() -> None:
            try:
                alone()
                result = work(stop.is_set, report)
            except Exception as e:  # shown in the widget: a demo must not take the window down
                if not stop.is_set():
                    send(number, "failed", f"{type(e).__name__}: {e}")
                return
            if not stop.is_set():
                send(number, "finished", result)

        self._thread = threading.Thread(target=run, name="gptviz-demo-job", daemon=True)
        self._thread.start()
        return True

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the work to stop, wait for the thread to end, and drop whatever it still sends."""
        self._stop.set()
        self._run += 1  # anything already queued from the old run is dropped by _relay
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @Slot(int, str, object)
    def _relay(self, number: int, kind: str, value: object) -> None:
        if number == self._run:
            {"progress": self.progress, "finished": self.finished, "failed": self.failed}[kind].emit(value)
