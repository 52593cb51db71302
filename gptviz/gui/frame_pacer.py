"""How often the live plots redraw: at most ~30 times a second, and while a run trains,
only as often as keeps the GUI thread within a small share of one CPU core.

Why: on a laptop with 2 cores, torch trains on both, so every millisecond the GUI thread
spends drawing is taken from a training thread, and its partner then waits for it at the
next barrier. With a redraw on every step the window trained `default` 11-25% slower than
headless (benchmarks/bench_gui.py). The pacer reads the GUI thread's own CPU time
(`time.thread_time`) against the wall clock every half second and stretches the interval
between redraws until the thread's share is within the budget (or the interval reaches a
second); it shrinks it again when there is room. Only new data from the run waits that
long: while no run trains (idle, paused, a watched run), and for the user's own changes
(a snapshot chosen on the timeline, a setting, a zoom), the plots get ~30 frames a second.

There is one GUI thread, so there is one pacer: `PACER`. The window tells it when a run
starts or stops training (`set_training`), and whether the user asked for smooth plots
at any cost (`budget = None`).
"""

from __future__ import annotations

import math
import time

FASTEST_MS = 33  # ~30 frames a second
SLOWEST_MS = 1000
# Of one core, while training. Each % of a core the GUI thread takes costs training 1.5-2 %
# (its painting also slows the other core's memory traffic; DEVELOPERS.md). bench_gui with
# the Curves tab shown: 3 % gave 0.935 x headless (redraws every ~300 ms); 2 % gave 0.982,
# 0.960, 0.962 and 0.960 (every ~400-450 ms, with rows at least every 0.25 s).
DEFAULT_BUDGET = 0.02
SAMPLE_SECONDS = 0.5  # how often the share is measured and the interval adjusted
# Seconds: new step rows reach the window this often however slow the plots, as often as the
# status line shows them (status_bar.SHOW_EVERY_S).
ROWS_AT_LEAST_EVERY = 0.25


class FramePacer:
    """The interval between two redraws, from the GUI thread's measured CPU share."""

    def __init__(self, budget: float | None = DEFAULT_BUDGET, clock=time.monotonic,
                 cpu_clock=time.thread_time):
        self.budget = budget
        self.training = False
        self.share: float | None = None  # the GUI thread's CPU share last measured while training
        self._clock, self._cpu_clock = clock, cpu_clock
        self._interval = float(FASTEST_MS)
        self._since: tuple[float, float] | None = None  # (wall, cpu) when the share was last read

    def set_training(self, training: bool) -> None:
        """A run started or stopped training; measuring starts afresh either way. The
        interval found while training is kept for the next time a run trains (resume after
        a pause, the next run): a frame costs about the same then, and starting again from
        ~30 frames a second spent the first 2-3 s of every resume drawing at the training's
        expense (the interval takes 0.5 s per doubling to get back)."""
        if training != self.training:
            self.training = training
            self._since = None
            self.share = None

    @property
    def current_ms(self) -> int:
        """The interval now, without measuring (e.g. for a benchmark to report)."""
        if not self.training or self.budget is None:
            return FASTEST_MS
        return round(self._interval)

    def rows_every(self) -> float:
        """Seconds between two deliveries of new step rows from the training thread (which
        may call this): as often as the plots redraw, from ~30 a second down to
        ROWS_AT_LEAST_EVERY (the status line's step counter). Each delivery costs the GUI
        thread its bookkeeping (histories, timeline, run log, status line), ~0.45 ms:
        `default`'s ~18 steps a second, sent one by one, were 18 deliveries a second; at
        most 10 until session 10, now 4 while the plots redraw less often than that."""
        return min(ROWS_AT_LEAST_EVERY, self.current_ms / 1000)

    def interval_ms(self) -> int:
        """Milliseconds to wait before the next redraw, measured and adjusted now (call on
        the GUI thread)."""
        if not self.training or self.budget is None:
            return FASTEST_MS
        now, cpu = self._clock(), self._cpu_clock()
        if self._since is None:
            self._since = (now, cpu)
        elif now - self._since[0] >= SAMPLE_SECONDS:
            self.share = (cpu - self._since[1]) / (now - self._since[0])
            # Drawing costs about the same per frame, so the share scales with 1 / interval;
            # the square root and the clamp keep a noisy reading from swinging it too far.
            factor = min(2.0, max(0.5, math.sqrt(self.share / self.budget)))
            self._interval = min(SLOWEST_MS, max(FASTEST_MS, self._interval * factor))
            self._since = (now, cpu)
        return self.current_ms


PACER = FramePacer()
