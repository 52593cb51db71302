"""The Attention tab of the Training page: what every head of the model being trained looks
at, for a prompt the learner types, as training goes on.

A grid of small maps (layer × head) beside one enlarged map (the demos' AttentionMap, with
each character labelled); clicking a small map enlarges it, hovering either names the query
and key characters and the weight. The maps are computed by the training worker (one forward
pass of the prompt, attention_probe.py) every `every` steps while training, and on Refresh
(or Enter in the prompt) at any time, also while paused; this view only draws them. While
the tab is hidden, the newest maps wait and are drawn when it is shown. Viewing a timeline
snapshot (`pin`), the view shows that snapshot's maps, drawn the same way, and new maps
wait until `unpin()`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..attention_probe import DEFAULT_EVERY, DEFAULT_PROMPT, AttentionMaps, AttentionSettings
from ..lessons.tiny_gpt import shown
from .attention_grid import AttentionGrid
from .demo_widgets.attention_map import AttentionMap
from .plot_style import FollowsPalette, palette_colors

WAITING = "The maps appear once a model exists: start training or open a checkpoint."


class AttentionView(FollowsPalette, QWidget):
    """Signals:
        refreshRequested(): Refresh clicked, or Enter pressed in the prompt.
        settingsChanged(): the prompt or the cadence changed; read them with `settings()`.
    """

    refreshRequested = Signal()
    settingsChanged = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("attentionView")
        self.maps: AttentionMaps | None = None  # the newest maps received
        self._pinned: AttentionMaps | None = None  # a timeline snapshot's maps, while viewed
        self._dirty = False  # maps received while hidden, not drawn yet

        self.prompt = QLineEdit(DEFAULT_PROMPT, objectName="attentionPrompt")
        self.prompt.setToolTip("The text whose attention is shown (the last block_size characters). "
                               "Enter refreshes.")
        self.every = QSpinBox(objectName="attentionEvery", minimum=0, maximum=1_000_000, value=DEFAULT_EVERY,
                              singleStep=50, specialValueText="on Refresh only")
        self.every.setToolTip("Refresh the maps every this many training steps (0: only on Refresh). "
                              "Each refresh is one forward pass of the prompt.")
        refresh = QPushButton("Refresh", objectName="attentionRefreshButton")
        refresh.setToolTip("Show the attention of the model as it is now (also while paused).")
        refresh.clicked.connect(self.refreshRequested)
        self.prompt.returnPressed.connect(self.refreshRequested)
        self.prompt.textChanged.connect(self.settingsChanged)
        self.every.valueChanged.connect(self.settingsChanged)

        self.status = QLabel(WAITING, objectName="attentionStatus", wordWrap=True)
        self.grid = AttentionGrid()
        self.grid.setObjectName("attentionGrid")
        self.grid_hover = QLabel("Hover over a map to read it; click one to enlarge it.",
                                 objectName="attentionGridHover", wordWrap=True)
        self.large = AttentionMap()
        self.large.setObjectName("attentionLarge")
        self.grid.cellChosen.connect(self._show_large)
        self.grid.hovered.connect(self.grid_hover.setText)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("prompt"))
        controls.addWidget(self.prompt, 3)
        controls.addWidget(QLabel("every"))
        controls.addWidget(self.every)
        controls.addWidget(refresh)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.grid, 1)
        left_layout.addWidget(self.grid_hover)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.large)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)
        self._restyle()

    # -- settings ----------------------------------------------------------------------------
    def settings(self) -> AttentionSettings:
        return AttentionSettings(self.prompt.text(), self.every.value())

    def set_settings(self, values: dict) -> None:
        """Restore a dict like `settings().__dict__` (e.g. saved last session); bad values are
        ignored."""
        if isinstance(values.get("prompt"), str):
            self.prompt.setText(values["prompt"])
        every = values.get("every")
        if isinstance(every, int) and not isinstance(every, bool):
            self.every.setValue(min(max(every, 0), self.every.maximum()))

    # -- maps ----------------------------------------------------------------------------------
    def show_maps(self, maps: AttentionMaps) -> None:
        """Keep the newest maps; draw them now if the view is shown, else when it is (and
        not while a timeline snapshot is viewed: then once it is unpinned)."""
        self.maps = maps
        if self._pinned is None:
            self._redraw()

    def pin(self, maps: AttentionMaps | None, step: int) -> None:
        """Show a timeline snapshot's maps (None: the snapshot at `step` has none) until
        `unpin()`."""
        self._pinned = maps or AttentionMaps(step, "", np.zeros((0, 0, 0, 0), dtype=np.float32),
                                             note="no maps were computed by then")
        self._redraw()

    def unpin(self) -> None:
        """Back to the newest maps."""
        if self._pinned is not None:
            self._pinned = None
            if self.maps is not None:
                self._redraw()

    @property
    def shown(self) -> AttentionMaps | None:
        """The maps drawn (or to be drawn once the tab is shown): the snapshot's, else the newest."""
        return self._pinned or self.maps

    def _redraw(self) -> None:
        self._dirty = True
        if self.isVisible():
            self._draw()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._dirty:
            self._draw()

    def _draw(self) -> None:
        self._dirty = False
        maps = self.shown
        if maps.error is not None:
            self.status.setText(f"Step {maps.step}: {maps.error}")
            return
        if maps.layers == 0 or maps.heads == 0:
            self.status.setText(f"Step {maps.step}: {maps.note or 'no attention to show'}.")
            self.grid.set_maps(maps.weights, maps.prompt)
            return
        note = f" ({maps.note})" if maps.note else ""
        self.status.setText(f"Step {maps.step}: {maps.layers} layers × {maps.heads} heads on "
                            f"{len(maps.prompt)} characters{note}. Row: the position reading; "
                            f"column: the one it reads.")
        self.grid.set_maps(maps.weights, maps.prompt)
        self._show_large(*self.grid.chosen)

    def _show_large(self, layer: int, head: int) -> None:
        maps = self.shown
        if maps is None or maps.error is not None or not (layer < maps.layers and head < maps.heads):
            return
        self.large.plot.setTitle(f"layer {layer + 1} · head {head + 1}", color=palette_colors(self)[1].name())
        self.large.set_weights(maps.weights[layer, head], [shown(c) for c in maps.prompt])
        T = len(maps.prompt)  # both ranges at once: one after the other, the aspect lock crops x
        self.large.plot.setRange(xRange=(0, T), yRange=(0, T), padding=0.02)

    def _restyle(self) -> None:
        self.grid.restyle()  # the enlarged map follows the palette by itself
