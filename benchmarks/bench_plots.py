"""Redraw time of the live plots with a long run's history, offscreen.

Fills LossPlot and GradientsPanel with 100k steps (and 1k diagnostic steps for the
panel), then times ~50 frames of what the window does while training: append a few
new steps, `redraw()`, then paint. Two columns: `repaint()` plus processing events
paints what changed (what the screen does); `grab()` renders every sub-plot (the worst
case). Prints ms per frame and the implied frames per second; the target is at least
30 fps (33 ms per frame or less).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_plots.py [--steps 100000] [--frames 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from gptviz.gui.gradient_plots import GradientsPanel  # noqa: E402
from gptviz.gui.loss_plot import LossPlot  # noqa: E402
from gptviz.gui.payloads import Diagnostics, StepBatch  # noqa: E402
from gptviz.metrics import EvalMetrics, Histogram  # noqa: E402

SIZE = (600, 400)
DIAGNOSTIC_EVERY = 100  # steps between diagnostics
EVAL_EVERY = 250
STEPS_PER_FRAME = 10  # ~300 steps/s drawn at 30 fps


def parameter_names(n_layer: int = 4) -> list[str]:
    """The parameter names of the `cpu` preset's GPT (4 layers, biases)."""
    block = ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
             "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
             "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"]
    return (["wte.weight", "wpe.weight"] + [f"blocks.{i}.{p}" for i in range(n_layer) for p in block]
            + ["ln_f.weight", "ln_f.bias"])


def steps(first: int, n: int, rng) -> StepBatch:
    s = np.arange(first, first + n, dtype=np.float64)
    loss = 1.5 + 2.7 * np.exp(-s / 2000) + rng.normal(0, 0.05, n)
    lr = 1e-3 * (0.1 + 0.45 * (1 + np.cos(np.pi * s / 200_000)))
    grad = 0.3 + 3 * np.exp(-s / 500) + np.abs(rng.normal(0, 0.1, n))
    return StepBatch(s, loss, lr, grad, np.full(n, 8000.0))


def diagnostics(step: int, names: list[str], rng) -> Diagnostics:
    d = Diagnostics(step)
    for i, name in enumerate(names):
        d.grad_norms[name] = 0.1 * (1 + i % 5) * rng.uniform(0.8, 1.2)
        d.update_ratios[name] = 1e-3 * rng.uniform(0.3, 3)
        counts = np.histogram(rng.normal(0, 0.01, 2000), 64)[0].astype(np.float32)
        d.histograms[name] = Histogram(counts, -0.04, 0.04)
    return d


def time_frames(app, widget, payloads, render) -> float:
    """Median ms per frame of: append the frame's data, redraw(), render, process events."""
    times = []
    for batch, diag in payloads:
        t0 = time.perf_counter()
        widget.append_steps(batch)
        if diag is not None:
            widget.set_diagnostics(diag)
        widget.redraw()
        render()
        app.processEvents()  # the paint itself when render is repaint()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def fps(ms: float) -> str:
    return f"{ms:6.1f} ms {1000 / ms:5.0f} fps{'' if ms <= 1000 / 30 else ' (< 30 fps!)'}"


class Run:
    """Makes the data of successive frames, built before the clock starts."""

    def __init__(self, last_step: int, names: list[str], rng):
        self.next, self.names, self.rng = last_step + 1, names, rng

    def frames(self, n: int, diagnostics_each_frame: bool = False):
        out = []
        for _ in range(n):
            diag = diagnostics(self.next, self.names, self.rng) if diagnostics_each_frame else None
            out.append((steps(self.next, STEPS_PER_FRAME, self.rng), diag))
            self.next += STEPS_PER_FRAME
        return out


def filled(widget, n: int, names: list[str], rng):
    for first in range(1, n + 1, 1000):
        widget.append_steps(steps(first, min(1000, n + 1 - first), rng))
    if isinstance(widget, LossPlot):
        for k in range(0, n + 1, EVAL_EVERY):
            widget.append_eval(EvalMetrics(k, 2.0, 2.1))
    else:
        widget.set_clip(1.0)
        for k in range(DIAGNOSTIC_EVERY, n + 1, DIAGNOSTIC_EVERY):
            widget.set_diagnostics(diagnostics(k, names, rng))
    widget.resize(*SIZE)
    widget.show()
    widget.redraw()
    return widget


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--frames", type=int, default=50)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    names, n, k = parameter_names(), args.steps, args.frames
    print(f"{n:,} steps of history ({n // DIAGNOSTIC_EVERY:,} diagnostic steps), {SIZE[0]}x{SIZE[1]} px, "
          f"{STEPS_PER_FRAME} new steps per frame, median of {k} frames")
    print(f"{'':<44} {'repaint (what changed)':<24} grab (everything)")
    cases = [("LossPlot", LossPlot, False),
             ("GradientsPanel", GradientsPanel, False),
             ("GradientsPanel, new diagnostics every frame", GradientsPanel, True)]
    for label, cls, with_diag in cases:
        widget = filled(cls(), n, names, rng)
        app.processEvents()
        run = Run(n, names, rng)
        painted = time_frames(app, widget, run.frames(k, with_diag), widget.repaint)
        widget.hide()  # else the shown widget would also paint itself after each grab
        grabbed = time_frames(app, widget, run.frames(k, with_diag), widget.grab)
        print(f"{label:<44} {fps(painted):<24} {fps(grabbed)}")
        widget.close()


if __name__ == "__main__":
    main()
