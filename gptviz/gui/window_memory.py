"""What the main window remembers between launches: its geometry and splitters, the
training settings, the corpus file, the sample settings, the Attention view's prompt
and cadence, whether plots stay smooth while training, the device and the timeline's
snapshot cadence (in QSettings, settings_store.py).

`restore_layout` runs once the widgets exist; `remember` when the window closes. The
remembered settings and corpus are read back by app.py when no options override them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..devices import DeviceError
from .settings_store import app_settings, load_json, save_json

if TYPE_CHECKING:
    from .main_window import MainWindow


def restore_layout(window: MainWindow) -> None:
    """The last session's geometry, splitter sizes and sample settings."""
    s = app_settings()
    geometry = s.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    else:
        window.resize(1400, 860)
    for key, splitter in (("window/mainSplitter", window.main_splitter),
                          ("window/plotsSplitter", window.plots_splitter)):
        state = s.value(key)
        if state is not None:
            splitter.restoreState(state)
    samples = load_json(s, "samples/settings")
    if isinstance(samples, dict):
        window.samples.set_settings(samples)
    attention = load_json(s, "attention/settings")
    if isinstance(attention, dict):
        window.attention_view.set_settings(attention)
    window.set_smooth_plots(s.value("view/smoothPlots", False, type=bool))
    device = s.value("training/device")
    if isinstance(device, str):
        try:
            window.settings_panel.device_picker.set_device(device)
        except DeviceError:
            pass  # e.g. a GPU not present on this launch: "auto" stays
    every = s.value("timeline/every")
    if every is not None:
        try:
            window.timeline_bar.every.setValue(int(every))  # the spin box clamps it
        except (TypeError, ValueError):
            pass


def remember(window: MainWindow) -> None:
    """Store what restore_layout and app.py read back next time."""
    s = app_settings()
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/mainSplitter", window.main_splitter.saveState())
    s.setValue("window/plotsSplitter", window.plots_splitter.saveState())
    config = window.settings_panel.config()
    if config is not None:
        save_json(s, "training/config", config.to_dict())
    if window.corpus_path and Path(window.corpus_path).is_file():
        s.setValue("training/corpus", window.corpus_path)
    save_json(s, "samples/settings", window.samples.settings())
    save_json(s, "attention/settings", vars(window.attention_view.settings()))
    s.setValue("view/smoothPlots", window.actions_["smooth_plots"].isChecked())
    s.setValue("training/device", window.settings_panel.device())
    s.setValue("timeline/every", window.timeline_bar.every.value())
    s.sync()
