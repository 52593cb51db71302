"""Saving a drawn graph as PNG (pixels) or SVG (vectors), from the window or `gptviz graph`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator

PNG_SCALE = 2.0      # pixels per scene unit: sharp on high-DPI screens and in slides


def save_scene(scene, png: str | None = None, svg: str | None = None) -> None:
    """Render the whole scene; each file is written to a temp name and renamed into place."""
    rect = scene.sceneRect()
    if png:
        image = QImage(max(1, int(rect.width() * PNG_SCALE)), max(1, int(rect.height() * PNG_SCALE)),
                       QImage.Format.Format_ARGB32)
        image.fill(scene.backgroundBrush().color())
        painter = QPainter(image)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        scene.render(painter, QRectF(image.rect()), rect)
        painter.end()
        _atomic(png, lambda tmp: image.save(tmp, "PNG"))
    if svg:
        def write_svg(tmp: str) -> bool:
            generator = QSvgGenerator()
            generator.setFileName(tmp)
            generator.setSize(QSize(int(rect.width()), int(rect.height())))
            generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
            generator.setTitle("gptviz autograd graph")
            painter = QPainter(generator)
            scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
            return painter.end()
        _atomic(svg, write_svg)


def _atomic(path: str, write) -> None:
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent or ".")
    os.close(fd)
    try:
        if not write(tmp):
            raise OSError(f"could not write {path}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def export_graph(graph, png: str | None = None, svg: str | None = None) -> None:
    """Draw `graph` without a window (offscreen when there is no display) and save it."""
    has_display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if sys.platform.startswith("linux") and not has_display:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..expr.walk import Walk
    from .app import ensure_app
    from .graph_scene import GraphScene
    ensure_app()
    scene = GraphScene()
    scene.show_graph(graph, Walk(graph))
    save_scene(scene, png=png, svg=svg)
