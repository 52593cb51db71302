"""The deep-learning demo widget: structure and data are chosen in the widget, and training shows live."""

import numpy as np
import pytest
from PySide6.QtCore import Qt


@pytest.fixture
def toy(demo_widget):
    return lambda state: demo_widget("toy2d", state)


def test_it_opens_trained_and_steps_on(qtbot, toy):
    w = toy({"dataset": "moons", "hidden": [16, 16], "steps": 20})
    assert w.learning.steps == 20 and w.status.text().startswith("network 2 → 16 → 16 → 1")
    region = w.image.image
    qtbot.mouseClick(w.controls.step_button, Qt.MouseButton.LeftButton)
    assert w.learning.steps == 21 and "step 21" in w.status.text()
    assert w.image.image.shape == (64, 64) and not np.array_equal(w.image.image, region)


def test_too_small_a_network_plateaus_and_a_hidden_layer_fixes_it(qtbot, toy):
    w = toy({"dataset": "circles", "hidden": [], "lr": 0.1, "steps": 100})
    assert w.result()["accuracy"] < 0.65 and not w.width_box.isEnabled()
    w.depth_box.setValue(1)                          # rebuilds: 2 → 16 → 1, from step 0
    assert w.learning.hidden == [16] and w.learning.steps == 0 and w.width_box.isEnabled()
    qtbot.mouseClick(w.controls.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.result()["accuracy"] >= 0.98, timeout=20_000)
    w.stop()
    assert not w.controls.playing()


def test_choosing_data_width_and_activation_starts_over_with_them(qtbot, toy):
    w = toy({"dataset": "moons", "hidden": [16], "steps": 5})
    w.dataset_box.setCurrentText("spiral")
    w.width_box.setCurrentText("4")
    w.activation_box.setCurrentText("relu")
    assert (w.learning.dataset, w.learning.hidden, w.learning.activation) == ("spiral", [4], "relu")
    assert w.learning.steps == 0 and "2 → 4 → 1" in w.status.text()
    w.controls.rate.set_value(0.3)
    assert w.learning.optimizer.param_groups[0]["lr"] == 0.3
