"""What one choice in the window costs training, measured inside one window run.

Alternating headless and window rounds (bench_gui.py) swing ±0.15 with this machine's
fast and slow modes, too much to see a 1-3 % effect. Here one window run of `default`
trains with every view live (training-page tabs cycled as in bench_gui) while a single
condition is switched off and on every BLOCK steps; each "on" block's mean step time is
compared with the "off" blocks on either side of it, so both see the same machine mode.
Prints the median speed ratio (on ÷ off; above 1: training is faster with it on) and the
GUI thread's CPU share in each condition.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_window_ab.py CONDITION [--steps 1000] [--block 30]

Conditions ("on" is the first):
  plain-tabs   the window's tab widgets behave like plain QTabWidgets (relayout + repaint
               of the whole tab widget on every LayoutRequest) instead of QuietTabWidget
  page-hidden  the Training page is behind another tab (nothing of it is drawn)
  watch-all    every step is watched for Pause (StopPoints hooks), not only long ones
  no-tabs      the training-page tabs are not cycled
  unsplit      training's batches are not split across threads (Trainer.split_batches)
  switch-1ms   Python's GIL switch interval is 1 ms instead of 5 (sys.setswitchinterval)
  gui-nice     the GUI thread runs at nice 10 instead of 0 (raising it back needs root)
  gui-idle     the GUI thread runs under SCHED_IDLE (only on a core nothing else wants; needs root)
  no-diagnostics  no diagnostics steps (gradient histograms, update ratios, activation
               statistics) instead of the worker's cadence
  diagnostics-every-10  diagnostics on every 10th step, as before their 1 % cost budget
               (worker.DIAGNOSTICS_BUDGET: every 30th-40th step for `default`)
  no-axis-cache  the plots' axes drawn afresh on every repaint instead of from a pixmap cache
  rows-every-step  the worker sends each step's row as soon as the step ends (at most 30 a
               second) instead of as often as the plots redraw (at least every 0.25 s)
  budget-3     the frame pacer keeps the GUI thread within 3 % of a core, its budget before
               session 10, instead of its default 2 % (more redraws while training; session 8
               ran the opposite as budget-2, when 3 % was the default)
  latency-probe  bench_gui's 10 ms latency timer runs on the GUI thread (what measuring
               latency costs the training it measures)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

import bench_gui
import numpy as np
from PySide6.QtCore import QTimer


def switch(condition: str, window):
    """A function that turns the condition on (True) or off (False)."""
    from gptviz.gui import worker
    from gptviz.gui.quiet_tabs import QuietTabWidget
    watch_above = worker.WATCH_STEPS_LONGER_THAN

    def plain_tabs(on):
        # (an instance flag: PySide keeps calling the override a wrapper was created with,
        # so replacing QuietTabWidget.event at run time would change nothing)
        for tabs in window.findChildren(QuietTabWidget):
            tabs.quiet = not on

    def page_hidden(on):
        window.views.setCurrentIndex(2 if on else 0)

    def watch_all(on):
        worker.WATCH_STEPS_LONGER_THAN = 0.0 if on else watch_above

    def no_tabs(on):
        bench_gui.TAB_CYCLING = not on

    def unsplit(on):
        if window.run is not None and window.run.trainer is not None:
            window.run.trainer.split_batches = not on  # read at the start of each step

    def switch_1ms(on):
        sys.setswitchinterval(0.001 if on else 0.005)

    gui_thread = threading.get_native_id()

    def gui_nice(on):
        os.setpriority(os.PRIO_PROCESS, gui_thread, 10 if on else 0)

    def gui_idle(on):
        policy = os.SCHED_IDLE if on else os.SCHED_OTHER
        os.sched_setscheduler(gui_thread, policy, os.sched_param(0))

    def no_diagnostics(on):
        if window.run is not None:
            window.run.worker.diagnostics_every = 0 if on else 10  # read before each step

    def diagnostics_every_10(on):  # the cadence before their cost budget (worker.DIAGNOSTICS_BUDGET)
        if window.run is not None:
            window.run.worker.diagnostics_budget = 0.0 if on else worker.DIAGNOSTICS_BUDGET

    import pyqtgraph as pg
    from PySide6.QtWidgets import QGraphicsItem

    from gptviz.gui.frame_pacer import PACER
    axes = [item for view in window.findChildren(pg.GraphicsView) for item in view.scene().items()
            if isinstance(item, pg.AxisItem)]

    def no_axis_cache(on):
        mode = QGraphicsItem.CacheMode.NoCache if on else QGraphicsItem.CacheMode.DeviceCoordinateCache
        for axis in axes:
            axis.setCacheMode(mode)

    def rows_every_step(on):  # (an instance attribute: the worker calls PACER.rows_every())
        if on:
            PACER.rows_every = lambda: worker.EMIT_INTERVAL
        else:
            PACER.__dict__.pop("rows_every", None)

    default_budget = PACER.budget

    def budget_3(on):
        PACER.budget = 0.03 if on else default_budget

    probe = bench_gui.LatencyProbe()

    def latency_probe(on):
        if on:
            probe.start()
        else:
            probe.stop()

    return {"budget-3": budget_3, "latency-probe": latency_probe, "no-diagnostics": no_diagnostics,
            "diagnostics-every-10": diagnostics_every_10,
            "no-axis-cache": no_axis_cache,
            "rows-every-step": rows_every_step, "plain-tabs": plain_tabs, "page-hidden": page_hidden,
            "watch-all": watch_all, "no-tabs": no_tabs, "unsplit": unsplit, "switch-1ms": switch_1ms,
            "gui-nice": gui_nice, "gui-idle": gui_idle}[condition]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("condition", choices=["plain-tabs", "page-hidden", "watch-all", "no-tabs", "unsplit",
                                          "switch-1ms", "gui-nice", "gui-idle", "no-diagnostics",
                                          "no-axis-cache", "rows-every-step", "latency-probe",
                                          "budget-3", "diagnostics-every-10"])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--block", type=int, default=30)
    args = ap.parse_args()
    bench_gui.use_scratch_folders()
    window, app = bench_gui.open_window("default")
    turn = switch(args.condition, window)
    blocks = []  # (on, GUI-thread CPU seconds, wall seconds) of each block, in order
    state = {"on": False, "next": 10 + args.block, "cpu": time.thread_time(), "wall": time.perf_counter()}

    def check():
        if window.last_step >= state["next"]:
            cpu, wall = time.thread_time(), time.perf_counter()
            blocks.append((state["on"], cpu - state["cpu"], wall - state["wall"]))
            state.update(on=not state["on"], next=state["next"] + args.block, cpu=cpu, wall=wall)
            turn(state["on"])

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(check)
    timer.start()
    turn(False)
    bench_gui.window_run(window, app, args.steps)
    timer.stop()
    turn(False)
    dt = 1.0 / np.asarray(window.loss_plot.history["tokens_per_sec"], dtype=np.float64)
    # mean step time of each block, leaving out its first 3 steps (the switch lands within ~20 ms)
    means = [float(np.mean(dt[10 + b * args.block + 3:10 + (b + 1) * args.block]))
             for b in range((len(dt) - 10) // args.block)]
    ratios = [statistics.mean(means[j] for j in (i - 1, i + 1) if j < len(means)) / means[i]
              for i in range(1, len(means), 2)]  # odd blocks are "on"
    share = {on: sum(c for o, c, _ in blocks if o == on) / sum(w for o, _, w in blocks if o == on)
             for on in (False, True)}
    window.unsaved = False
    window.close()
    print(f"{args.condition}: training speed on ÷ off, median of {len(ratios)} blocks: "
          f"{statistics.median(ratios):.3f} (mean {statistics.mean(ratios):.3f}); GUI thread CPU "
          f"{share[True]:.1%} on, {share[False]:.1%} off")


if __name__ == "__main__":
    main()
