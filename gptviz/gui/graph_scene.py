"""The autograd graph as a QGraphicsScene: one item per node, one path per edge.

Values are rounded boxes (name, data, grad), operations are circles. Which numbers are shown
and which node is highlighted follow a `Walk`; the scene only draws what the engine says.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsScene

from ..expr import ExprGraph
from ..expr.values import compact
from ..expr.walk import Walk
from ..graph_layout import layered_layout

FILL = {"input": QColor(66, 133, 244, 70), "constant": QColor(128, 128, 128, 50),
        "intermediate": QColor(128, 128, 128, 18), "output": QColor(52, 168, 83, 90),
        "op": QColor(251, 188, 5, 90)}
HIGHLIGHT = QColor(234, 67, 53)
LABEL_CHARS = 24


def short(text: str, n: int = LABEL_CHARS) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


class NodeItem(QGraphicsItem):
    """One node, painted directly (no child text items, so 1000 nodes stay cheap)."""

    def __init__(self, scene: GraphScene, node_id: int):
        super().__init__()
        self.graph_scene, self.node_id = scene, node_id
        self.lines: list[str] = []
        self.size = (0.0, 0.0)
        self.current = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    @property
    def node(self):
        return self.graph_scene.graph.nodes[self.node_id]

    def boundingRect(self) -> QRectF:
        w, h = self.size
        return QRectF(-w / 2 - 2, -h / 2 - 2, w + 4, h + 4)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        s = self.graph_scene
        w, h = self.size
        rect = QRectF(-w / 2, -h / 2, w, h)
        node = self.node
        role = "op" if node.kind == "op" else ("output" if self.node_id == s.graph.output else node.role)
        selected = self.isSelected()
        pen = QPen(HIGHLIGHT if self.current else (s.highlight if selected else s.text_color),
                   2.5 if self.current or selected else 1.0)
        painter.setPen(pen)
        painter.setBrush(QBrush(FILL[role]))
        if node.kind == "op":
            painter.drawEllipse(rect)
        else:
            painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(s.text_color)
        y = -len(self.lines) * s.line_height / 2
        for i, line in enumerate(self.lines):
            painter.setFont(s.bold if i == 0 else s.font)
            painter.drawText(QRectF(-w / 2, y, w, s.line_height), Qt.AlignmentFlag.AlignCenter, line)
            y += s.line_height

    def mousePressEvent(self, event) -> None:
        super().mousePressEvent(event)
        self.graph_scene.nodeClicked.emit(self.node_id)


class GraphScene(QGraphicsScene):
    nodeClicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.graph: ExprGraph | None = None
        self.walk: Walk | None = None
        self.items_by_id: dict[int, NodeItem] = {}
        self.edge_items: list[EdgeItem] = []
        self.font = QFont(QApplication.font())
        self.bold = QFont(self.font)
        self.bold.setBold(True)
        self.metrics = QFontMetricsF(self.bold)
        self.line_height = self.metrics.lineSpacing()
        palette = QApplication.palette()
        self.text_color = palette.color(QPalette.ColorRole.WindowText)
        self.highlight = palette.color(QPalette.ColorRole.Highlight)
        self.setBackgroundBrush(palette.color(QPalette.ColorRole.Base))

    def show_graph(self, graph: ExprGraph, walk: Walk) -> None:
        """Replace the drawing with `graph`, laid out left to right."""
        self.clear()
        self.graph, self.walk = graph, walk
        self.items_by_id, self.edge_items = {}, []
        sizes = {}
        for node in graph.nodes:
            item = NodeItem(self, node.id)
            item.lines = self._lines(node.id)
            item.size = self._size(node, item.lines)
            sizes[node.id] = item.size
            self.items_by_id[node.id] = item
        layout = layered_layout([n.id for n in graph.nodes], [(e.src, e.dst) for e in graph.edges], sizes,
                                layer_gap=50.0, node_gap=16.0)
        for node_id, (x, y) in layout.positions.items():
            item = self.items_by_id[node_id]
            item.setPos(x, y)
            self.addItem(item)
        for route in layout.edge_routes:
            edge_item = EdgeItem(route, self.text_color)
            self.addItem(edge_item)
            self.edge_items.append(edge_item)
        self.setSceneRect(QRectF(-20, -20, layout.width + 40, layout.height + 40))

    def refresh(self) -> None:
        """Redraw the numbers and the highlight after the walk or the grads changed."""
        if self.graph is None:
            return
        current = self.walk.current if self.walk else None
        for node_id, item in self.items_by_id.items():
            lines = self._lines(node_id)
            if lines != item.lines or item.current != (node_id == current):
                item.lines, item.current = lines, node_id == current
                item.update()

    def _lines(self, node_id: int) -> list[str]:
        g, walk = self.graph, self.walk
        node = g.nodes[node_id]
        if node.kind == "op":
            return [node.op]
        title = short(node.label)
        if node.shape:
            title += "  (" + "×".join(map(str, node.shape)) + ")"
        value = compact(g.value(node_id), 4) if walk is None or walk.shows_value(node_id) else "?"
        lines = [title, f"data {value}"]
        if node.tensor.requires_grad:
            grad = compact(g.grad(node_id), 4) if walk is None or walk.shows_grad(node_id) else "?"
            lines.append(f"grad {grad}")
        return lines

    def _size(self, node, lines: list[str]) -> tuple[float, float]:
        if node.kind == "op":
            d = max(30.0, self.metrics.horizontalAdvance(lines[0]) + 16)
            return (d, d)
        width = max(self.metrics.horizontalAdvance(line) for line in lines) + 18
        # room for the widest numbers the walk may reveal later
        width = max(width, 90.0)
        return (width, len(lines) * self.line_height + 10)


class EdgeItem(QGraphicsItem):
    """A polyline from one node's border to another's, with an arrowhead at the end."""

    def __init__(self, points: list[tuple[float, float]], color: QColor):
        super().__init__()
        self.polyline = QPolygonF([QPointF(x, y) for x, y in points])
        self.head = arrow_head(points[-2], points[-1])
        self.color = color
        self.emphasis = False
        self.setZValue(-1)
        self._bounds = self.polyline.boundingRect().united(self.head.boundingRect()).adjusted(-3, -3, 3, 3)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter: QPainter, option, widget=None) -> None:
        color = HIGHLIGHT if self.emphasis else self.color
        painter.setPen(QPen(color, 2.0 if self.emphasis else 1.0))
        painter.drawPolyline(self.polyline)
        painter.setBrush(QBrush(color))
        painter.drawPolygon(self.head)


def arrow_head(start: tuple[float, float], end: tuple[float, float], size: float = 7.0) -> QPolygonF:
    (x0, y0), (x1, y1) = start, end
    length = max(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5, 1e-9)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    return QPolygonF([QPointF(x1, y1),
                      QPointF(x1 - ux * size - uy * size * 0.45, y1 - uy * size + ux * size * 0.45),
                      QPointF(x1 - ux * size + uy * size * 0.45, y1 - uy * size - ux * size * 0.45)])
