"""How long Pause takes in the window, pressed at random moments of a step.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_pause.py [--preset lecture] [--presses 20]

The window trains the preset; at a random moment within a step (uniform over one step's
measured duration) Pause is pressed (as the button does: `toggle_pause`), and the time until
the window shows "paused" is taken, polling the event loop every 2 ms. Then Resume, and
again. Prints the median, 90th percentile and worst (target: ≤ 200 ms, issue 3), and the
step time for scale. A step in progress is abandoned on Pause when steps are long (the
last took ≥ 0.1 s, worker.WATCH_STEPS_LONGER_THAN), so for those the figure is how long the
longest single stretch without a stop check lasts (one torch call, or a stretch between the
trainer's stop points), plus the signal's trip to the GUI thread; a shorter step is
finished first.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from bench_gui import SHARED, use_scratch_folders


def wait(app, until, limit: float) -> float:
    """Process events until `until()` holds; seconds taken."""
    t0 = time.perf_counter()
    while not until():
        app.processEvents()
        if time.perf_counter() - t0 > limit:
            raise TimeoutError("the window did not get there in time")
        time.sleep(0.002)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="lecture")
    ap.add_argument("--presses", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    use_scratch_folders()

    from PySide6.QtWidgets import QMessageBox

    from gptviz.gui import build_main_window
    from gptviz.gui.app import ensure_app
    app = ensure_app()
    extra = [a for kv in args.set for a in ("--set", kv)]
    window = build_main_window(["--corpus", str(SHARED), "--preset", args.preset,
                                "--set", "max_iters=1000000", "--set", "eval_interval=1000000", *extra])
    window.resize(1400, 900)
    window.show()
    wait(app, lambda: window.corpus is not None, 60)
    window.samples.findChild(object, "sampleEvery").setValue(0)  # steps only: the worst case is a step
    window.start()
    wait(app, lambda: window.last_step >= 3, 600)
    steps0, t0 = window.last_step, time.perf_counter()
    wait(app, lambda: window.last_step >= steps0 + 2, 600)
    step_s = (time.perf_counter() - t0) / (window.last_step - steps0)
    rng = random.Random(args.seed)
    latencies = []
    for _ in range(args.presses):
        target = window.last_step + 1  # a step begun: press somewhere inside the next one
        wait(app, lambda target=target: window.last_step >= target, 600)
        deadline = time.perf_counter() + rng.uniform(0, step_s)
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.001)
        t = time.perf_counter()
        window.toggle_pause()
        wait(app, lambda: window.state == "paused", 30)
        latencies.append((time.perf_counter() - t) * 1000)
        window.toggle_pause()  # resume
        wait(app, lambda: window.state == "running", 30)
    window.stop()
    wait(app, lambda: not window.active(), 60)
    window.ask_save_on_close = lambda: QMessageBox.StandardButton.Discard  # nothing to keep
    window.close()
    latencies.sort()
    p90 = latencies[min(len(latencies) - 1, int(0.9 * len(latencies)))]
    median = statistics.median(latencies)
    print(f"preset {args.preset} {' '.join(args.set)}: one step {step_s * 1000:.0f} ms; Pause pressed "
          f"{len(latencies)} times at random moments of a step: median {median:.0f} ms, "
          f"p90 {p90:.0f} ms, worst {latencies[-1]:.0f} ms (target ≤ 200 ms)")


if __name__ == "__main__":
    main()
