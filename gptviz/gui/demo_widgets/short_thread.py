"""Run a few milliseconds of torch work on a thread that ends when it is done, and wait for it.

Why not simply on the GUI thread: torch hands even small ops to an OpenMP thread team on the
thread that runs them (measured here: a 32 × 16 @ 16 × 16 matmul, or a binary cross-entropy
over 16 numbers, already did), and while a long-lived thread has such a team the training
view's worker runs at about half speed (DEVELOPERS.md). A thread that ends takes its team
with it. The demos' steps are small, so the GUI thread simply waits for the result: no
signals, no half-finished state, and `result()` is right as soon as a widget is built.

The thread also asks OpenMP for a team of one, for itself only (OpenMP's thread count is a
per-thread setting; `torch.set_num_threads` would change it for threads started later too,
such as a training run's). Tiny ops are faster alone: a training step of the 2-16-16-1
network took ~1 ms on one thread and 5-130 ms with two on a busy 2-core machine, and no team
is started at all. Where torch's OpenMP library cannot be found, the work just runs with
torch's usual threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from ...openmp import alone, openmp_runtime

__all__ = ["alone", "on_short_thread", "openmp_runtime"]

T = TypeVar("T")


def on_short_thread(work: Callable[[], T]) -> T:
    """`work()`, run alone on a new thread that ends with it; its exception, if any, is re-raised here.

    `work` must not touch widgets. Torch's grad mode is per thread: `work` starts with
    gradients enabled whatever the caller's mode.
    """
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            alone()
            outcome["value"] = work()
        except BaseException as e:  # handed to the caller, which knows what to do with it
            outcome["error"] = e

    thread = threading.Thread(target=run, name="gptviz-demo-step", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
