"""The window's diagnostics beyond the gradient plots: the Activations tab and the training
warnings above the plots — built, reset for each run and fed.

Activation statistics are computed by the worker at its diagnostic steps (Trainer.step
with diagnostics, activations.py) and arrive in the same `Diagnostics` report as the
gradient figures, through the window's own slot (MainWindow._on_diagnostics → `on_diagnostics`
here). The warnings' rules (warnings_monitor.py) run on the GUI thread on numbers the
window receives anyway: step losses (`on_steps`), update ratios (`on_diagnostics`) and
evaluations (`on_eval`), a few comparisons per step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import TrainConfig
from ..metrics import EvalMetrics
from .activations_view import ActivationsView
from .payloads import Diagnostics, StepBatch
from .warnings_view import TrainingWarningsView

if TYPE_CHECKING:
    from .main_window import MainWindow
    from .worker import TrainingWorker


def build_activations(window: MainWindow) -> ActivationsView:
    window.activations = ActivationsView()
    return window.activations


def build_warnings(window: MainWindow) -> TrainingWarningsView:
    window.training_warnings = TrainingWarningsView()
    return window.training_warnings


def connect_worker(window: MainWindow, worker: TrainingWorker, config: TrainConfig) -> None:
    """A new run: clear the activations and the warnings, and route the worker's diagnostics."""
    window.activations.clear()
    window.training_warnings.reset(config)
    worker.diagnosticsReady.connect(window._on_diagnostics)


def on_diagnostics(window: MainWindow, d: Diagnostics) -> None:
    window.activations.set_diagnostics(d)
    window.training_warnings.observe_diagnostics(d)


def on_steps(window: MainWindow, batch: StepBatch) -> None:
    window.training_warnings.observe_steps(batch)


def on_eval(window: MainWindow, ev: EvalMetrics) -> None:
    window.training_warnings.observe_eval(ev)
