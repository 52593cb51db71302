"""The device picker: every device listed, the ones this machine lacks greyed out, and the
window's run built on the device chosen."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from gptviz.devices import DEVICE_CHOICES, DeviceError, auto_device, unavailable_reason
from gptviz.gui.device_picker import DevicePicker

from .window_helpers import click


def choices(picker):
    return [(picker.itemData(i), picker.itemText(i), picker.model().item(i).isEnabled())
            for i in range(picker.count())]


def test_the_picker_lists_every_device_and_greys_out_missing_ones(qtbot):
    picker = DevicePicker()
    qtbot.addWidget(picker)
    listed = choices(picker)
    assert [name for name, _, _ in listed] == list(DEVICE_CHOICES) == ["auto", "cpu", "cuda", "mps"]
    assert listed[0][1] == f"auto ({auto_device()})" and picker.device() == "auto"
    for name, text, enabled in listed[1:]:
        assert enabled == (unavailable_reason(name) is None)
        assert text == (name if enabled else f"{name} (not available)")
    picker.set_device("cpu")
    assert picker.device() == "cpu"
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        picker.set_device("tpu")


def test_a_machine_with_every_device_offers_them_all(qtbot, monkeypatch):
    import gptviz.gui.device_picker as dp
    monkeypatch.setattr(dp, "unavailable_reason", lambda name: None)
    monkeypatch.setattr(dp, "auto_device", lambda: "cuda")
    picker = DevicePicker()
    qtbot.addWidget(picker)
    assert choices(picker) == [("auto", "auto (cuda)", True), ("cpu", "cpu", True),
                               ("cuda", "cuda", True), ("mps", "mps", True)]
    picker.set_device("mps")
    assert picker.device() == "mps"


def test_a_missing_device_cannot_be_chosen_and_says_why(qtbot, monkeypatch):
    import gptviz.gui.device_picker as dp
    monkeypatch.setattr(dp, "unavailable_reason",
                        lambda name: "no CUDA GPU was found" if name == "cuda" else None)
    picker = DevicePicker()
    qtbot.addWidget(picker)
    index = picker.findData("cuda")
    assert not picker.model().item(index).isEnabled()
    assert "no CUDA GPU was found" in picker.itemData(index, Qt.ItemDataRole.ToolTipRole)
    with pytest.raises(DeviceError, match="not available: no CUDA GPU was found"):
        picker.set_device("cuda")
    assert picker.device() == "auto"


def test_the_window_trains_on_the_device_picked(make_window, qtbot, monkeypatch):
    import gptviz.gui.run_control as run_control
    from gptviz.trainer import Trainer
    asked = []

    class Recording(Trainer):
        def __init__(self, *args, device="cpu", **kwargs):
            asked.append(device)
            super().__init__(*args, device=device, **kwargs)

    monkeypatch.setattr(run_control, "Trainer", Recording)
    w = make_window()
    picker = w.findChild(QComboBox, "deviceCombo")
    assert picker is w.settings_panel.device_picker
    picker.set_device("cpu")
    picker.set_device("auto")  # not Trainer's own default: it must be passed on
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.run is not None and w.run.trainer is not None, timeout=10_000)
    assert asked == ["auto"]
    assert w.run.trainer.device.type == auto_device()
    assert not picker.isEnabled()  # locked while the run trains
    click(qtbot, w, "stopButton")
    qtbot.waitUntil(lambda: not w.active(), timeout=10_000)
    qtbot.waitUntil(picker.isEnabled, timeout=5_000)
