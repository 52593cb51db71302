"""What every demo widget is: built from a step's state, able to say what it shows."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtWidgets import QWidget


class DemoHost(Protocol):
    """What the window offers a demo widget (the training demo opens the training view)."""

    def show_training(self, preset_name: str) -> None: ...


class DemoWidget(QWidget):
    """A live widget in the state a demo step describes.

    `result()` returns what the widget shows, as the Python or torch value the step's code
    computes into its `check` variable, so the tests can compare the two.
    """

    def __init__(self, state: dict, host: DemoHost | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = dict(state)
        self.host = host

    def result(self) -> object:
        raise NotImplementedError(f"{type(self).__name__} shows nothing comparable")

    def stop(self) -> None:
        """Stop timers and background work before the widget is thrown away."""
