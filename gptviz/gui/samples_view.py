"""Text the model writes as it learns: streamed samples, the knobs that shape them, and a
history to compare the gibberish of step 100 with the near-words of step 2000.

The live view is a log of every kept sample, each under a header such as
"── step 1200 · val 1.93 ──". Characters stream in at the end with a text cursor (the
document is never rebuilt per chunk), and the view follows the end only while the learner
has not scrolled up. Memory is bounded: the oldest samples are dropped first. Viewing a
timeline snapshot (`pin`), the view shows that snapshot's sample alone (chosen in the
history list when it is still kept) while new samples stream on unseen, until `unpin()`.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase, QTextCursor, QTextOption
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

LATEST = "Latest"  # the history entry that shows the live log
PINNED = -1  # the id of a timeline snapshot's sample shown when it is no longer kept here


@dataclass
class Sample:
    """One generated sample: the step it was drawn at, the validation loss then, the text."""
    id: int
    step: int
    val_loss: float | None
    chunks: list[str] = field(default_factory=list)
    chars: int = 0

    @property
    def title(self) -> str:
        val = "" if self.val_loss is None else f" · val {self.val_loss:.2f}"
        return f"step {self.step}{val}"

    @property
    def header(self) -> str:
        return f"── {self.title} ──"

    @property
    def text(self) -> str:
        if len(self.chunks) > 1:
            self.chunks[:] = ["".join(self.chunks)]
        return self.chunks[0] if self.chunks else ""


class SamplesView(QWidget):
    """Sampling controls above a read-only monospace log of samples.

    Signals:
        sampleRequested(): the learner clicked "Sample now".
        settingsChanged(): any sampling control changed; read them with `settings()`.
    """

    sampleRequested = Signal()
    settingsChanged = Signal()

    def __init__(self, parent: QWidget | None = None, *, max_samples: int = 200,
                 max_chars: int = 2_000_000):
        super().__init__(parent)
        self.max_samples = max(1, max_samples)
        self.max_chars = max_chars
        self._samples: deque[Sample] = deque()
        self._streaming: Sample | None = None
        self._starts: list[int] = []  # where each sample begins in the live log's document
        self._shown: int | None = None  # None: the live log; else the id of the sample shown
        self._pinned: Sample | None = None  # a timeline snapshot's sample, while viewed
        self._next_id = 0
        self._total_chars = 0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_controls())
        layout.addWidget(self._build_view(), 1)

    def _build_controls(self) -> QGridLayout:
        self._prompt = QLineEdit(objectName="samplePrompt", placeholderText="(start from a newline)")
        self._prompt.setToolTip("Text the model continues from.")
        self._temperature = QDoubleSpinBox(objectName="sampleTemperature", minimum=0.0, maximum=5.0,
                                           singleStep=0.1, decimals=2, value=0.8)
        self._temperature.setToolTip("Below 1: safer, more repetitive text; above 1: wilder. "
                                     "0 always takes the most likely character.")
        self._top_k = QSpinBox(objectName="sampleTopK", minimum=0, maximum=1000, value=0,
                               specialValueText="off")
        self._top_k.setToolTip("Draw only from the k most likely characters (0 = off).")
        self._top_p = QDoubleSpinBox(objectName="sampleTopP", minimum=0.01, maximum=1.0,
                                     singleStep=0.05, decimals=2, value=1.0)
        self._top_p.setToolTip("Draw only from the most likely characters that together "
                               "hold this much probability (1.00 = off).")
        self._length = QSpinBox(objectName="sampleLength", minimum=1, maximum=100_000, value=300)
        self._length.setToolTip("How many characters to generate.")
        self._every = QSpinBox(objectName="sampleEvery", minimum=0, maximum=1_000_000, value=200,
                               singleStep=50, specialValueText="off")
        self._every.setToolTip("Draw a sample every this many training steps (0 = off).")
        sample_now = QPushButton("Sample now", objectName="sampleNowButton")
        sample_now.setToolTip("Draw a sample from the model as it is right now.")
        sample_now.clicked.connect(self.sampleRequested)
        self._history = QComboBox(objectName="sampleHistory")
        self._history.addItem(LATEST, None)
        self._history.setToolTip("Earlier samples; Latest follows the samples as they stream.")
        self._history.currentIndexChanged.connect(self._on_history_chosen)

        for spin in (self._temperature, self._top_k, self._top_p, self._length, self._every):
            spin.valueChanged.connect(self.settingsChanged)
        self._prompt.textChanged.connect(self.settingsChanged)

        grid = QGridLayout()
        rows = [
            [("prompt", self._prompt, 3)],
            [("temp", self._temperature, 1), ("top-k", self._top_k, 1)],
            [("top-p", self._top_p, 1), ("length", self._length, 1)],
            [("every", self._every, 1), ("", sample_now, 1)],
            [("show", self._history, 3)],
        ]
        for row, cells in enumerate(rows):
            for i, (text, widget, span) in enumerate(cells):
                if text:
                    grid.addWidget(QLabel(text, toolTip=widget.toolTip()), row, 2 * i)
                    grid.addWidget(widget, row, 2 * i + 1, 1, span)
                else:
                    grid.addWidget(widget, row, 2 * i, 1, 2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        return grid

    def _build_view(self) -> QPlainTextEdit:
        self._view = QPlainTextEdit(objectName="samplesView", readOnly=True)
        self._view.setUndoRedoEnabled(False)  # an undo stack would keep every chunk forever
        self._view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self._view.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self._view.setTabStopDistance(4 * self._view.fontMetrics().horizontalAdvance(" "))
        return self._view

    # -- public API ------------------------------------------------------------------------
    def settings(self) -> dict:
        """The sampling settings, with "off" as None (as Sampler.stream takes them)."""
        top_p = self._top_p.value()
        return dict(
            prompt=self._prompt.text(),
            temperature=self._temperature.value(),
            top_k=self._top_k.value() or None,
            top_p=None if top_p >= 1.0 else top_p,
            max_new_tokens=self._length.value(),
            every=self._every.value(),
        )

    def set_settings(self, values: dict) -> None:
        """Restore what `settings()` returned (e.g. saved last session). Missing keys keep
        their control's value; values of the wrong type are ignored, numbers are clamped."""
        if isinstance(values.get("prompt"), str):
            self._prompt.setText(values["prompt"])
        spins = {"temperature": (self._temperature, None), "top_k": (self._top_k, 0),
                 "top_p": (self._top_p, 1.0), "max_new_tokens": (self._length, None),
                 "every": (self._every, None)}  # key: (control, its value for None = off)
        for key, (spin, off) in spins.items():
            value = values.get(key, spin.value())
            value = off if value is None and off is not None else value
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                value = min(max(value, spin.minimum()), spin.maximum())
                spin.setValue(int(value) if isinstance(spin, QSpinBox) else float(value))

    def begin_sample(self, step: int, val_loss: float | None = None) -> None:
        """Start a new entry under a header line; its text follows with `append_text`."""
        self.end_sample()
        sample = Sample(self._next_id, step, val_loss)
        self._next_id += 1
        self._samples.append(sample)
        self._streaming = sample
        self._history.insertItem(1, sample.title, sample.id)  # newest first, under Latest
        if self._shown is None:
            if not self._view.document().isEmpty():
                self._insert_at_end("\n\n")
            self._starts.append(self._end_position())
            self._insert_at_end(sample.header + "\n")
        self._drop_oldest()

    def append_text(self, chunk: str) -> None:
        """Append streamed characters to the sample begun last."""
        sample = self._streaming
        if sample is None:
            raise RuntimeError("append_text() needs begin_sample() first")
        sample.chunks.append(chunk)
        sample.chars += len(chunk)
        self._total_chars += len(chunk)
        if self._shown in (None, sample.id):
            self._insert_at_end(chunk)
        self._drop_oldest()

    def end_sample(self) -> None:
        """Finish the sample being streamed (if any)."""
        self._streaming = None

    def clear(self) -> None:
        """Forget every sample."""
        self._streaming = None
        self._samples.clear()
        self._total_chars = 0
        self._history.blockSignals(True)
        while self._history.count() > 1:
            self._history.removeItem(1)
        self._history.setCurrentIndex(0)
        self._history.blockSignals(False)
        self._show(None)

    def pin(self, step: int, sample: tuple[int, float | None, str] | None) -> None:
        """Show the sample of the timeline snapshot at `step` — (its step, val loss, whole
        text), None when none had been drawn by then — until `unpin()`."""
        if sample is None:
            self._pinned = Sample(PINNED, step, None, ["(no sample had been drawn by this step)"])
        else:
            sample_step, val_loss, text = sample
            self._pinned = next((s for s in reversed(self._samples) if s.step == sample_step
                                 and s is not self._streaming and s.text == text), None)
            if self._pinned is None:
                self._pinned = Sample(PINNED, sample_step, val_loss, [text], len(text))
        self._choose_quietly(self._history.findData(self._pinned.id))  # -1 (none) for PINNED
        self._show(self._pinned.id)

    def unpin(self) -> None:
        """Back to the live log."""
        if self._pinned is not None:
            self._pinned = None
            self._choose_quietly(0)
            self._show(None)

    def shown_text(self) -> str:
        """The text of the view as it is now (headers included)."""
        return self._view.toPlainText()

    def samples(self) -> list[tuple[int, float | None, str]]:
        """The kept samples, oldest first, as (step, val_loss, text)."""
        return [(s.step, s.val_loss, s.text) for s in self._samples]

    @property
    def streaming_id(self) -> int | None:
        """The id of the sample being streamed (what the next appended text belongs to)."""
        return None if self._streaming is None else self._streaming.id

    def sample_ids(self) -> list[int]:
        """The ids of the kept samples, oldest first (as in `samples()`)."""
        return [s.id for s in self._samples]

    def locate(self, position: int) -> tuple[int, int] | None:
        """(sample id, offset in its text) of the character at a document position of the
        view, or None for a header, a gap between samples, or past the end."""
        if self._shown is None:
            i = bisect.bisect_right(self._starts, position) - 1
            if i < 0 or i >= len(self._samples):
                return None
            sample, start = self._samples[i], self._starts[i]
        else:
            sample = next((s for s in self._samples if s.id == self._shown), None)
            start = 0
        if sample is None:
            return None
        offset = position - start - len(sample.header) - 1
        return (sample.id, offset) if 0 <= offset < sample.chars else None

    def position_of(self, sample_id: int, offset: int) -> int | None:
        """The document position of a sample's character in the view, if it is shown."""
        ids = [s.id for s in self._samples]
        if sample_id not in ids or (self._shown is not None and self._shown != sample_id):
            return None
        sample = self._samples[ids.index(sample_id)]
        start = self._starts[ids.index(sample_id)] if self._shown is None else 0
        return start + len(sample.header) + 1 + offset

    # -- internals -------------------------------------------------------------------------
    def _end_position(self) -> int:
        return self._view.document().characterCount() - 1  # less the final paragraph mark

    def _insert_at_end(self, text: str) -> None:
        """Insert at the document's end; scroll along only if the view was at the end."""
        bar = self._view.verticalScrollBar()
        following = bar.value() >= bar.maximum()
        cursor = QTextCursor(self._view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if following:
            bar.setValue(bar.maximum())

    def _drop_oldest(self) -> None:
        """Drop the oldest samples beyond the bounds; the one streaming is always kept."""
        while len(self._samples) > 1 and (len(self._samples) > self.max_samples
                                          or self._total_chars > self.max_chars):
            old = self._samples.popleft()
            self._total_chars -= old.chars
            if self._shown is None:
                self._remove_first_entry()
            elif self._shown == old.id and self._pinned is old:  # still viewed in the timeline
                self._pinned = Sample(PINNED, old.step, old.val_loss, [old.text], old.chars)
                self._choose_quietly(-1)
                self._shown = PINNED
            elif self._shown == old.id:
                self._history.setCurrentIndex(0)  # back to the live log, rebuilt without it
            self._history.removeItem(self._history.count() - 1)  # the oldest is listed last

    def _remove_first_entry(self) -> None:
        cut = self._starts[1]
        cursor = QTextCursor(self._view.document())
        cursor.setPosition(cut, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._starts = [start - cut for start in self._starts[1:]]

    def _on_history_chosen(self, index: int) -> None:
        sample_id = self._history.itemData(index)
        if sample_id != self._shown:  # inserting a newer entry above shifts the index only
            self._show(sample_id)

    def _choose_quietly(self, index: int) -> None:
        self._history.blockSignals(True)
        self._history.setCurrentIndex(index)
        self._history.blockSignals(False)

    def _show(self, sample_id: int | None) -> None:
        """Show one sample, or (None) the live log of all of them, rebuilt from the samples."""
        self._shown = sample_id
        self._view.clear()
        self._starts = []
        for sample in [self._pinned] if sample_id == PINNED else self._samples:
            if sample_id is None:
                if self._starts:
                    self._insert_at_end("\n\n")
                self._starts.append(self._end_position())
            if sample_id in (None, sample.id):
                self._insert_at_end(sample.header + "\n" + sample.text)
        bar = self._view.verticalScrollBar()
        bar.setValue(bar.maximum() if sample_id is None else 0)
