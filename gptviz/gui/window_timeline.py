"""The window's timeline: snapshots of every view taken as the worker's reports arrive, and
a snapshot shown in every view when the timeline bar (or a click on the loss curve) picks one.

Taking a snapshot costs references, not work: the window records the payloads it receives
anyway (the step rows, evaluations, diagnostics, attention maps and finished samples, all
detached numpy copies nobody changes afterwards) in a `Timeline` (gptviz/timeline.py), which
keeps the newest of each at every N-th step. The worker's signals reach the window's own
slots (MainWindow._on_steps, …), which call the `on_*` functions here after the views'.

Showing a snapshot pins it in each view through the same drawing code as live data
(`pin`/`unpin` on the plots, the samples and the attention view); new reports keep arriving
and the curves keep growing, but what a view shows stays the snapshot's until Live (End).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

from ..timeline import Snapshot, Timeline
from .timeline_bar import TimelineBar

if TYPE_CHECKING:
    from ..attention_probe import AttentionMaps
    from ..metrics import EvalMetrics
    from .main_window import MainWindow
    from .payloads import Diagnostics, StepBatch

STEP_COLUMNS = ("loss", "lr", "grad_norm", "tokens_per_sec")  # a snapshot's metrics


def build(window: MainWindow) -> TimelineBar:
    """window.timeline and window.timeline_bar, wired to the views; End goes live."""
    window.timeline = Timeline()
    bar = window.timeline_bar = TimelineBar(window.timeline)
    bar.viewChanged.connect(lambda snapshot: show(window, snapshot))
    window.loss_plot.stepClicked.connect(bar.view_nearest)
    live = QAction("Timeline: back to live", window)
    live.setShortcut(QKeySequence("End"))
    live.triggered.connect(bar.go_live)
    window.addAction(live)
    return bar


def reset(window: MainWindow) -> None:
    """A new run (started, or opened from a checkpoint): no snapshots, live."""
    window.timeline.clear()
    window.timeline_bar.go_live()


# -- recording the worker's reports (on the GUI thread, through the window's slots) -------------
def on_steps(window: MainWindow, batch: StepBatch) -> None:
    metrics = {name: getattr(batch, name) for name in STEP_COLUMNS}
    if window.timeline.add_steps(batch.steps, metrics, batch.time):
        window.timeline_bar.refresh()


def on_eval(window: MainWindow, ev: EvalMetrics) -> None:
    _record(window, "eval", ev.step, ev)


def on_diagnostics(window: MainWindow, d: Diagnostics) -> None:
    _record(window, "diagnostics", d.step, d)


def on_attention(window: MainWindow, maps: AttentionMaps) -> None:
    _record(window, "attention", maps.step, maps)


def on_sample_recorded(window: MainWindow, row: dict) -> None:
    _record(window, "sample", row["step"], row)


def _record(window: MainWindow, kind: str, step: int, value) -> None:
    changed = window.timeline.record(kind, step, value)
    viewing = window.timeline_bar.viewing
    if changed:
        window.timeline_bar.refresh()
    if viewing is not None and any(snap is viewing for snap in changed):
        show(window, viewing)  # a report of the viewed step itself, arrived after its rows


# -- showing a snapshot ----------------------------------------------------------------------
def show(window: MainWindow, snapshot: Snapshot | None) -> None:
    """Pin a snapshot in every view, or (None) show the live data again."""
    views = (window.gradients, window.activations, window.attention_view, window.samples)
    if snapshot is None:
        window.loss_plot.set_marker(None)
        for view in views:
            view.unpin()
        return
    step, d = snapshot.step, snapshot.part("diagnostics")
    window.loss_plot.set_marker(step)
    window.gradients.pin(step, d)
    window.activations.pin(step, d)
    window.attention_view.pin(snapshot.part("attention"), step)
    row = snapshot.part("sample")
    window.samples.pin(step, None if row is None else
                       (row["step"], row.get("val_loss"), row.get("prompt", "") + row["text"]))
