"""The samples log: exact streamed text, browsable history, bounded memory, controls."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QPlainTextEdit, QPushButton, QSpinBox

from gptviz.gui.samples_view import SamplesView


def make_view(qtbot, **bounds):
    view = SamplesView(**bounds)
    qtbot.addWidget(view)
    return view


def text_of(view):
    return view.findChild(QPlainTextEdit, "samplesView").toPlainText()


def stream(view, step, val_loss, *chunks):
    view.begin_sample(step, val_loss)
    for chunk in chunks:
        view.append_text(chunk)
    view.end_sample()


def test_streamed_text_keeps_every_space_tab_and_newline(qtbot):
    view = make_view(qtbot)
    stream(view, 5, None, "a ", " b", "\n", "\tc")
    assert text_of(view) == "── step 5 ──\na  b\n\tc"
    stream(view, 1200, 1.931, "  x\n\n")
    assert text_of(view) == "── step 5 ──\na  b\n\tc\n\n── step 1200 · val 1.93 ──\n  x\n\n"
    assert view.samples() == [(5, None, "a  b\n\tc"), (1200, 1.931, "  x\n\n")]
    assert view.findChild(QPlainTextEdit, "samplesView").isReadOnly()


def test_history_shows_one_sample_then_the_live_log_again(qtbot):
    view = make_view(qtbot)
    stream(view, 100, 3.2, "qz")
    stream(view, 200, 2.5, "the")
    history = view.findChild(QComboBox, "sampleHistory")
    labels = [history.itemText(i) for i in range(history.count())]
    assert labels == ["Latest", "step 200 · val 2.50", "step 100 · val 3.20"]
    history.setCurrentIndex(2)
    assert text_of(view) == "── step 100 · val 3.20 ──\nqz"
    stream(view, 300, 2.0, "new")  # streams on, without disturbing the sample shown
    assert text_of(view) == "── step 100 · val 3.20 ──\nqz"
    history.setCurrentIndex(0)
    assert text_of(view).endswith("── step 300 · val 2.00 ──\nnew")
    assert text_of(view).count("──\n") == 3


def test_the_oldest_samples_are_dropped_beyond_the_count_bound(qtbot):
    view = make_view(qtbot, max_samples=2)
    for step in (1, 2, 3):
        stream(view, step, None, f"text {step}")
    assert [s[0] for s in view.samples()] == [2, 3]
    assert text_of(view) == "── step 2 ──\ntext 2\n\n── step 3 ──\ntext 3"
    assert view.findChild(QComboBox, "sampleHistory").count() == 3  # Latest + 2


def test_the_oldest_samples_are_dropped_beyond_the_size_bound(qtbot):
    view = make_view(qtbot, max_chars=10)
    stream(view, 1, None, "abcdef")
    history = view.findChild(QComboBox, "sampleHistory")
    history.setCurrentIndex(1)  # looking at step 1 when it is dropped
    view.begin_sample(2, None)
    view.append_text("ghij")
    assert [s[0] for s in view.samples()] == [1, 2]
    view.append_text("k")  # 11 characters: step 1 goes, the one streaming stays
    assert [s[0] for s in view.samples()] == [2]
    assert history.currentIndex() == 0 and text_of(view) == "── step 2 ──\nghijk"


def test_clear_forgets_everything(qtbot):
    view = make_view(qtbot)
    stream(view, 1, None, "abc")
    view.clear()
    assert text_of(view) == "" and view.samples() == []
    assert view.findChild(QComboBox, "sampleHistory").count() == 1


def test_append_without_begin_is_a_programming_error(qtbot):
    with pytest.raises(RuntimeError):
        make_view(qtbot).append_text("x")


def test_settings_map_off_values_to_none(qtbot):
    view = make_view(qtbot)
    assert view.settings() == dict(prompt="", temperature=0.8, top_k=None, top_p=None,
                                   max_new_tokens=300, every=200)
    view.findChild(QSpinBox, "sampleTopK").setValue(40)
    view.findChild(object, "sampleTopP").setValue(0.9)
    with qtbot.waitSignal(view.settingsChanged):
        qtbot.keyClicks(view.findChild(object, "samplePrompt"), "ROMEO:")
    settings = view.settings()
    assert (settings["top_k"], settings["top_p"], settings["prompt"]) == (40, 0.9, "ROMEO:")
    view.findChild(QSpinBox, "sampleTopK").setValue(0)
    assert view.settings()["top_k"] is None


def test_set_settings_restores_saved_settings_and_ignores_garbage(qtbot):
    view = make_view(qtbot)
    saved = dict(prompt="KING:", temperature=1.2, top_k=None, top_p=0.95, max_new_tokens=80,
                 every=0)
    view.set_settings(saved)
    assert view.settings() == saved
    view.set_settings(dict(temperature="hot", top_k=10**12, every=None, unknown=1))
    assert view.settings() == {**saved, "top_k": 1000}


def test_sample_now_asks_for_a_sample(qtbot):
    view = make_view(qtbot)
    with qtbot.waitSignal(view.sampleRequested, timeout=1000):
        qtbot.mouseClick(view.findChild(QPushButton, "sampleNowButton"), Qt.MouseButton.LeftButton)


def test_the_view_follows_the_end_only_while_at_the_end(qtbot):
    view = make_view(qtbot)
    view.resize(320, 300)
    view.show()
    text = view.findChild(QPlainTextEdit, "samplesView")
    bar = text.verticalScrollBar()
    view.begin_sample(1, None)
    view.append_text("line\n" * 200)
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    bar.setValue(0)  # the learner scrolls up to read
    view.append_text("more\n" * 20)
    assert bar.value() == 0
