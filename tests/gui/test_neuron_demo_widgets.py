"""The one-neuron demo widgets, driven by their buttons and sliders: learning, divergence shown,
a feature learned."""

import math

from PySide6.QtCore import Qt

from gptviz.gui.demo_widgets.train_controls import round_rates


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_the_slider_offers_round_learning_rates_on_a_log_scale():
    assert round_rates(1e-4, 0.1)[:6] == [1e-4, 2e-4, 3e-4, 5e-4, 7e-4, 1e-3]
    assert round_rates(1e-4, 0.1)[-1] == 0.1
    assert 0.0042 in round_rates(1e-3, 1e-2, include=0.0042)


def test_step_nudges_the_weights_and_the_loss_falls(qtbot, demo_widget):
    w = demo_widget("neuron", {"seed": 0, "lr": 0.001})
    start = w.result()
    for _ in range(3):
        click(qtbot, w.controls.step_button)
    shown = w.result()
    assert len(shown["losses"]) == 3 and shown["losses"][0] == start["loss"]
    assert shown["loss"] < shown["losses"][-1] < shown["losses"][0]
    assert shown["w"] != start["w"]
    assert w.status.text().startswith("step 3")
    assert not w.warning.isVisible()


def test_play_at_the_default_learning_rate_learns_42_and_stops_by_itself(qtbot, demo_widget):
    w = demo_widget("neuron", {"seed": 0, "lr": 0.001})
    w.controls.timer.setInterval(5)                 # the same steps, sooner
    click(qtbot, w.controls.play_button)
    assert w.controls.playing() and w.controls.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: not w.controls.playing(), timeout=20_000)
    assert w.result()["loss"] < 1e-8 and abs(w.result()["output"] - 42) < 1e-3
    assert "Learned" in w.warning.text() and w.warning.isVisible()


def test_a_large_learning_rate_shows_divergence_and_stops_play(qtbot, demo_widget):
    w = demo_widget("neuron", {"seed": 0, "lr": 0.001})
    slider = w.controls.rate.slider
    slider.setFocus()
    while w.controls.rate.value() < 0.05:          # the user drags the learning rate up
        qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert w.controls.rate.label.text() == "0.05"
    click(qtbot, w.controls.play_button)
    qtbot.waitUntil(lambda: not w.controls.playing(), timeout=10_000)
    losses = w.result()["losses"]
    assert len(losses) == 3 and w.result()["loss"] > 1e5 * losses[0]   # shot up, Play stopped
    assert w.warning.isVisible() and "too large" in w.warning.text()
    while w.controls.step_button.isEnabled():       # Step on until the numbers leave float32
        click(qtbot, w.controls.step_button)
        assert len(w.result()["losses"]) < 100
    assert not math.isfinite(w.result()["loss"])
    assert not w.controls.play_button.isEnabled() and "float32" in w.warning.text()
    qtbot.keyClick(slider, Qt.Key.Key_PageDown)      # a tenth of it, 0.005
    click(qtbot, w.controls.reset_button)
    assert w.controls.step_button.isEnabled() and not w.warning.isVisible()
    assert w.result()["losses"] == [] and w.learning.lr == 0.005
    click(qtbot, w.controls.step_button)
    assert 40 < w.result()["output"] < 46            # 0.005: from -13 to near 42 in one step


def test_the_feature_neuron_learns_live_and_lights_up_only_in_the_middle(qtbot, demo_widget):
    w = demo_widget("feature_neuron", {"seed": 0, "lr": 0.1})
    assert w.result()["accuracy"] < 0.65
    click(qtbot, w.controls.play_button)
    qtbot.waitUntil(lambda: w.result()["accuracy"] >= 0.99, timeout=20_000)
    click(qtbot, w.controls.play_button)
    assert not w.controls.playing()
    shown = float(w.status.text().split("accuracy ")[1].split(" %")[0])
    assert shown == round(100 * w.result()["accuracy"], 1) >= 99
    w.probe.setValue(45)
    assert w.result()["probe"] > 0.5 and "middle" in w.answer.text()
    w.probe.setValue(0)
    assert w.result()["probe"] < 0.5 and "side" in w.answer.text()
    click(qtbot, w.controls.reset_button)
    assert w.learning.steps == 0 and w.result()["accuracy"] < 0.65
