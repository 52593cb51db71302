"""The timeline bar under the training page: look back at any snapshot of the run, or live.

A slider over the snapshots the window keeps (gptviz/timeline.py): each position is one
snapshot, oldest left; the rightmost position, past the last snapshot, is "live". A label
says which step is shown and its metrics, **Live** (or End) returns to the present, and a
spin box sets how many steps apart snapshots are taken. The bar only chooses: it emits
`viewChanged` with the snapshot to show (None for live), and the window shows it in every
view (window_timeline.py).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QSpinBox, QWidget

from ..timeline import Snapshot, Timeline


def describe(snapshot: Snapshot, number: int | None, count: int) -> str:
    """What the label says about a snapshot being viewed (the number is 1-based; None: the
    snapshot has since been thinned away)."""
    m = snapshot.metrics
    words = [f"loss {m['loss']:.3f}" if "loss" in m else None,
             f"lr {m['lr']:.2e}" if "lr" in m else None,
             f"grad norm {m['grad_norm']:.3f}" if "grad_norm" in m else None]
    ev = snapshot.part("eval")
    if ev is not None:
        words.append(f"val {ev.val_loss:.3f} (step {ev.step})")
    where = f"snapshot {number} of {count}" if number is not None else "a snapshot since thinned"
    return f"Step {snapshot.step} ({where}): " + " · ".join(w for w in words if w)


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class TimelineBar(QWidget):
    """Signals:
        viewChanged(object): the Snapshot to show in every view, or None to show live data.
    """

    viewChanged = Signal(object)

    def __init__(self, timeline: Timeline, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("timelineBar")
        self.timeline = timeline
        self.viewing: Snapshot | None = None  # None: live

        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="timelineSlider")
        self.slider.setRange(0, 0)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Drag to an earlier snapshot of the run: every view shows it. "
                               "The rightmost position is live.")
        self.slider.valueChanged.connect(self._on_slider)
        self.label = QLabel(objectName="timelineLabel")
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.live_button = QPushButton("Live", objectName="timelineLiveButton")
        self.live_button.setToolTip("Back to the present (End)")
        self.live_button.clicked.connect(self.go_live)
        self.every = QSpinBox(objectName="timelineEvery", minimum=0, maximum=1_000_000,
                              value=timeline.every, singleStep=50, specialValueText="off")
        self.every.setToolTip("Keep a snapshot of every view every this many steps (0: off). "
                              "When they outgrow their memory budget, older ones are thinned.")
        self.every.valueChanged.connect(self._on_every)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Timeline"))
        row.addWidget(self.slider, 3)
        row.addWidget(self.label, 4)
        row.addWidget(self.live_button)
        row.addWidget(QLabel("every"))
        row.addWidget(self.every)
        self.refresh()

    # -- choosing --------------------------------------------------------------------------
    def view(self, snapshot: Snapshot) -> None:
        """Show a snapshot in every view (until Live)."""
        self.viewing = snapshot
        self.refresh()
        self.viewChanged.emit(snapshot)

    def view_nearest(self, step: float) -> None:
        """Show the snapshot closest to a step (e.g. clicked on the loss curve), if any."""
        snapshot = self.timeline.nearest(step)
        if snapshot is not None:
            self.view(snapshot)

    def go_live(self) -> None:
        """Back to the present: every view shows the newest data again."""
        was_viewing = self.viewing is not None
        self.viewing = None
        self.refresh()
        if was_viewing:
            self.viewChanged.emit(None)

    # -- following the timeline --------------------------------------------------------------
    def refresh(self) -> None:
        """Follow the timeline's snapshots (taken, thinned or cleared) in the slider and label."""
        count = len(self.timeline)
        index = None if self.viewing is None else self.timeline.index(self.viewing)
        self.slider.blockSignals(True)
        self.slider.setMaximum(count)  # the last position is live
        if self.viewing is None:
            self.slider.setValue(count)
        elif index is not None:
            self.slider.setValue(index)
        else:  # thinned away: the slider points at the closest earlier one kept
            earlier = self.timeline.at(self.viewing.step)
            self.slider.setValue(self.timeline.index(earlier) if earlier is not None else 0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(count > 0)
        self.live_button.setEnabled(self.viewing is not None)
        if self.viewing is not None:
            self.label.setText(describe(self.viewing, None if index is None else index + 1, count))
        elif self.timeline.every == 0:
            self.label.setText(f"Live · snapshots off · {count} kept")
        else:
            self.label.setText(f"Live · {count} snapshots ({megabytes(self.timeline.nbytes)} of "
                               f"{megabytes(self.timeline.budget)})")
        self.label.setToolTip(self.label.text())

    def _on_slider(self, value: int) -> None:
        if value >= len(self.timeline):
            self.go_live()
        else:
            self.view(self.timeline[value])

    def _on_every(self, value: int) -> None:
        self.timeline.every = value
        self.refresh()
