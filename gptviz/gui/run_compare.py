"""Open run… and the Runs window: other run directories overlaid on the loss plot.

The functions take the main window; the Runs dialog (runs_dialog.py) is made on first use
and kept, so the overlaid runs stay on the plot while it is closed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .runs_dialog import RunsDialog

if TYPE_CHECKING:
    from .main_window import MainWindow


def runs_dialog(window: MainWindow) -> RunsDialog:
    if window.runs_dialog is None:
        window.runs_dialog = RunsDialog(window.loss_plot, lambda: window.run_dir, parent=window)
    return window.runs_dialog


def show_runs(window: MainWindow) -> RunsDialog:
    dialog = runs_dialog(window)
    dialog.show()
    dialog.raise_()
    return dialog


def choose_run(window: MainWindow) -> None:
    """File → Open run…: pick a run directory and overlay it (the dialog shows it)."""
    show_runs(window).choose_run()


def open_run(window: MainWindow, path: str | Path) -> bool:
    """Overlay the run directory at path and show its details; False (and why) if it is none."""
    window.views.setCurrentIndex(0)  # the Training tab, where the loss plot is
    return show_runs(window).open_path(path)
