"""The device a run trains on, as a choice list: auto, cpu, cuda, mps.

Devices this machine lacks stay in the list, greyed out and marked "(not available)", with
the reason as their tooltip, so a learner sees that a GPU would be used if there were one.
"auto" shows what it means here, e.g. "auto (cuda)".
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget

from ..devices import DEVICE_CHOICES, DeviceError, auto_device, unavailable_reason

TOOLTIP = ("Where the model trains: auto picks a CUDA GPU, else an Apple GPU (MPS), else the "
           "CPU. GPUs train in bfloat16 where they support it.")


class DevicePicker(QComboBox):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("deviceCombo")
        self.setToolTip(TOOLTIP)
        for name in DEVICE_CHOICES:
            reason = None if name == "auto" else unavailable_reason(name)
            if name == "auto":
                label = f"auto ({auto_device()})"
            else:
                label = name if reason is None else f"{name} (not available)"
            self.addItem(label, name)
            if reason is not None:
                self.model().item(self.count() - 1).setEnabled(False)
                self.setItemData(self.count() - 1, f"Not available here: {reason}",
                                 Qt.ItemDataRole.ToolTipRole)

    def device(self) -> str:
        """The chosen device's name, as Trainer and `--device` take it."""
        return self.currentData()

    def set_device(self, name: str) -> None:
        """Choose a device; DeviceError for one not in the list or not available here."""
        index = self.findData(name)
        if index < 0:
            raise DeviceError(f"unknown device {name!r}; choose one of: {', '.join(DEVICE_CHOICES)}")
        if not self.model().item(index).isEnabled():
            raise DeviceError(f"device {name!r} is not available: {unavailable_reason(name)}")
        self.setCurrentIndex(index)
