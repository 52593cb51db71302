"""Driving the real window in tests: open it on Tiny Shakespeare, click its buttons."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QSpinBox

LONG = ["--preset", "tiny", "--set", "max_iters=1000000", "--set", "eval_interval=1000000"]


def button(w, name) -> QPushButton:
    b = w.findChild(QPushButton, name)
    assert b is not None, name
    return b


def click(qtbot, w, name):
    b = button(w, name)
    assert b.isEnabled(), f"{name} is disabled: {b.toolTip()}"
    qtbot.mouseClick(b, Qt.MouseButton.LeftButton)


def pause(qtbot, w):
    """Press Pause and wait until the window shows the run paused."""
    click(qtbot, w, "pauseButton")
    qtbot.waitUntil(lambda: w.state == "paused", timeout=5_000)


def stop_run(qtbot, w, timeout=5_000):
    """Press Stop and wait until the thread's `finished` signal is handled too (the run is
    cleared and Start is enabled again), not just until the thread stops running."""
    click(qtbot, w, "stopButton")
    qtbot.waitUntil(lambda: not w.active() and w.run is None, timeout=timeout)


def stream_a_long_sample(qtbot, w) -> tuple[QPlainTextEdit, int]:
    """Press Sample now for a ~30 s sample and wait until it is streaming into samplesView;
    (the view, its text length before the sample)."""
    w.samples.findChild(QSpinBox, "sampleLength").setValue(100_000)
    view = w.findChild(QPlainTextEdit, "samplesView")
    before = len(view.toPlainText())
    click(qtbot, w, "sampleNowButton")
    qtbot.waitUntil(lambda: len(view.toPlainText()) > before + 200, timeout=10_000)
    return view, before
