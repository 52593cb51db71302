"""Get the default corpus (download with a cancellable progress dialog) off the GUI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from ..corpus import Corpus, CorpusError
from ..default_corpus import default_corpus
from ..download import DownloadCancelled, DownloadError
from .gc_policy import collect_on_gui_thread


class _Loader(QObject):
    progress = Signal(int, int)  # bytes so far, total (0 = unknown)
    loaded = Signal(object)  # Corpus
    failed = Signal(str)
    cancelledSignal = Signal()

    def __init__(self, path: str | None):
        super().__init__()
        self.path = path
        self.cancel_event = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            if self.path:
                corpus = Corpus.from_file(self.path)
            else:
                corpus = default_corpus(progress=lambda d, t: self.progress.emit(d, t or 0),
                                        cancelled=self.cancel_event.is_set)
        except DownloadCancelled:
            self.cancelledSignal.emit()
        except (CorpusError, DownloadError, OSError) as e:
            self.failed.emit(str(e))
        except Exception as e:  # noqa: BLE001 - never leave the window waiting for a corpus
            self.failed.emit(f"unexpected error while loading the corpus: {type(e).__name__}: {e}")
        else:
            self.loaded.emit(corpus)


class CorpusLoader(QObject):
    """Loads a corpus in a thread; shows a progress dialog while downloading."""

    loaded = Signal(object)  # Corpus
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        collect_on_gui_thread()
        self._parent = parent
        self._thread: QThread | None = None
        self._loader: _Loader | None = None
        self._dialog: QProgressDialog | None = None
        self._busy = False

    def busy(self) -> bool:
        return self._busy

    def load(self, path: str | None) -> None:
        if self._busy:
            return
        if self._thread is not None:  # the previous load's thread, finished or finishing
            self._thread.wait(5_000)
        self._busy = True
        self._loader = _Loader(path)
        self._thread = QThread()
        self._loader.moveToThread(self._thread)
        self._thread.started.connect(self._loader.run)
        for signal in (self._loader.loaded, self._loader.failed, self._loader.cancelledSignal):
            signal.connect(self._thread.quit)
        self._loader.loaded.connect(self._done_ok)
        self._loader.failed.connect(self._done_failed)
        self._loader.cancelledSignal.connect(self._done_cancelled)
        self._loader.progress.connect(self._progress)
        self._thread.start()

    def _progress(self, done: int, total: int) -> None:
        if self._dialog is None:
            self._dialog = QProgressDialog("Downloading Tiny Shakespeare…", "Cancel", 0, 0, self._parent)
            self._dialog.setObjectName("downloadDialog")
            self._dialog.setWindowTitle("gptviz")
            self._dialog.setMinimumDuration(300)
            self._dialog.canceled.connect(self._loader.cancel_event.set)
        if total:
            self._dialog.setMaximum(total)
            self._dialog.setValue(min(done, total))

    def _close_dialog(self) -> None:
        self._busy = False
        if self._dialog is not None:
            self._dialog.reset()
            self._dialog.deleteLater()
            self._dialog = None

    def _done_ok(self, corpus) -> None:
        self._close_dialog()
        self.loaded.emit(corpus)

    def _done_failed(self, message: str) -> None:
        self._close_dialog()
        self.failed.emit(message)

    def _done_cancelled(self) -> None:
        self._close_dialog()
        self.cancelled.emit()

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        if self._loader is not None:
            self._loader.cancel_event.set()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(timeout_ms)
