"""What watching a run directory costs the GUI thread (File → Watch run directory…).

Writes a long run (100k steps with an evaluation every 250, and 400 samples) into a
temporary folder, then:
- the engine alone (run_follow.RunFollower): polls to catch up, the longest poll, and
  what a poll of an unchanged folder costs;
- the real window: each RunWatch.poll() while catching up (reading, parsing and handing
  rows to the plots, samples and warnings; the drawing itself is the plots' own, timed by
  bench_plots.py), and an idle poll.
A poll blocks the GUI thread for its duration, so the longest poll is the figure to watch.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_watch.py [--steps 100000] [--budget 65536]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gptviz.run_follow import READ_BUDGET, RunFollower  # noqa: E402
from gptviz.runlog import MetricsLog, write_config  # noqa: E402
from gptviz.samplelog import append_sample, sample_row  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / ".." / "shared" / "data" / "tinyshakespeare.txt"


def write_long_run(folder: Path, steps: int) -> None:
    write_config(folder, {"n_layer": 2, "n_head": 2, "n_embd": 32, "block_size": 32, "max_iters": steps})
    with MetricsLog(folder) as log:
        for s in range(1, steps + 1):
            log.write({"step": s, "loss": 4.0 / (1 + s / 1000), "lr": 1e-3, "grad_norm": 0.5,
                       "tokens_per_sec": 12345.0, "time": 0.04 * s})
            if s % 250 == 0:
                log.write({"step": s, "train_loss": 2.0, "val_loss": 2.1})
    for s in range(steps // 400, steps + 1, max(1, steps // 400)):
        append_sample(folder, sample_row(s, 2.1, "", "To be, or not to be " * 15, temperature=0.8,
                                         top_k=None, top_p=None, max_new_tokens=300, seed=s))


def engine(folder: Path, budget: int) -> None:
    follower = RunFollower(folder, budget=budget)
    times, rows = [], 0
    while True:
        t = time.perf_counter()
        changes = follower.poll()
        times.append(time.perf_counter() - t)
        rows += len(changes.metrics)
        if not changes.more:
            break
    idle = []
    for _ in range(200):
        t = time.perf_counter()
        follower.poll()
        idle.append(time.perf_counter() - t)
    print(f"engine:  {rows:,} rows in {len(times)} polls, {sum(times):.2f} s in all; longest poll "
          f"{max(times) * 1e3:.1f} ms, median {statistics.median(times) * 1e3:.1f} ms; "
          f"unchanged folder {statistics.median(idle) * 1e6:.0f} µs a poll")


def window(folder: Path, budget: int) -> None:
    from PySide6.QtWidgets import QApplication

    from gptviz import run_follow
    from gptviz.gui import build_main_window

    os.environ["GPTVIZ_SETTINGS_FILE"] = str(folder.parent / "settings.ini")
    w = build_main_window(["--corpus", str(CORPUS.resolve()), "--preset", "tiny"])
    w.show()
    app = QApplication.instance()
    start = time.perf_counter()
    while w.corpus is None and time.perf_counter() - start < 30:
        app.processEvents()
    default, run_follow.READ_BUDGET = run_follow.READ_BUDGET, budget
    try:
        t = time.perf_counter()
        w.watch_run(folder)  # its first poll included
        times = [time.perf_counter() - t]
        watch = w.watch
        watch.timer.stop()  # polled here, one after another, to time each
        while watch.follower.last_step != watch.max_iters or watch.timer.interval() == 0:
            t = time.perf_counter()
            watch.poll()
            times.append(time.perf_counter() - t)
            watch.timer.stop()
        idle = []
        for _ in range(50):
            t = time.perf_counter()
            watch.poll()
            idle.append(time.perf_counter() - t)
            watch.timer.stop()
    finally:
        run_follow.READ_BUDGET = default
    print(f"window:  caught up in {len(times)} polls, {sum(times):.2f} s in all; longest poll "
          f"{max(times) * 1e3:.1f} ms, median {statistics.median(times) * 1e3:.1f} ms; "
          f"unchanged folder {statistics.median(idle) * 1e6:.0f} µs a poll")
    w.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--budget", type=int, default=READ_BUDGET,
                   help="bytes read from each file per poll")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        folder.mkdir()
        write_long_run(folder, args.steps)
        size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
        print(f"{args.steps:,} steps, {size:.1f} MB in the run directory; "
              f"budget {args.budget:,} bytes a poll")
        engine(folder, args.budget)
        window(folder, args.budget)


if __name__ == "__main__":
    main()
