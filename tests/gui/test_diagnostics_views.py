"""The Activations tab and the training warnings in the real window (tiny preset)."""

import threading

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel, QListWidget, QWidget

from gptviz.gui.activations_view import ActivationsView
from gptviz.metrics import EvalMetrics

from .window_helpers import LONG, click, stop_run

SITES = ["blocks.0.attn", "blocks.0.mlp", "blocks.1.attn", "blocks.1.mlp"]


@pytest.fixture
def make_window(make_window):
    """The shared window fixture, at a size where every plot of the Activations tab has room."""
    return lambda *args: make_window(*args, size=(1400, 900))


def test_a_run_shows_activation_histograms_and_percentages_per_layer(make_window, qtbot, monkeypatch):
    received_on = []
    real = ActivationsView.set_diagnostics
    monkeypatch.setattr(ActivationsView, "set_diagnostics",
                        lambda self, d: received_on.append(threading.get_ident()) or real(self, d))
    w = make_window()
    view = w.findChild(QWidget, "activationsView")
    assert view is w.activations
    tabs = w.training_tabs
    tabs.setCurrentWidget(view)
    assert tabs.tabText(tabs.currentIndex()) == "Activations"
    click(qtbot, w, "trainButton")  # diagnostics on every 10th step, or a multiple of it (worker.py)
    qtbot.waitUntil(lambda: len(view.series("blocks.1.mlp")[0]) >= 3, timeout=30_000)
    stop_run(qtbot, w)
    assert set(received_on) == {threading.get_ident()}  # reports reach the view on the GUI thread

    step, latest = view.latest()
    assert list(latest) == SITES and step % 10 == 0 and step <= w.last_step
    for site, stats in latest.items():
        assert stats.histogram.counts.sum() == pytest.approx(1.0, abs=1e-5)
        assert 0.0 <= stats.saturated <= 100.0
        assert (0.0 <= stats.dead <= 100.0) if site.endswith("mlp") else np.isnan(stats.dead)
    steps, dead = view.series("blocks.0.mlp", "dead")
    assert steps[0] == 10 and np.all(steps % 10 == 0) and np.all(np.diff(steps) > 0)
    assert np.all((0 <= dead) & (dead <= 100))
    view.redraw()
    plots = view.plots()
    mlp_curves = plots["activation_histogram_mlp"].listDataItems()
    assert len(mlp_curves) == 2  # one histogram per layer
    x, y = mlp_curves[0].getData()
    assert len(x) == len(y) + 1 and np.isclose(y.sum(), 100.0, atol=1e-3)  # bin edges, % of values
    assert len(plots["mlp_saturated_dead"].listDataItems()) == 4  # saturated and dead, per layer
    summary = view.findChild(QLabel, "activationsSummary").text()
    assert f"Step {step}" in summary and "layer 0" in summary and "layer 1" in summary
    assert "% dead" in summary and "rows saturated" in summary


def test_a_huge_learning_rate_raises_an_update_ratio_warning_in_the_window(make_window, qtbot):
    w = make_window(*LONG, "--set", "lr=0.05", "--set", "min_lr=0.05")
    warnings = w.findChild(QWidget, "trainingWarnings")
    listing = w.findChild(QListWidget, "trainingWarningsList")
    assert warnings is not None and not warnings.isVisible()
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: any("update:data ratio" in line for line in w.training_warnings.shown()),
                    timeout=60_000)  # ratios are judged from step 200 on (ratio_settle_steps)
    stop_run(qtbot, w)
    assert warnings.isVisible() and w.state == "stopped"  # non-modal: the run went on until Stop
    line = next(line for line in w.training_warnings.shown() if "update:data ratio" in line)
    assert "above 1e-02" in line and ".weight" in line and "e-0" in line  # names a parameter and its value
    assert listing.item(0).text() == w.training_warnings.shown()[0]
    click(qtbot, w, "dismissWarningsButton")
    assert not warnings.isVisible()


def test_synthetic_evaluations_show_an_overfitting_warning_and_a_new_run_clears_it(make_window, qtbot):
    w = make_window()
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.last_step >= 3, timeout=20_000)
    stop_run(qtbot, w)
    warnings = w.findChild(QWidget, "trainingWarnings")
    before = len(w.training_warnings.warnings)
    for ev in (EvalMetrics(1000, 1.50, 1.60), EvalMetrics(1100, 1.45, 1.62), EvalMetrics(1200, 1.40, 1.65)):
        w._on_eval(ev)  # as the worker's evaluations arrive
    new = w.training_warnings.warnings[before:]
    assert [x.kind for x in new] == ["overfitting"] and warnings.isVisible()
    newest = w.training_warnings.shown()[0]
    assert "overfitting" in newest and "1.600 → 1.650" in newest
    click(qtbot, w, "trainButton")  # a new run starts with no warnings
    qtbot.waitUntil(lambda: w.active(), timeout=5_000)
    assert not any("overfitting" in line for line in w.training_warnings.shown())
    stop_run(qtbot, w)
