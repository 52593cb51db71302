"""The window's views of what is inside the model: the Attention tab and the next-character
probabilities under the samples — built, fed and driven.

Both are computed by the training worker from the model being trained (attention_probe.py,
sampler.py's `stream_choices`), never on the GUI thread; the worker's reports reach the
window's own slots (MainWindow._on_attention, _on_sample_probs), which call `on_attention` /
`on_sample_probs` here. Refresh and the prompt/cadence go to the worker as thread-safe calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter

from ..attention_probe import AttentionMaps
from ..next_char_probs import ChoiceBatch
from .attention_view import AttentionView
from .next_char_view import NextCharView

if TYPE_CHECKING:
    from .main_window import MainWindow
    from .worker import TrainingWorker


def build_attention(window: MainWindow) -> AttentionView:
    """window.attention_view, wired to the window's refresh and settings slots."""
    view = AttentionView()
    view.refreshRequested.connect(window.refresh_attention)
    view.settingsChanged.connect(window._push_attention_settings)
    window.attention_view = view
    return view


def build_samples_column(window: MainWindow) -> QSplitter:
    """The samples log above the chart of what its characters were drawn from
    (window.next_chars); window.samples must exist."""
    window.next_chars = NextCharView(window.samples)
    column = QSplitter(Qt.Orientation.Vertical)
    column.setObjectName("samplesSplitter")
    column.addWidget(window.samples)
    column.addWidget(window.next_chars)
    column.setStretchFactor(0, 3)
    column.setStretchFactor(1, 1)
    return column


def connect_worker(window: MainWindow, worker: TrainingWorker) -> None:
    """Route a new worker's attention maps and sample probabilities to the window, and ask
    for the first maps (drawn as soon as the model exists, step 0 or a checkpoint's)."""
    worker.attentionReady.connect(window._on_attention)
    worker.sampleProbs.connect(window._on_sample_probs)
    push_attention_settings(window)
    worker.request_attention()


def push_attention_settings(window: MainWindow) -> None:
    if window.run is not None:
        window.run.worker.set_attention_settings(window.attention_view.settings())


def refresh_attention(window: MainWindow) -> None:
    if not window.active():
        window.attention_view.status.setText("Refresh needs a model: start training or open a "
                                             "checkpoint first.")
        return
    push_attention_settings(window)
    window.run.worker.request_attention()


def on_attention(window: MainWindow, maps: AttentionMaps) -> None:
    window.attention_view.show_maps(maps)


def on_sample_probs(window: MainWindow, batch: ChoiceBatch) -> None:
    window.next_chars.add(window.samples.streaming_id, batch)
