"""The autograd explorer's cost for a 500-node program: parse, evaluate (forward + backward),
lay out, build the scene, render it offscreen. Target: <= 200 ms in total.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_graph.py [--nodes 500] [--repeats 7]

Also shows that a program past the node limit is refused quickly, and what the whole tab
(`AutogradView.set_program`, which does all of the above plus the inputs table) costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

LINE = "h = tanh(h*w + h*0.5) - y"   # fan-out: h feeds two products; 10 graph nodes a line


def program_with(nodes: int) -> str:
    """`h = x`, then as many lines of LINE as fit in `nodes` graph nodes (3 for x, w, y)."""
    return "\n".join(["h = x"] + [LINE] * max(1, (nodes - 3) // 10))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter

    from gptviz.expr import ExprGraph, ProgramError, parse_program
    from gptviz.expr.walk import Walk
    from gptviz.graph_layout import layered_layout
    from gptviz.gui.app import ensure_app
    from gptviz.gui.autograd_view import AutogradView
    from gptviz.gui.graph_scene import GraphScene

    app = ensure_app()
    text = program_with(args.nodes)
    inputs = {"x": "0.3", "w": "0.8", "y": "0.1"}
    n_nodes = len(ExprGraph.build(text, inputs).nodes)
    print(f"program: {text.count(chr(10)) + 1} lines, {n_nodes} graph nodes")

    phases = {"parse": [], "evaluate + backward": [], "layout": [], "scene (layout + items)": [],
              "render 1400×900": [], "total": []}
    scene = GraphScene()
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        program = parse_program(text)
        t1 = time.perf_counter()
        graph = ExprGraph.build(program, inputs)
        t2 = time.perf_counter()
        scene.show_graph(graph, Walk(graph))
        t3 = time.perf_counter()
        rect = scene.sceneRect()   # the whole graph, fitted into a window-sized image
        image = QImage(1400, 900, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        scene.render(painter, QRectF(image.rect()), rect)  # keeps the aspect ratio
        painter.end()
        t4 = time.perf_counter()
        sizes = {n.id: scene.items_by_id[n.id].size for n in graph.nodes}
        t5 = time.perf_counter()
        layered_layout([n.id for n in graph.nodes], [(e.src, e.dst) for e in graph.edges], sizes)
        t6 = time.perf_counter()
        for key, seconds in (("parse", t1 - t0), ("evaluate + backward", t2 - t1), ("layout", t6 - t5),
                             ("scene (layout + items)", t3 - t2), ("render 1400×900", t4 - t3),
                             ("total", t4 - t0)):
            phases[key].append(seconds * 1000)
    for key, values in phases.items():
        print(f"  {key:<24} median {statistics.median(values):7.1f} ms   min {min(values):7.1f} ms")
    print(f"parse + evaluate + lay out + render, {n_nodes} nodes: "
          f"{statistics.median(phases['total']):.0f} ms median  (target <= 200 ms)")

    view = AutogradView()
    view.resize(1400, 900)
    view.show()
    app.processEvents()
    times = []
    for i in range(args.repeats):
        t0 = time.perf_counter()
        view.set_program(text + f"\nh = h * {i + 2}", inputs)
        view.repaint()
        app.processEvents()
        times.append((time.perf_counter() - t0) * 1000)
    print(f"whole tab (set_program + repaint): median {statistics.median(times):.0f} ms")

    too_big = program_with(5000)
    t0 = time.perf_counter()
    try:
        ExprGraph.build(too_big, inputs)
        print("a 5000-node program was NOT refused")
    except ProgramError as e:
        print(f"a ~5000-node program is refused in {(time.perf_counter() - t0) * 1000:.0f} ms: {e.message}")


if __name__ == "__main__":
    main()
