"""Time a layer of 1000 neurons × 2000 inputs on this machine: a Python loop against one matmul
(part "loop"), or the CPU against a GPU when there is one (part "device").

The timing runs on a short-lived `threading.Thread` that ends when it is done: a long-lived
thread that has run big torch ops would halve training speed on the worker thread
(DEVELOPERS.md). Results come back through a Qt signal, queued to the GUI thread; the thread
never touches a widget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QFontMetricsF, QPainter, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...lessons.matmul_timing import (
    DeviceRace,
    LoopVsMatmul,
    Stopped,
    available_device,
    race_cpu_vs_device,
    race_loop_vs_matmul,
    seconds_text,
)
from ..plot_style import SERIES_COLORS
from .base import DemoWidget
from .tensor import monospace_label, problem_label

PROGRESS_EVERY_S = 0.05      # at most 20 progress signals a second

GPU_CODE = """\
device = "cuda" if torch.cuda.is_available() else "cpu"
W = W.to(device)    # copy the weights to the GPU (once)
x = x.to(device)    # each input must go there too
y = W @ x           # runs on the GPU: its inputs are there
torch.cuda.synchronize()   # wait for the GPU before timing
y = y.cpu()         # the result back, to print or plot"""


class _Relay(QObject):
    """Lives on the GUI thread; the timing thread emits, Qt queues to the widget's slots."""

    progress = Signal(str, object)     # stage, fraction done (or None: busy)
    finished = Signal(object)          # LoopVsMatmul or DeviceRace
    failed = Signal(str)


class TimeBars(QWidget):
    """Horizontal bars on one linear scale: a 1000× faster bar is a sliver, as it should be."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: list[tuple[str, float, str]] = []      # label, seconds, text after the bar
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_rows([])

    def set_rows(self, rows: list[tuple[str, float, str]]) -> None:
        self.rows = rows
        self.setFixedHeight(int(len(rows) * (QFontMetricsF(self.font()).height() + 14) + 6) if rows else 0)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(500, self.height())

    def paintEvent(self, event) -> None:
        if not self.rows:
            return
        painter = QPainter(self)
        metrics = QFontMetricsF(self.font())
        text = self.palette().color(QPalette.ColorRole.Text)
        label_w = max(metrics.horizontalAdvance(label) for label, _, _ in self.rows) + 10
        note_w = max(metrics.horizontalAdvance(note) for _, _, note in self.rows) + 10
        span = max(self.width() - label_w - note_w - 10, 40)
        longest = max(seconds for _, seconds, _ in self.rows) or 1.0
        row_h = metrics.height() + 14
        for i, (label, seconds, note) in enumerate(self.rows):
            top = 3 + i * row_h
            painter.setPen(text)
            painter.drawText(QRectF(0, top, label_w - 6, row_h), Qt.AlignmentFlag.AlignRight |
                             Qt.AlignmentFlag.AlignVCenter, label)
            bar = max(2.0, span * seconds / longest)
            colour = QColor(SERIES_COLORS[i % len(SERIES_COLORS)])
            painter.fillRect(QRectF(label_w, top + 4, bar, row_h - 8), colour)
            painter.drawText(QRectF(label_w + bar + 6, top, note_w, row_h), Qt.AlignmentFlag.AlignLeft |
                             Qt.AlignmentFlag.AlignVCenter, note)


class LayerTimingDemo(DemoWidget):
    """state: part ("loop" or "device"), neurons (1000), inputs (2000), seed (0), and for part
    "loop" budget_seconds (1.0: how long the Python loop may run before extrapolating), for part
    "device" batch (1000: the inputs in W @ X)."""

    finished = Signal()        # on the GUI thread, once a run's results are shown

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        self.part = str(state.get("part", "loop"))
        self.neurons = int(state.get("neurons", 1000))
        self.inputs = int(state.get("inputs", 2000))
        self.batch = int(state.get("batch", 1000))
        self.seed = int(state.get("seed", 0))
        self.budget = float(state.get("budget_seconds", 1.0))
        self.device = available_device()
        self.outcome: LoopVsMatmul | DeviceRace | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._relay = _Relay(self)
        queued = Qt.ConnectionType.QueuedConnection
        self._relay.progress.connect(self._on_progress, queued)
        self._relay.finished.connect(self._on_finished, queued)
        self._relay.failed.connect(self._on_failed, queued)

        x_shape = f"x ({self.inputs},) → y ({self.neurons},)" if self.part == "loop" else \
            f"X ({self.inputs}, {self.batch}) → Y ({self.neurons}, {self.batch})"
        self.shapes = monospace_label(f"W ({self.neurons}, {self.inputs}) @ {x_shape}", "timingShapes")
        self.run_button = QPushButton("Run on this machine")
        self.run_button.setObjectName("timingRun")
        self.run_button.clicked.connect(self.run)
        self.progress = QProgressBar()
        self.progress.setObjectName("timingProgress")
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel("Press Run: it takes a second or two.")
        self.status.setObjectName("timingStatus")
        self.status.setWordWrap(True)
        self.bars = TimeBars()
        self.bars.setObjectName("timingBars")
        self.verdict = QLabel()
        self.verdict.setObjectName("timingVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem = problem_label("timingProblem")

        layout = QVBoxLayout(self)
        if self.part == "device":
            self.where = QLabel(self._where_text())
            self.where.setObjectName("timingDevice")
            self.where.setWordWrap(True)
            layout.addWidget(self.where)
            layout.addWidget(QLabel("What moving to a GPU changes in the code:"))
            code = QPlainTextEdit(GPU_CODE)
            code.setObjectName("timingGpuCode")
            code.setReadOnly(True)
            code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            code.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            code.setFixedHeight(int(QFontMetricsF(code.font()).height() * 6 + 14))
            layout.addWidget(code)
        layout.addWidget(self.shapes)
        controls = QHBoxLayout()
        controls.addWidget(self.run_button)
        controls.addWidget(self.progress, 1)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.problem)
        layout.addWidget(self.bars)
        layout.addWidget(self.verdict)
        layout.addStretch(1)

    def _where_text(self) -> str:
        if self.device == "cpu":
            return ("<b>This machine has no GPU that torch can use</b> (no CUDA, no Apple MPS): "
                    "everything runs on the CPU, so Run times the CPU alone. On a machine with a GPU, "
                    "this step times the same matmul there as well.")
        kind = "an NVIDIA GPU (CUDA)" if self.device == "cuda" else "an Apple GPU (MPS)"
        return f"<b>This machine has {kind}</b>: Run times the same matmul on the CPU and on the GPU."

    # -- the run ----------------------------------------------------------------------

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> None:
        """Start timing on a fresh thread (nothing happens if a run is under way)."""
        if self.running():
            return
        self._stop.clear()
        self.outcome = None
        self.problem.hide()
        self.run_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText("Running…")
        if self.part == "loop":
            neurons, inputs, seed, budget = self.neurons, self.inputs, self.seed, self.budget

            def job(progress, cancelled):
                return race_loop_vs_matmul(neurons, inputs, seed, budget, progress, cancelled)
        else:
            batch, device = self.batch, self.device
            neurons, inputs, seed = self.neurons, self.inputs, self.seed

            def job(progress, cancelled):
                return race_cpu_vs_device(neurons, inputs, batch, seed, device, progress, cancelled)
        self._thread = threading.Thread(target=self._work, args=(job, self._relay, self._stop),
                                        name="gptviz-demo-timing", daemon=True)
        self._thread.start()

    @staticmethod
    def _work(job: Callable, relay: _Relay, stop: threading.Event) -> None:
        """On the timing thread: run `job`, report through `relay`, then end."""
        last = [0.0]

        def progress(stage: str, fraction: float | None) -> None:
            now = time.monotonic()
            if fraction is None or now - last[0] >= PROGRESS_EVERY_S:
                last[0] = now
                relay.progress.emit(stage, fraction)

        try:
            try:
                outcome = job(progress, stop.is_set)
            except Stopped:
                return
            except Exception as e:          # shown in the widget, not lost on a thread
                relay.failed.emit(f"{type(e).__name__}: {e}")
                return
            relay.finished.emit(outcome)
        except RuntimeError:                # the widget is gone (deleted without stop()): no one to tell
            pass

    def _on_progress(self, stage: str, fraction) -> None:
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))
        self.status.setText({"loop": "Python loop: one neuron at a time…",
                             "matmul": "One matmul, timed many times…",
                             "cpu": "On the CPU…"}.get(stage, f"On the GPU ({stage})…"))

    def _on_failed(self, message: str) -> None:
        self._done()
        self.status.setText("The run failed.")
        self.problem.setText(message)
        self.problem.show()
        self.finished.emit()

    def _on_finished(self, outcome) -> None:
        self._done()
        self.outcome = outcome
        if isinstance(outcome, LoopVsMatmul):
            self._show_loop(outcome)
        else:
            self._show_device(outcome)
        self.finished.emit()

    def _done(self) -> None:
        self.progress.hide()
        self.run_button.setEnabled(True)
        self.run_button.setText("Run again")

    def _show_loop(self, r: LoopVsMatmul) -> None:
        if r.extrapolated:
            loop_note = (f"{seconds_text(r.loop_seconds_all)}: extrapolated; the loop did {r.loop_neurons} "
                         f"of {r.neurons} neurons in {seconds_text(r.loop_seconds)}")
        else:
            loop_note = f"{seconds_text(r.loop_seconds)}, all {r.neurons} neurons"
        self.bars.set_rows([("Python loop", r.loop_seconds_all, loop_note),
                            ("one matmul", r.matmul.seconds,
                             f"{seconds_text(r.matmul.seconds)} (median of {r.matmul.repeats} runs)")])
        self.status.setText(f"Measured just now on this machine, for {r.neurons * r.inputs:,} multiply-adds.")
        check = "✓ The same numbers" if r.agree else "✗ Different numbers"
        self.verdict.setText(f"<b>One matmul is about {r.speedup:,.0f}× faster</b> than the loop.<br>"
                             f"{check}: the loop's {r.loop_neurons} outputs and the matmul's differ by at "
                             f"most {r.max_difference:.2g} (rounding: the loop adds in a different order).")

    def _show_device(self, r: DeviceRace) -> None:
        rows = [("CPU, W @ x (1 input)", r.cpu_single.seconds, seconds_text(r.cpu_single.seconds)),
                (f"CPU, W @ X ({r.batch} inputs)", r.cpu_batch.seconds, seconds_text(r.cpu_batch.seconds))]
        flops = 2 * self.neurons * self.inputs * r.batch / r.cpu_batch.seconds
        lines = [f"The CPU does about {flops / 1e9:,.0f} billion floating-point operations a second "
                 "on the batch."]
        if r.device_single is not None and r.device_batch is not None:
            single, batch = r.device_single.seconds, r.device_batch.seconds
            name = r.device.upper()
            rows += [(f"{name}, W @ x", single, seconds_text(single)),
                     (f"{name}, W @ X", batch, seconds_text(batch))]
            lines.append(f"<b>{r.device_name}</b>: the batch is {r.cpu_batch.seconds / batch:,.0f}× faster "
                         f"there; one input {r.cpu_single.seconds / single:,.1f}×. Copying W and X to it "
                         f"took {seconds_text(r.copy_seconds)}: worth it only when the data stays there "
                         f"for many operations. Results differ from the CPU's by at most "
                         f"{r.max_difference:.2g} (different rounding).")
        else:
            lines.append("<b>No GPU here, so there is nothing to compare with.</b> GPUs do tens to hundreds "
                         "of times more of this arithmetic per second than a laptop CPU, which is why models "
                         "are trained on them; the code above is all that changes.")
        self.bars.set_rows(rows)
        self.status.setText("Measured just now on this machine.")
        self.verdict.setText("<br>".join(lines))

    def stop(self) -> None:
        """Ask the timing thread to stop and wait for it (it checks between neurons and runs)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def result(self) -> dict:
        """The output shape and the device (shown before any run); after a run, also whether the
        loop agreed with the matmul, and the timings."""
        shown: dict = {"device": self.device, "cpu_only": self.device == "cpu"}
        if self.part == "loop":
            shown["shape"] = [self.neurons]
            if isinstance(self.outcome, LoopVsMatmul):
                r = self.outcome
                shown.update(agree=r.agree, loop_neurons=r.loop_neurons, loop_seconds=r.loop_seconds_all,
                             matmul_seconds=r.matmul.seconds)
        else:
            shown["shape"] = [self.neurons, self.batch]
            if isinstance(self.outcome, DeviceRace):
                shown.update(cpu_seconds=self.outcome.cpu_batch.seconds,
                             device_seconds=None if self.outcome.device_batch is None
                             else self.outcome.device_batch.seconds)
        return shown
