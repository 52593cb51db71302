"""Exporting a run for use elsewhere: its metrics as CSV, its metrics and samples as
TensorBoard event files (gptviz/export.py), and each plot as a PNG of its own
(plot_export.py) together with the metrics.

The functions take the window and use its plots and run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from ..export import ExportError, export_csv, export_tensorboard
from ..runlog import METRICS
from ..runs import RunError
from .plot_export import export_plots

if TYPE_CHECKING:
    from .main_window import MainWindow


def export_metrics_csv(window: MainWindow) -> None:
    if window.run_dir is None:
        window.show_error("No run to export yet.")
        return
    path, _ = QFileDialog.getSaveFileName(window, "Export metrics", "metrics.csv", "CSV (*.csv)")
    if path:
        try:
            n = export_csv(window.run_dir, path)
        except (OSError, RunError) as e:
            window.show_error(f"Could not write {path}: {e}")
            return
        window.statusBar().showMessage(f"Wrote {n} rows to {path}", 5000)


def export_run_tensorboard(window: MainWindow) -> None:
    if window.run_dir is None:
        window.show_error("No run to export yet.")
        return
    folder = QFileDialog.getExistingDirectory(window, "Write TensorBoard event files into a folder")
    if folder:
        try:
            n = export_tensorboard(window.run_dir, folder)
        except (ExportError, OSError, RunError) as e:
            window.show_error(f"Could not export to TensorBoard: {e}")
            return
        window.statusBar().showMessage(f"Wrote {n} TensorBoard events to {folder}", 5000)


def export_plots_png(window: MainWindow) -> None:
    folder = QFileDialog.getExistingDirectory(window, "Export each plot as PNG (and the metrics as CSV) "
                                                      "into a folder")
    if folder:
        window.export_to(folder)


def export_to(window: MainWindow, folder: str | Path) -> list[Path]:
    """Write each plot as NAME.png, and the run's metrics.csv, into folder."""
    folder = Path(folder)
    try:
        written = export_plots({**window.loss_plot.plots(), **window.gradients.plots()}, folder)
        if window.run_dir is not None and (window.run_dir / METRICS).is_file():
            export_csv(window.run_dir, folder / "metrics.csv")
            written.append(folder / "metrics.csv")
    except OSError as e:
        window.show_error(f"Could not export into {folder}: {e}")
        return []
    window.statusBar().showMessage(f"Wrote {len(written)} files to {folder}", 5000)
    return written
