"""Driving the real window in tests: open it on Tiny Shakespeare, click its buttons."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

LONG = ["--preset", "tiny", "--set", "max_iters=1000000", "--set", "eval_interval=1000000"]


def button(w, name) -> QPushButton:
    b = w.findChild(QPushButton, name)
    assert b is not None, name
    return b


def click(qtbot, w, name):
    b = button(w, name)
    assert b.isEnabled(), f"{name} is disabled: {b.toolTip()}"
    qtbot.mouseClick(b, Qt.MouseButton.LeftButton)
