"""The autograd explorer as a demo widget: a program, its inputs, and optionally a walk."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout

from ..autograd_view import AutogradView
from .base import DemoWidget


class AutogradDemo(DemoWidget):
    """state: program (text), inputs ({name: value}), and optionally
    backward_passes (int, default 1), walk ("forward" or "backward") and walk_steps (int)."""

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        self.explorer = AutogradView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.explorer)
        self.explorer.set_program(state.get("program", "r = x*x + y"),
                                  {k: v for k, v in state.get("inputs", {}).items()})
        for _ in range(int(state.get("backward_passes", 1)) - 1):
            self.explorer.backward_again()
        if state.get("walk"):
            for _ in range(int(state.get("walk_steps", 0))):
                self.explorer.step(state["walk"])

    def result(self) -> dict:
        """The grads the explorer shows, by input name (and the output's value as `output`),
        as plain floats or nested lists."""
        graph = self.explorer.graph
        shown = {"output": graph.value(graph.output).tolist()}
        for node in graph.values():
            if node.role == "input":
                grad = graph.grad(node.id)
                shown[node.name] = None if grad is None else grad.tolist()
        return shown

    def stop(self) -> None:
        self.explorer.play_timer.stop()
