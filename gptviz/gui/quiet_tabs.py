"""A QTabWidget that does not repaint all of its pages when something inside them moves.

Qt's QTabWidget answers every LayoutRequest by laying out its tab bar and page again and
then repainting its whole area (QTabWidget::setUpLayout ends in update()). A descendant
posts such a request whenever its size hint may have changed: a label given new text, a
page shown by a tab switch. Each request also climbs on to the parents. With the training
page inside one tab widget and the plots inside another, every status text the views
update while training (a step number, a snapshot count) repainted the whole window: the
settings, the samples and every plot. Measured while `default` trained with the training
tabs cycled every 1.5 s: ~19 whole-page repaints in 12 s (a paint-event census); with this
class the GUI thread used 4.4 % of a core against 4.8 % with QTabWidget's behaviour
(benchmarks/bench_window_ab.py plain-tabs; the training speed difference was within that
benchmark's ±1–2 %).

`QuietTabWidget` lays out again only when something setUpLayout depends on has changed:
its size, its tab bar's size hint, or its minimum size hint (which the parent layout must
honour, so a change there is passed on too). A page's preferred size alone is not passed
on: the parents here (the main window, a splitter) do not use it once laid out. Resizes,
shows, style changes and added tabs lay out as QTabWidget always does.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QTabWidget


class QuietTabWidget(QTabWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._laid_out_for = None  # the (size, tab bar hint, minimum hint) last laid out for
        self.layout_requests_skipped = 0  # for tests and benchmarks
        self.quiet = True  # False: as QTabWidget (bench_window_ab.py compares the two in one run)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and self.quiet and self.isVisible():
            key = (self.size(), self.tabBar().sizeHint(), self.minimumSizeHint())
            if key == self._laid_out_for:
                self.layout_requests_skipped += 1
                event.accept()
                return True
            self._laid_out_for = key
        return super().event(event)
