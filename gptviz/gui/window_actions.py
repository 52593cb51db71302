"""The main window's commands: each QAction with its shortcut, the button it drives, the
File and Training menus (the latter also holds the "smooth plots" choice, frame_pacer.py),
and which commands are enabled in the current state.

`build_actions` returns the actions by key (window.actions_); `update_controls` is
called (as window._update_controls) whenever the run, the corpus or the settings change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

from .continuation import continue_blocker

if TYPE_CHECKING:
    from .main_window import MainWindow

FILE_MENU = ("open_text", "download", "open_ckpt", "save", "save_as", None, "open_run", "runs", "watch",
             "stop_watch", None, "export_csv", "export_tensorboard", "export_png", None,
             "quit")  # None: a separator
TRAINING_MENU = ("start", "pause", "step", "stop")  # also window-wide shortcuts


def build_actions(window: MainWindow) -> dict[str, QAction]:
    """Create the actions, connect them (and their buttons) to the window's slots, and
    fill the menus."""
    def action(text, slot, shortcut=None, button=None):
        a = QAction(text, window)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        a.triggered.connect(slot)
        if button is not None:
            b = window.buttons[button]
            b.clicked.connect(slot)
            keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            b.setToolTip(text.replace("…", "") + (f" ({keys})" if keys else ""))
        return a

    actions = {
        "start": action("Start training", window.start, "F5", "trainButton"),
        "pause": action("Pause / Resume", window.toggle_pause, "Space", "pauseButton"),
        "step": action("Step one optimizer step", window.step_once, "N", "stepButton"),
        "stop": action("Stop training", window.stop, "Shift+F5", "stopButton"),
        "save": action("Save checkpoint", window.save, "Ctrl+S", "saveButton"),
        "save_as": action("Save checkpoint as…", window.save_as, "Ctrl+Shift+S"),
        "open_ckpt": action("Open checkpoint…", window.choose_checkpoint, "Ctrl+Shift+O",
                            "openCheckpointButton"),
        "open_text": action("Open text file…", window.choose_corpus, "Ctrl+O"),
        "download": action("Use Tiny Shakespeare (download if needed)", window.use_default_corpus),
        "export_csv": action("Export metrics as CSV…", window.export_metrics_csv),
        "export_png": action("Export each plot as PNG…", window.export_plots_png),
        "export_tensorboard": action("Export run to TensorBoard…", window.export_tensorboard),
        "open_run": action("Open run…", window.choose_run, "Ctrl+Shift+R"),
        "runs": action("Compare runs…", window.show_runs),
        "watch": action("Watch run directory…", window.choose_watch_dir, "Ctrl+Shift+W"),
        "stop_watch": action("Stop watching", window.stop_watching),
        "quit": action("Quit", window.close, "Ctrl+Q"),
        "smooth_plots": action("Smooth plots while training (slows training)", window.set_smooth_plots),
    }
    smooth = actions["smooth_plots"]
    smooth.setCheckable(True)
    smooth.setToolTip("Redraw the plots up to 30 times a second while training. Off: they "
                      "redraw less often, so that drawing takes at most ~3% of one core from "
                      "training (full rate again when paused).")
    menu = window.menuBar().addMenu("&File")
    for key in FILE_MENU:
        menu.addSeparator() if key is None else menu.addAction(actions[key])
    menu = window.menuBar().addMenu("&Training")
    for key in TRAINING_MENU:
        menu.addAction(actions[key])
        window.addAction(actions[key])
    menu.addSeparator()
    menu.addAction(smooth)
    menu.setToolTipsVisible(True)
    return actions


def start_blocker(window: MainWindow) -> str | None:
    """Why Start (or Continue, for a finished run) is disabled, or None."""
    if window.active() and window.state == "finished":
        return continue_blocker(window.settings_panel.config(), window.settings_panel.error(),
                                window.last_step)
    if window.active():
        return "a run is in progress"
    if getattr(window, "watch", None) is not None:
        return "a run directory is being watched (File → Stop watching)"
    if window.loader.busy():
        return "the corpus is loading"
    if window.corpus is None:
        return "no corpus is loaded"
    return window.settings_panel.error()


def update_controls(window: MainWindow) -> None:
    """Enable the buttons and actions that make sense in the window's current state."""
    active = window.active()
    blocker = start_blocker(window) if hasattr(window, "loader") else "starting up"
    buttons, actions = window.buttons, window.actions_
    start = buttons["trainButton"]
    start.setEnabled(blocker is None)
    verb = "continue" if window.active() and window.state == "finished" else "start"
    start.setToolTip(f"{verb.capitalize()} training (F5)" if blocker is None
                     else f"Cannot {verb}: {blocker}")
    actions["start"].setEnabled(blocker is None)
    buttons["pauseButton"].setEnabled(active and window.state in ("running", "paused"))
    buttons["stepButton"].setEnabled(active and window.state == "paused")
    buttons["stopButton"].setEnabled(active)
    can_save = window.current_trainer() is not None
    buttons["saveButton"].setEnabled(can_save)
    for key, button in (("pause", "pauseButton"), ("step", "stepButton"), ("stop", "stopButton"),
                        ("save", "saveButton")):
        actions[key].setEnabled(buttons[button].isEnabled())
    watching = getattr(window, "watch", None) is not None
    buttons["openCheckpointButton"].setEnabled(not active and not watching)
    actions["open_ckpt"].setEnabled(not active and not watching)
    actions["watch"].setEnabled(not active)
    actions["stop_watch"].setEnabled(watching)
