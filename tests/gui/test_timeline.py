"""The timeline in the real window: snapshots every N steps, shown in every view, and Live."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, Qt

from gptviz import attention_probe
from gptviz.gui import worker

from .window_helpers import LONG, click


@pytest.fixture
def make_window(make_window):
    """The shared window fixture, at a size where every plot has room."""
    return lambda *args: make_window(*args, size=(1400, 900))


def assert_views_show(w, snap):
    """Every view shows the snapshot `snap` (its step marked, its data drawn)."""
    d, maps, row = snap.part("diagnostics"), snap.part("attention"), snap.part("sample")
    assert w.timeline_bar.viewing is snap
    assert w.timeline_bar.label.text().startswith(f"Step {snap.step} (snapshot ")
    assert f"loss {snap.metrics['loss']:.3f}" in w.timeline_bar.label.text()
    assert w.loss_plot.marker() == snap.step

    step, name, hist = w.gradients.histogram_shown()
    assert step == d.step and hist is d.histograms[name]
    _, y = w.gradients.plots()["gradient_histogram"].listDataItems()[0].getData()
    np.testing.assert_array_equal(y, hist.counts)
    assert f"step {d.step}" in w.gradients.plots()["gradient_histogram"].titleLabel.text

    w.activations.redraw()
    assert w.activations.shown() == (d.step, d.activations)
    assert w.activations.summary.text().startswith(f"Step {d.step} — ")

    assert w.attention_view.shown is maps
    assert w.attention_view.grid.weights is maps.weights  # drawn, not just kept
    assert w.attention_view.status.text().startswith(f"Step {maps.step}:")

    text = w.samples.shown_text()
    if row is None:
        assert text.startswith(f"── step {snap.step} ──") and "no sample" in text
    else:
        assert text.startswith(f"── step {row['step']}") and text.endswith(row["prompt"] + row["text"])


def test_timeline_snapshots_restore_the_right_step(make_window, qtbot, monkeypatch):
    monkeypatch.setattr(attention_probe, "MIN_INTERVAL", 0.0)  # maps every 10 steps, however fast
    monkeypatch.setattr(worker, "DIAGNOSTICS_BUDGET", 0.0)  # diagnostics every 10 steps, whatever they cost
    w = make_window(*LONG)
    w.timeline_bar.every.setValue(10)
    w.attention_view.every.setValue(5)
    w.samples.set_settings({"every": 20, "max_new_tokens": 20, "prompt": "KING:"})
    w.training_tabs.setCurrentWidget(w.attention_view)  # drawn as they come
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: len(w.timeline) >= 3, timeout=30_000)

    # Back to step 20 while training goes on: the worker's reports of step 20 are there.
    w.timeline_bar.slider.setValue(1)
    snap = w.timeline.at(20)
    assert snap.step == 20 and snap is w.timeline[1]
    row = int(np.searchsorted(w.loss_plot.history.x, 20))
    assert snap.metrics["loss"] == w.loss_plot.history["loss"][row]
    assert snap.part_step("diagnostics") == 20  # every 10 steps
    assert snap.part("attention").step == 20  # every 5 steps; sent after the rows of step 20
    assert snap.part("sample")["step"] == 20 and snap.part("sample")["prompt"] == "KING:"
    assert_views_show(w, snap)

    # New reports keep coming and the curves grow, but the views stay at step 20.
    qtbot.waitUntil(lambda: len(w.timeline) >= 6 and w.samples.samples()[-1][0] >= 40, timeout=30_000)
    click(qtbot, w, "stopButton")
    qtbot.waitUntil(lambda: not w.active(), timeout=10_000)
    w.loss_plot.redraw()
    assert w.loss_plot.history.x[-1] >= 60 and w.attention_view.maps.step > 20
    assert_views_show(w, snap)
    assert w.timeline_bar.slider.value() == 1 and w.timeline_bar.slider.maximum() == len(w.timeline)

    # A click on the loss curve near step 33 shows the nearest snapshot, at step 30.
    graphics = w.loss_plot.findChild(pg.GraphicsLayoutWidget)
    vb = w.loss_plot.plots()["training_loss"].getViewBox()
    y = sum(vb.viewRange()[1]) / 2
    point = graphics.mapFromScene(vb.mapViewToScene(QPointF(33, y)))
    qtbot.mouseClick(graphics.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert w.timeline_bar.viewing is w.timeline.at(30) and w.timeline_bar.viewing.step == 30
    assert_views_show(w, w.timeline.at(30))

    # End (or Live): back to the present in every view.
    w.activateWindow()
    qtbot.keyClick(w.loss_plot, Qt.Key.Key_End)
    assert w.timeline_bar.viewing is None and w.loss_plot.marker() is None
    assert w.timeline_bar.slider.value() == len(w.timeline) and not w.timeline_bar.live_button.isEnabled()
    last_diag_step = w.activations.latest()[0]
    assert w.gradients.histogram_shown()[0] == last_diag_step >= 60
    assert w.activations.shown()[0] == last_diag_step
    assert w.attention_view.shown is w.attention_view.maps
    assert w.attention_view.grid.weights is w.attention_view.maps.weights
    last_step, _, last_text = w.samples.samples()[-1]
    assert w.samples.shown_text().endswith(last_text) and f"step {last_step}" in w.samples.shown_text()
    assert w.timeline_bar.label.text().startswith(f"Live · {len(w.timeline)} snapshots")

    w.timeline_bar.slider.setValue(0)  # step 10: before the first sample
    assert w.timeline[0].step == 10 and w.timeline[0].part("sample") is None
    assert_views_show(w, w.timeline[0])
    click(qtbot, w, "timelineLiveButton")
    assert w.timeline_bar.viewing is None and w.samples.shown_text().endswith(last_text)


def test_a_snapshot_sample_stays_shown_after_the_log_drops_it(qtbot):
    from gptviz.gui.samples_view import SamplesView
    view = SamplesView(max_samples=2)
    qtbot.addWidget(view)
    for step, text in ((10, "first"), (20, "second"), (30, "third")):
        view.begin_sample(step)
        view.append_text(text)
        view.end_sample()
    history = view.findChild(object, "sampleHistory")
    view.pin(15, (10, None, "first"))  # no longer kept in the log: shown from the snapshot
    assert view.shown_text() == "── step 10 ──\nfirst" and history.currentIndex() == -1
    view.pin(25, (20, None, "second"))  # kept: chosen in the history list
    assert view.shown_text() == "── step 20 ──\nsecond" and history.currentText() == "step 20"
    view.begin_sample(40)  # streams on unseen, and drops step 20 from the log
    view.append_text("fourth")
    assert view.shown_text() == "── step 20 ──\nsecond" and [s[0] for s in view.samples()] == [30, 40]
    view.unpin()
    assert view.shown_text() == "── step 30 ──\nthird\n\n── step 40 ──\nfourth"
    assert history.currentText() == "Latest"


def test_views_say_so_when_a_snapshot_has_no_data_of_theirs(qtbot):
    from gptviz.gui.activations_view import ActivationsView
    from gptviz.gui.attention_view import AttentionView
    from gptviz.gui.gradient_plots import GradientsPanel
    grads, acts, attention = GradientsPanel(), ActivationsView(), AttentionView()
    for widget in (grads, acts, attention):
        qtbot.addWidget(widget)
    attention.show()
    grads.pin(7, None)
    grads.redraw()
    assert grads.histogram_shown() is None
    assert "none by step 7" in grads.plots()["gradient_histogram"].titleLabel.text
    acts.pin(7, None)
    acts.redraw()
    assert acts.shown() == (7, {}) and acts.summary.text() == "No activation statistics by step 7."
    attention.pin(None, 7)
    assert attention.status.text() == "Step 7: no maps were computed by then."
    attention.unpin()  # no maps yet: nothing else to show
    assert attention.shown is None
