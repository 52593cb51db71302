"""Point at a character of a sample and see what it was drawn from.

Under the samples log, a bar chart of the likeliest next characters at that position: the
model's own probabilities (softmax of its logits, temperature 1, nothing cut) beside the
distribution the sampler actually drew from (after temperature, top-k and top-p), with the
character drawn marked — given a bar of its own, with its rank, when it was not among the
likeliest. Hovering shows a character; clicking does too (for touchpads and tests).

The figures come from the worker, which records them while it samples (sampler.py's
`stream_choices`); they are kept per sample in a ProbabilityLog with a memory budget.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint
from PySide6.QtGui import QColor, QTextCursor, QTextFormat
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from ..lessons.tiny_gpt import shown
from ..next_char_probs import CharProbs, ChoiceBatch
from .plot_style import SERIES_COLORS, FollowsPalette, SceneStaysActive, apply_palette, faded, prepare_plot
from .probability_log import ProbabilityLog
from .samples_view import SamplesView

RAW, USED, DRAWN = SERIES_COLORS[8], SERIES_COLORS[0], SERIES_COLORS[1]
HINT = "Point at a character of a sample to see the characters it was drawn from."


class NextCharView(FollowsPalette, QWidget):
    """The chart, fed by `add(sample_id, batch)` and pointed at by the samples log's mouse."""

    def __init__(self, samples: SamplesView, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("nextCharProbs")
        self.samples = samples
        self.log = ProbabilityLog()
        self.shown: tuple[int, int, CharProbs] | None = None  # sample id, offset, figures
        self._text: QPlainTextEdit = samples.findChild(QPlainTextEdit, "samplesView")
        self._text.viewport().setMouseTracking(True)
        self._text.viewport().installEventFilter(self)

        self.view = pg.GraphicsLayoutWidget()
        SceneStaysActive(self.view)
        self.view.setMinimumHeight(140)
        self.plot = self.view.addPlot()
        prepare_plot(self.plot, many_points=False)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(-5, 5))
        self.raw_bars = pg.BarGraphItem(x=[], height=[], width=0.38, brush=RAW, pen=None,
                                        name="model (T = 1)")
        self.used_bars = pg.BarGraphItem(x=[], height=[], width=0.38, brush=USED, pen=None,
                                         name="drawn from")
        self.plot.addItem(self.raw_bars)
        self.plot.addItem(self.used_bars)
        self.marker = pg.TextItem("", anchor=(0.5, 1.0), color=DRAWN)
        self.plot.addItem(self.marker)
        self.caption = QLabel(HINT, objectName="nextCharProbsCaption", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        self._restyle()

    # -- data ----------------------------------------------------------------------------
    def add(self, sample_id: int | None, batch: ChoiceBatch) -> None:
        if sample_id is not None:
            self.log.add(sample_id, batch)

    def show_char(self, sample_id: int, offset: int) -> bool:
        """Chart the character at `offset` of a sample; False (and a line why) without records."""
        if self.shown is not None and self.shown[:2] == (sample_id, offset):
            return True
        self._highlight(sample_id, offset)
        probs = self.log.at(sample_id, offset)
        if probs is None:
            self.shown = None
            first = self.log.first_offset(sample_id)
            prompt = first is not None and offset < first
            self.caption.setText("That character is part of the prompt: it was typed, not drawn." if prompt
                                 else "No probabilities are kept for that character (its sample is older "
                                      "than the memory budget, or was cut short).")
            return False
        self.shown = (sample_id, offset, probs)
        self._draw(probs)
        self.caption.setText(self._describe(sample_id, offset, probs))
        return True

    # -- pointing --------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in (QEvent.Type.MouseMove, QEvent.Type.MouseButtonPress):
            position = self.position_at(event.position().toPoint())
            where = None if position is None else self.samples.locate(position)
            if where is not None:
                self.show_char(*where)
        return False

    def position_at(self, point: QPoint) -> int | None:
        """The document position of the character under a viewport point, or None."""
        text = self._text
        cursor = text.cursorForPosition(point)
        position = cursor.position()
        if text.cursorRect(cursor).left() > point.x():
            position -= 1  # the nearest gap is after the character pointed at
        if position < 0:
            return None
        cursor.setPosition(position)
        rect = text.cursorRect(cursor)
        char = text.document().characterAt(position)
        width = text.fontMetrics().horizontalAdvance(char if char not in "\u2029\t" else "m")
        inside = rect.left() <= point.x() < rect.left() + width and rect.top() <= point.y() <= rect.bottom()
        return position if inside else None

    def point_of(self, sample_id: int, offset: int) -> QPoint | None:
        """The viewport point at the middle of a sample's character, scrolled into view."""
        position = self.samples.position_of(sample_id, offset)
        if position is None:
            return None
        cursor = QTextCursor(self._text.document())
        cursor.setPosition(position)
        self._text.setTextCursor(cursor)
        self._text.ensureCursorVisible()
        rect = self._text.cursorRect(cursor)
        char = self._text.document().characterAt(position)
        half = self._text.fontMetrics().horizontalAdvance(char if char not in "\u2029\t" else "m") // 2
        return QPoint(rect.left() + max(half, 1), rect.center().y())

    # -- drawing ---------------------------------------------------------------------------
    def _draw(self, p: CharProbs) -> None:
        labels = [shown(c) for c in p.chars]
        raw, used = p.raw.tolist(), p.used.tolist()  # Python floats: float32 ranges overflow in pyqtgraph
        try:
            at = p.chars.index(p.chosen)
        except ValueError:  # drawn from outside the likeliest k: a bar of its own
            at = len(labels)
            labels.append(f"{shown(p.chosen)} (#{p.rank})")
            raw.append(p.chosen_raw)
            used.append(p.chosen_used)
        x = np.arange(len(labels), dtype=float)
        outline = [pg.mkPen(DRAWN, width=2) if i == at else None for i in range(len(labels))]
        self.raw_bars.setOpts(x=x - 0.2, height=np.array(raw), pens=outline)
        self.used_bars.setOpts(x=x + 0.2, height=np.array(used), pens=outline)
        self.plot.getAxis("bottom").setTicks([[(float(i), t) for i, t in enumerate(labels)]])
        top = max(max(raw), max(used), 1e-6)
        self.plot.setXRange(-0.6, len(labels) - 0.4, padding=0)
        self.plot.setYRange(0, top * 1.2, padding=0)
        self.marker.setText("drawn")
        self.marker.setPos(float(at), max(raw[at], used[at]) + top * 0.02)
        self.bar_labels = labels
        self.drawn_index = at

    def _describe(self, sample_id: int, offset: int, p: CharProbs) -> str:
        ids = self.samples.sample_ids()
        step = self.samples.samples()[ids.index(sample_id)][0] if sample_id in ids else None
        temperature, top_k, top_p = self.log.settings_of(sample_id)
        how = (f"temperature {temperature:g}, top-k {top_k or 'off'}, top-p {top_p or 'off'}"
               if temperature else "temperature 0: always the likeliest")
        where = f"character {offset}" + (f" of the step {step} sample" if step is not None else "")
        return (f"'{shown(p.chosen)}' ({where}) was drawn with p = {p.chosen_used:.3f} ({how}); "
                f"the model gave it {p.chosen_raw:.3f}, rank {p.rank}.")

    def _highlight(self, sample_id: int, offset: int) -> None:
        position = self.samples.position_of(sample_id, offset)
        selections = []
        if position is not None:
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(faded(QColor(DRAWN), 90))
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, False)
            selection.cursor = QTextCursor(self._text.document())
            selection.cursor.setPosition(position)
            selection.cursor.setPosition(position + 1, QTextCursor.MoveMode.KeepAnchor)
            selections.append(selection)
        self._text.setExtraSelections(selections)

    def _restyle(self) -> None:
        apply_palette(self, [self.view], [self.plot], [self.legend])

