"""QuietTabWidget: a label changing inside a page repaints the label, not every page around it."""

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from gptviz.gui.quiet_tabs import QuietTabWidget


class PaintCounter(QObject):
    def __init__(self, widget):
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def tabs_with_a_status_label(qtbot, cls):
    tabs = cls()
    page = QWidget()
    layout = QVBoxLayout(page)
    button = QPushButton("a neighbour that does not change")
    label = QLabel("step 1")
    label.setWordWrap(True)
    layout.addWidget(button)
    layout.addWidget(label)
    tabs.addTab(page, "Page")
    tabs.addTab(QWidget(), "Other")
    qtbot.addWidget(tabs)
    tabs.resize(400, 300)
    tabs.show()
    qtbot.waitExposed(tabs)
    qtbot.wait(50)
    return tabs, page, button, label


def not_quiet():
    tabs = QuietTabWidget()
    tabs.quiet = False  # as bench_window_ab.py switches it: behaves as QTabWidget
    return tabs


@pytest.mark.parametrize("cls, neighbour_repainted",
                         [(QTabWidget, True), (QuietTabWidget, False), (not_quiet, True)])
def test_new_label_text_repaints_the_whole_page_only_in_a_plain_tab_widget(qtbot, cls, neighbour_repainted):
    tabs, _, button, label = tabs_with_a_status_label(qtbot, cls)
    neighbour = PaintCounter(button)
    for step in range(2, 12):
        label.setText(f"step {step}")
        qtbot.wait(20)
    assert (neighbour.count > 0) == neighbour_repainted
    if cls is QuietTabWidget:
        assert tabs.layout_requests_skipped > 0


def test_a_larger_minimum_size_and_a_longer_tab_title_are_still_laid_out(qtbot):
    tabs, page, _, _ = tabs_with_a_status_label(qtbot, QuietTabWidget)
    holder = QWidget()
    qtbot.addWidget(holder)
    QVBoxLayout(holder).addWidget(tabs)
    holder.resize(400, 300)
    holder.show()
    qtbot.waitExposed(holder)
    page.setMinimumWidth(700)  # the tab widget's minimum grows: its parent must know
    qtbot.waitUntil(lambda: tabs.width() >= 700, timeout=2_000)
    before = tabs.tabBar().tabRect(1).width()
    tabs.setTabText(1, "A much longer title for the other page")
    qtbot.waitUntil(lambda: tabs.tabBar().tabRect(1).width() > before, timeout=2_000)
    assert tabs.tabBar().geometry().width() >= tabs.tabBar().sizeHint().width()


def test_status_texts_and_tab_switches_in_the_window_do_not_repaint_the_rest_of_the_page(make_window, qtbot):
    """What the views update while training: the timeline's label, the Activations summary,
    the Attention status, the training tabs. None of it may repaint the corpus and settings."""
    w = make_window("--preset", "tiny")
    qtbot.wait(300)
    untouched = {name: PaintCounter(w.findChild(QWidget, name)) for name in ("corpusLabel", "presetCombo")}
    labels = [w.findChild(QLabel, name)
              for name in ("timelineLabel", "activationsSummary", "attentionStatus")]
    tabs = w.training_tabs
    for i in range(12):
        tabs.setCurrentIndex(i % tabs.count())
        for label in labels:
            label.setText(f"{label.objectName()} at step {10 * i}")
        qtbot.wait(30)
    assert {name: c.count for name, c in untouched.items()} == {"corpusLabel": 0, "presetCombo": 0}
