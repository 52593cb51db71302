"""A long run in the window, offscreen, every view live: does it leak or slow down?

Trains the `tiny` preset for --steps steps (20,000 by default) in the real window, with the
preset's evaluation every 20 steps, a sample every --sample-every steps, attention maps and
activation statistics at their default cadences, the training warnings and the timeline
recording; the training page's tabs (curves, attention, activations) are cycled every
TAB_SECONDS so that each is painted part of the time. It prints, at the warm-up mark
(--warmup steps, when buffers and caches have been allocated) and at the end:

- RSS of the process (target: growth from the warm-up mark to the end <= 50 MB);
- redraw time of the whole window, each training tab in turn with all its plots redrawn
  from their data (median of 30 frames; target still <= 33 ms, >= 30 fps, at the end);
- OS threads of the process, and after the window is closed;
- steps/s, Python objects tracked by the garbage collector, and the timeline's size;

and a progress line every tenth of the run. RSS and threads are read from /proc (Linux);
elsewhere the peak RSS and Python's threads are printed instead.

Torch runs one intra-op thread by default here (--threads, as OMP_NUM_THREADS): the tiny
model gains nothing from two, and on a 2-core machine shared with other work two threads
collapsed under contention (tiny, headless: 27 steps/s with 2 threads, 280 with 1).

    QT_QPA_PLATFORM=offscreen nice python benchmarks/soak.py [--steps 20000] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gui import SHARED, TAB_SECONDS, spin, use_scratch_folders  # noqa: E402 - a sibling script, not a package

PROC = Path("/proc/self")


def rss_mb() -> float:
    """Resident memory now (Linux); elsewhere the peak so far."""
    try:
        pages = int((PROC / "statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def thread_count() -> int:
    """OS threads of this process (Linux); elsewhere Python's threads."""
    try:
        return len(os.listdir(PROC / "task"))
    except OSError:
        return threading.active_count()


def open_window(preset_name: str, steps: int, sample_every: int):
    from PySide6.QtWidgets import QApplication

    from gptviz.gui import build_main_window
    window = build_main_window(["--corpus", str(SHARED), "--preset", preset_name,
                                "--set", f"max_iters={steps}"])
    window.resize(1500, 900)
    window.show()
    app = QApplication.instance()
    spin(app, until=lambda: window.corpus is not None and not window.loader.busy(), limit=60)
    window.samples.findChild(object, "sampleEvery").setValue(sample_every)
    return window, app


def mark_everything_dirty(window) -> None:
    """Make the next redraw of each view draw all its data again, not just what changed."""
    for view, what in ((window.loss_plot, ("steps", "evals")),
                       (window.gradients, ("steps", "diagnostics", "histogram", "ranges")),
                       (getattr(window, "activations", None), ("latest", "series"))):
        redraws = getattr(view, "_redraws", None)
        if redraws is not None:
            redraws.mark(*what)


def redraw_ms(window, app, frames: int = 30) -> dict[str, tuple[float, float]]:
    """Median ms per frame of each training tab, (wall clock, GUI thread's CPU time): every
    plot redrawn from its data, then the whole window repainted. The run must be paused or
    finished. The CPU time is the cost itself; the wall clock adds waiting for a core, which
    on a machine shared with other work can double it."""
    tabs = window.training_tabs
    shown = tabs.currentIndex()
    result = {}
    for i in range(tabs.count()):
        tabs.setCurrentIndex(i)
        spin(app, 0.3)
        times, cpu = [], []
        for _ in range(frames):
            mark_everything_dirty(window)
            t0, c0 = time.perf_counter(), time.thread_time()
            window.loss_plot.redraw()
            window.gradients.redraw()
            if hasattr(window, "activations"):
                window.activations.redraw()
            window.repaint()
            app.processEvents()
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        result[tabs.tabText(i)] = (statistics.median(times) * 1000, statistics.median(cpu) * 1000)
    tabs.setCurrentIndex(shown)
    return result


def held_by_design(window) -> str:
    """What the window keeps on purpose as a run goes on, each within a bound: the plots'
    step histories (up to their capacity of rows), the next-character probabilities of the
    samples (a budget of bytes) and the timeline's snapshots (a budget of bytes)."""
    from gptviz.gui.history import History
    histories = [o for o in gc.get_objects() if type(o) is History]
    rows = max((len(h) for h in histories), default=0)
    held = sum(a.nbytes for h in histories for a in getattr(h, "_data", {}).values())
    text = f"plot histories {held / 2**20:.1f} MB ({len(histories)}, the longest {rows:,} rows)"
    log = getattr(getattr(window, "next_chars", None), "log", None)
    if log is not None:
        text += f", sample probabilities {log.nbytes / 2**20:.1f} MB"
    timeline = getattr(window, "timeline", None)
    if timeline is not None:
        text += f", timeline {len(timeline)} snapshots {timeline.nbytes / 2**20:.1f} MB"
    return text


def snapshot(label: str, window, app, measure_redraw: bool) -> dict:
    gc.collect()
    figures = {"step": window.last_step, "rss": rss_mb(), "threads": thread_count(),
               "objects": len(gc.get_objects())}
    line = (f"{label}: step {window.last_step}, RSS {figures['rss']:.0f} MB, {figures['threads']} threads, "
            f"{figures['objects']:,} Python objects; {held_by_design(window)}")
    if measure_redraw:
        figures["redraw"] = redraw_ms(window, app)
        per_tab = ", ".join(f"{k} {c:.1f} ms ({w:.1f} wall)" for k, (w, c) in figures["redraw"].items())
        worst = max(c for _, c in figures["redraw"].values())
        line += (f"\n  redraw, whole window, median of 30 frames, GUI-thread CPU: {per_tab}; "
                 f"worst tab {worst:.1f} ms = {1000 / worst:.0f} fps")
    print(line, flush=True)
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20_000)
    ap.add_argument("--quick", action="store_true", help="2,000 steps, warm-up mark at 500")
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--warmup", type=int, default=1_000, help="steps before the baseline figures")
    ap.add_argument("--sample-every", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1, help="torch's intra-op threads (OMP_NUM_THREADS)")
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before torch is imported
    if args.quick:
        args.steps, args.warmup = 2_000, 500
    use_scratch_folders("gptviz-soak-")
    from PySide6.QtCore import QTimer

    print(f"soak: preset {args.preset}, {args.steps:,} steps, {args.threads} torch thread(s), "
          f"sample every {args.sample_every}, "
          f"warm-up mark at step {args.warmup:,}; training tabs cycled every {TAB_SECONDS:g} s")
    window, app = open_window(args.preset, args.steps, args.sample_every)
    shown = snapshot("window shown", window, app, measure_redraw=False)

    tabs = window.training_tabs
    cycle = QTimer()
    cycle.setInterval(int(TAB_SECONDS * 1000))
    cycle.timeout.connect(lambda: tabs.setCurrentIndex((tabs.currentIndex() + 1) % tabs.count()))
    t_start = time.monotonic()
    window.start()
    cycle.start()
    spin(app, until=lambda: window.last_step >= args.warmup)
    cycle.stop()
    window.toggle_pause()
    spin(app, until=lambda: window.state == "paused", limit=10)
    warm_seconds = time.monotonic() - t_start
    warm = snapshot("warm-up mark", window, app, measure_redraw=True)

    marks = np.linspace(args.warmup, args.steps, 11)[1:].astype(int)
    window.toggle_pause()
    cycle.start()
    t_run, last_t, last_step = time.monotonic(), time.monotonic(), window.last_step
    for mark in marks:
        spin(app, until=lambda m=mark: window.last_step >= m or window.state == "finished", limit=3600)
        now = time.monotonic()
        print(f"  step {window.last_step:,}: {(window.last_step - last_step) / (now - last_t):.0f} steps/s, "
              f"RSS {rss_mb():.0f} MB, {thread_count()} threads", flush=True)
        last_t, last_step = now, window.last_step
    spin(app, until=lambda: window.state == "finished", limit=600)
    run_seconds = time.monotonic() - t_run
    cycle.stop()
    end = snapshot("end", window, app, measure_redraw=True)

    window.unsaved = False  # nothing to ask about on closing
    window.close()
    spin(app, 0.5)
    after_close = thread_count()
    steps_run = end["step"] - warm["step"]
    growth = end["rss"] - warm["rss"]
    worst_end = max(c for _, c in end["redraw"].values())
    worst_wall = max(w for w, _ in end["redraw"].values())
    worst_warm = max(c for _, c in warm["redraw"].values())
    print()
    print(f"steps/s: {warm['step'] / warm_seconds:.0f} to the warm-up mark, "
          f"{steps_run / run_seconds:.0f} after "
          f"({end['step']:,} steps in {warm_seconds + run_seconds:.0f} s, evaluations and samples included)")
    print(f"RSS: {shown['rss']:.0f} MB shown, {warm['rss']:.0f} MB at the warm-up mark, {end['rss']:.0f} MB "
          f"at the end: growth {growth:+.0f} MB  (target <= 50 MB)")
    print(f"redraw at the end: worst tab {worst_end:.1f} ms of GUI-thread CPU = {1000 / worst_end:.0f} fps  "
          f"(target >= 30 fps; at the warm-up mark {worst_warm:.1f} ms; wall clock at the end "
          f"{worst_wall:.1f} ms)")
    print(f"threads: {shown['threads']} shown, {warm['threads']} at the warm-up mark, {end['threads']} at "
          f"the end, {after_close} after closing")
    print(f"Python objects: {warm['objects']:,} at the warm-up mark, {end['objects']:,} at the end")


if __name__ == "__main__":
    main()
