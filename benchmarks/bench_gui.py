"""The window's cost, measured offscreen in one run.

1. Training tokens/s of one preset headless and in the window, in alternating rounds
   (headless, window, headless, ...); each window round is divided by the mean of the
   headless rounds on either side and the median of those is the figure. Step time only:
   evaluation and sampling are not training and are excluded on both sides. Two kinds of
   window round, taking turns, with every view on at its default cadence (plots,
   diagnostics at the worker's cadence, a sample every 100 steps, and issue 6's attention
   maps, next-character probabilities, activation statistics, training warnings and the
   timeline's snapshots every 100 steps):
   - issue 3's live views: the Curves tab shown all along (loss and gradient plots), the
     samples and the status line beside it; target >= 0.95;
   - issue 6's views: the tabs of the training page (curves, attention, activations, ...)
     cycled every TAB_SECONDS so that each is painted part of the time (a hidden tab is not
     painted); each switch paints a whole page, so this is the dearer of the two;
     target >= 0.9.
   Also the GUI thread's CPU share while training and the frame pacer's redraw interval.
2. GUI event-loop latency while training: a 10 ms QTimer's intervals (target p99 <= 50 ms),
   in LATENCY_ROUNDS window rounds of their own after those of 1 (the timer is a load on
   the GUI thread that no user's window carries; see LatencyProbe).
3. Redraw time of the whole window with 100k steps of history (target <= 33 ms, 30 fps).
4. Peak RSS of this process, and cold start to window shown (target <= 3 s).
5. The timeline's bookkeeping on the GUI thread: per coalesced batch of step rows, per
   report recorded, per snapshot taken (it keeps references to what the worker sent).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py [--preset default] [--steps 100] [--rounds 8]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared" / "data" / "tinyshakespeare.txt").resolve()


def use_scratch_folders(prefix: str = "gptviz-bench-") -> Path:
    """Offscreen Qt, and settings and run directories in a fresh temporary folder, so that a
    benchmark neither reads nor changes the user's own (call before building a window)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["GPTVIZ_SETTINGS_FILE"] = str(scratch / "settings.ini")
    os.environ["GPTVIZ_RUNS_DIR"] = str(scratch / "runs")
    return scratch


def headless_tokens_per_sec(preset_name: str, corpus, steps: int) -> float:
    """Training on a fresh thread of its own, as the window's worker does.

    (Measured here: once one thread has run torch's OpenMP-parallel ops, another thread's
    parallel ops run at about half speed while the first thread lives. So neither side of
    the comparison trains on the main thread, and the window's run is stopped before the
    second headless measurement.)
    """
    from gptviz.config import preset
    from gptviz.trainer import Trainer
    result = []

    def run():
        t = Trainer(preset(preset_name, max_iters=10**6), corpus)
        for _ in range(10):
            t.step()
        seconds = sum(t.step().dt for _ in range(steps))
        result.append(steps * t.tokens_per_step / seconds)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0]


def spin(app, seconds: float = 0.0, until=None, limit: float = 600.0, poll_ms: int = 50) -> None:
    """Run the Qt event loop (as app.exec() would) until a condition holds or time is up,
    asking every poll_ms."""
    from PySide6.QtCore import QEventLoop, QTimer
    end = time.monotonic() + (limit if until else seconds)
    loop = QEventLoop()

    def check():
        if time.monotonic() >= end or (until and until()):
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(poll_ms)
    check()
    if time.monotonic() < end and not (until and until()):
        loop.exec()
    timer.stop()


CONTROL_LATENCY: list[tuple[float, float]] = []  # (pause, stop) seconds, as the GUI sees them
TIMELINE: list[tuple[int, int]] = []  # (snapshots kept, their bytes) at the end of each window run
GUI_SHARE: dict[bool, list[float]] = {True: [], False: []}  # the GUI thread's CPU time / wall time,
# each window run, by whether the tabs were cycled
PACED_MS: dict[bool, list[int]] = {True: [], False: []}  # the frame pacer's redraw interval, read
# once a second while training
# While a round trains, the bench asks this seldom whether it has reached its last step: at 50 ms
# the asking took ~0.3 % of a core on the GUI thread (the window's cost, not the bench's, is measured).
TRAINING_POLL_MS = 500
LATENCY_ROUNDS = 2  # window rounds with the latency probe, after the compared ones
TAB_SECONDS = 1.5  # each tab of the training page is shown this long in turn while training
TAB_CYCLING = True  # bench_window_ab.py turns the cycling off and on within a run


def issue6_views(window) -> list[str]:
    """The views of issue 6 present in this window (looked up, so later ones count too)."""
    tabs = window.training_tabs
    names = [tabs.tabText(i) for i in range(tabs.count()) if tabs.tabText(i) != "Curves"]
    extras = (("next_chars", "next-character probabilities"), ("training_warnings", "training warnings"))
    names += [label for attr, label in extras if hasattr(window, attr)]
    timeline = getattr(window, "timeline", None)
    if timeline is not None and timeline.every > 0:
        names.append(f"timeline snapshots every {timeline.every} steps")
    return names


def open_window(preset_name: str):
    from PySide6.QtWidgets import QApplication

    from gptviz.gui import build_main_window
    window = build_main_window(["--corpus", str(SHARED), "--preset", preset_name,
                                "--set", "max_iters=1000000"])
    from gptviz.gui.gc_policy import freeze_startup_objects
    freeze_startup_objects()  # as run_app does before showing the window
    window.resize(1500, 900)
    window.show()
    app = QApplication.instance()
    spin(app, until=lambda: window.corpus is not None, limit=60)
    window.samples.findChild(object, "sampleEvery").setValue(100)
    if hasattr(window, "timeline"):  # on, at its default cadence
        from gptviz.timeline import DEFAULT_EVERY
        window.timeline_bar.every.setValue(DEFAULT_EVERY)
    return window, app


class LatencyProbe:
    """A 10 ms QTimer on the GUI thread; the intervals between its ticks show how long an
    event waited. It is a load of its own: ~45 µs of Qt's and PySide's dispatch a tick,
    1.4 % of a core in an otherwise idle event loop. In a training window its cost was
    within what bench_window_ab.py resolves (`latency-probe`: 0.996 and 0.997 on ÷ off),
    but it is not part of the window, so the rounds whose tokens/s are compared run
    without it and latency is measured in rounds of its own."""

    def __init__(self, interval_ms: int = 10):
        from PySide6.QtCore import QTimer
        self.intervals: list[float] = []  # seconds
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.intervals.append(now - self._last)
        self._last = now


def window_run(window, app, steps: int, probe: LatencyProbe | None = None, cycle_tabs: bool = True):
    """One run of `steps` steps in the window, then Stop; (tokens, seconds) of the steps
    after the first 10, and the probe's intervals in ms (empty without a probe). The
    training page's tabs are cycled (if cycle_tabs and TAB_CYCLING) or stay on Curves."""
    from PySide6.QtCore import QTimer
    tabs = window.training_tabs
    tabs.setCurrentIndex(0)
    cycle = QTimer()
    cycle.setInterval(int(TAB_SECONDS * 1000))
    cycle.timeout.connect(lambda: tabs.setCurrentIndex((tabs.currentIndex() + 1) % tabs.count())
                          if TAB_CYCLING and cycle_tabs else None)
    from gptviz.gui.frame_pacer import PACER
    intervals_ms = []
    pacing = QTimer()
    pacing.setInterval(1000)
    pacing.timeout.connect(lambda: intervals_ms.append(PACER.current_ms) if PACER.training else None)
    window.start()
    if probe is not None:
        probe.start()
        first = len(probe.intervals) + 5  # (its first ticks wait for the run's start-up)
    cycle.start()
    pacing.start()
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    spin(app, until=lambda: window.last_step >= steps + 10, poll_ms=TRAINING_POLL_MS)
    GUI_SHARE[cycle_tabs].append((time.thread_time() - cpu0) / (time.perf_counter() - wall0))
    PACED_MS[cycle_tabs].extend(intervals_ms)
    if probe is not None:
        probe.stop()
    cycle.stop()
    pacing.stop()
    tabs.setCurrentIndex(0)
    t0 = time.perf_counter()
    window.toggle_pause()
    spin(app, until=lambda: window.state == "paused", limit=10)
    pause_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    window.stop()
    spin(app, until=lambda: not window.active(), limit=10)
    stop_s = time.perf_counter() - t0
    CONTROL_LATENCY.append((pause_s, stop_s))
    if hasattr(window, "timeline"):
        TIMELINE.append((len(window.timeline), window.timeline.nbytes))
    tps = window.loss_plot.history["tokens_per_sec"][10:steps + 10]
    tokens_per_step = window.current_trainer().tokens_per_step
    seconds = float(np.sum(tokens_per_step / tps))
    latency = np.array(probe.intervals[first:] if probe is not None else []) * 1000
    return len(tps) * tokens_per_step, seconds, latency


def redraw_ms(window, app, rows: int = 100_000, frames: int = 30) -> float:
    from gptviz.gui.payloads import StepBatch
    window.loss_plot.clear()
    window.gradients.clear()
    steps = np.arange(1, rows + 1, dtype=np.float64)
    loss = 4.2 * np.exp(-steps / 20_000) + 1.2 + 0.05 * np.random.default_rng(0).standard_normal(rows)
    batch = StepBatch(steps, loss, np.full(rows, 1e-3), np.abs(loss) / 3, np.full(rows, 1e4))
    window.loss_plot.append_steps(batch)
    window.gradients.append_steps(batch)
    spin(app, 0.5)
    times = []
    for i in range(frames):
        more = StepBatch(*(np.array([v]) for v in (rows + i + 1.0, 1.3, 1e-3, 0.4, 1e4)))
        window.loss_plot.append_steps(more)
        window.gradients.append_steps(more)
        t0 = time.perf_counter()
        window.loss_plot.redraw()
        window.gradients.redraw()
        window.repaint()
        app.processEvents()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def timeline_cost_us(batches: int = 30_000, rows: int = 3) -> tuple[float, float, float]:
    """(µs per batch of `rows` step rows, µs per report recorded, µs per batch that takes a
    snapshot) of the window's Timeline at its default cadence, with `default`-sized
    diagnostics (37 parameters' 64-bin histograms) every 10 steps and attention maps
    (4 × 4 heads, 28 characters) every 100."""
    from gptviz.activations import ActivationStats
    from gptviz.attention_probe import AttentionMaps
    from gptviz.gui.payloads import Diagnostics, Histogram
    from gptviz.timeline import Timeline
    rng = np.random.default_rng(0)
    hist = {f"p{i}": Histogram(rng.random(64, dtype=np.float32), -1.0, 1.0) for i in range(37)}
    acts = {f"blocks.{i}.mlp": ActivationStats("mlp", hist["p0"], 1.0, 2.0, 0.0, 1.0) for i in range(4)}
    timeline = Timeline()
    plain, taking, recording = [], [], []
    for b in range(batches):
        steps = np.arange(b * rows + 1, (b + 1) * rows + 1, dtype=np.float64)
        for step in (int(s) for s in steps if s % 10 == 0):  # sent before the rows, as the worker does
            d = Diagnostics(step, {k: 1.0 for k in hist}, {k: 1e-3 for k in hist}, dict(hist), dict(acts))
            maps = AttentionMaps(step, "x" * 28, rng.random((4, 4, 28, 28), dtype=np.float32))
            t0 = time.perf_counter()
            timeline.record("diagnostics", step, d)
            if step % 100 == 0:
                timeline.record("attention", step, maps)
            recording.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        taken = timeline.add_steps(steps, {"loss": steps, "lr": steps, "grad_norm": steps,
                                           "tokens_per_sec": steps}, steps)
        (taking if taken else plain).append(time.perf_counter() - t0)
    return tuple(statistics.mean(t) * 1e6 for t in (plain, recording, taking))


def cold_start_seconds() -> float:
    code = ("from PySide6.QtWidgets import QApplication\n"
            "from gptviz.gui import build_main_window\n"
            f"w = build_main_window(['--corpus', {str(SHARED)!r}, '--preset', 'tiny'])\n"
            "from gptviz.gui.gc_policy import freeze_startup_objects; freeze_startup_objects()\n"
            "w.show(); QApplication.instance().processEvents()\n"
            "print('shown', flush=True)\n"
            "w.shutdown()\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:
        if line.startswith("shown"):
            elapsed = time.monotonic() - t0
            break
    else:
        raise RuntimeError("the window did not come up")
    proc.wait(60)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="default")
    ap.add_argument("--steps", type=int, default=100, help="steps per round")
    ap.add_argument("--rounds", type=int, default=8)
    args = ap.parse_args()
    use_scratch_folders()
    import torch

    from gptviz.corpus import Corpus
    corpus = Corpus.from_file(SHARED)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, preset {args.preset}, "
          f"{args.rounds} rounds of {args.steps} steps")

    cold = [cold_start_seconds() for _ in range(3)]
    window, app = open_window(args.preset)
    # Alternate headless and window runs so that both see the same (noisy) machine.
    # This machine switches between a fast and a slow mode every half minute or so, so
    # each window round is compared with the headless rounds just before and after it,
    # and the median of those ratios is the figure (the pooled one is printed too). The
    # two kinds of window round (Curves shown, tabs cycled) take turns.
    headless, in_window = [], []  # in_window: (tabs cycled?, tokens/s)
    for _ in range(args.rounds):
        for cycled in (False, True):
            headless.append(headless_tokens_per_sec(args.preset, corpus, args.steps))
            tokens, seconds, _ = window_run(window, app, args.steps, cycle_tabs=cycled)
            in_window.append((cycled, tokens / seconds))
    headless.append(headless_tokens_per_sec(args.preset, corpus, args.steps))
    compared_shares = {k: v[:] for k, v in GUI_SHARE.items()}  # (not the probe's rounds)
    probe = LatencyProbe()  # in rounds of its own (see LatencyProbe)
    latency = np.concatenate([window_run(window, app, args.steps, probe)[2] for _ in range(LATENCY_ROUNDS)])
    print("tokens/s headless, each round: " + ", ".join(f"{h:,.0f}" for h in headless))
    for cycled, what, target in ((False, "issue 3's live views (Curves tab shown)", 0.95),
                                 (True, "every issue-6 view, training-page tabs cycled", 0.9)):
        rounds = [(i, w) for i, (c, w) in enumerate(in_window) if c == cycled]
        paired = [w / statistics.mean(headless[i:i + 2]) for i, w in rounds]
        pooled = statistics.mean(w for _, w in rounds) / statistics.mean(headless)
        paced_ms = PACED_MS[cycled]
        print(f"{what}:")
        print("  tokens/s in the window, each round: " + ", ".join(f"{w:,.0f}" for _, w in rounds))
        print("  window ÷ headless around it, each round: " + ", ".join(f"{r:.3f}" for r in paired))
        print(f"  tokens/s in the window ÷ headless: median {statistics.median(paired):.3f}, "
              f"pooled {pooled:.3f}  (target >= {target})")
        print("  GUI thread CPU while training, share of one core, each round: "
              + ", ".join(f"{g:.1%}" for g in compared_shares[cycled])
              + (f"; redraw interval (frame pacer) median {statistics.median(paced_ms)} ms, "
                 f"range {min(paced_ms)}-{max(paced_ms)} ms" if paced_ms else ""))
    print(f"  (issue-6 views: {', '.join(issue6_views(window))}; training-page tabs cycled every "
          f"{TAB_SECONDS:g} s; GUI thread in the latency rounds: "
          f"{', '.join(f'{g:.1%}' for g in GUI_SHARE[True][len(compared_shares[True]):])})")
    print(f"GUI event-loop latency, 10 ms timer while training ({LATENCY_ROUNDS} more window rounds): "
          f"p50 {np.percentile(latency, 50):.1f} ms, "
          f"p99 {np.percentile(latency, 99):.1f} ms, max {latency.max():.1f} ms  (target p99 <= 50 ms)")
    if TIMELINE:
        print("timeline snapshots kept per window run: " + ", ".join(
            f"{n} ({nbytes / 1e3:,.0f} kB)" for n, nbytes in TIMELINE))
    worst_pause = max(p for p, _ in CONTROL_LATENCY) * 1000
    worst_stop = max(s for _, s in CONTROL_LATENCY) * 1000
    print(f"Pause / Stop, click to the window seeing it (checked every 50 ms): worst {worst_pause:.0f} ms / "
          f"{worst_stop:.0f} ms  (target <= 200 ms)")
    print(f"redraw, whole window with 100k steps of history: {redraw_ms(window, app):.1f} ms per frame  "
          f"(target <= 33 ms)")
    window.unsaved = False
    window.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss_mb:.0f} MB")
    batch_us, record_us, snapshot_us = timeline_cost_us()
    print(f"timeline bookkeeping on the GUI thread: {batch_us:.0f} µs per batch of 3 step rows, "
          f"{record_us:.1f} µs per report recorded, {snapshot_us:.0f} µs per batch taking a snapshot")
    print(f"cold start to window shown: {min(cold):.2f} s best, {statistics.median(cold):.2f} s median "
          f"of 3  (target <= 3 s)")


if __name__ == "__main__":
    main()
