"""Each plot as its own PNG file, drawn by pyqtgraph's ImageExporter.

The widgets name their plots (`LossPlot.plots()`, `GradientsPanel.plots()`); a plot named
"gradient_norm" is written to gradient_norm.png. The exporter draws the plot item itself
(title, axes, curves, guide lines), not a screenshot. A plot squeezed small on screen
(the learning-rate strip is ~60 pixels tall) would come out as a thin, clipped strip, so
while it is drawn its view is given at least MIN_VIEW pixels and its x axis its numbers
(the loss plot leaves them to the strip below it), then both back as they were, before
anything is repainted. Files are written atomically: a temporary file beside the target,
renamed when complete.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QCoreApplication, QEvent, QSize
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QAbstractScrollArea

MIN_VIEW = (1000, 700)  # pixels (width, height) of the view a plot is drawn from


def export_plot(plot: pg.PlotItem, path: str | os.PathLike) -> Path:
    """Write one plot as a PNG; raises OSError if it cannot be drawn or written."""
    path = Path(path)
    with _drawn_alone(plot):
        rect = plot.sceneBoundingRect()
        if rect.width() < 1 or rect.height() < 1:
            raise OSError(f"{path.name}: the plot has no size to draw")
        image = ImageExporter(plot).export(toBytes=True)
    save_png(image, path)
    return path


def save_png(image: QImage | QPixmap, path: str | os.PathLike) -> None:
    """Write an image as a PNG atomically: a temporary file beside the target, renamed when
    complete, so an earlier file of that name is never half-replaced. Raises OSError."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        if not image.save(str(tmp), "PNG"):
            raise OSError(f"could not write {path}")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _drawn_alone(plot: pg.PlotItem) -> Iterator[None]:
    """The plot's view at least MIN_VIEW in size and its x axis numbered, while inside."""
    view, axis = plot.scene().views()[0], plot.getAxis("bottom")
    old_size, old_numbers = view.size(), axis.style["showValues"]
    _resize(view, QSize(max(old_size.width(), MIN_VIEW[0]), max(old_size.height(), MIN_VIEW[1])))
    axis.setStyle(showValues=True)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    try:
        yield
    finally:
        axis.setStyle(showValues=old_numbers)
        _resize(view, old_size)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


def _resize(view: QAbstractScrollArea, size: QSize) -> None:
    old = view.size()
    view.resize(size)
    if not view.isVisible():  # e.g. on another tab: Qt holds a hidden widget's resize event
        # back; a view (a scroll area) handles the one its viewport gets
        QCoreApplication.sendEvent(view.viewport(), QResizeEvent(size, old))


def export_plots(plots: dict[str, pg.PlotItem], folder: str | os.PathLike) -> list[Path]:
    """Write every plot as NAME.png into folder (made if missing); returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [export_plot(plot, folder / f"{name}.png") for name, plot in plots.items()]
