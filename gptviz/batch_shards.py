"""One batch, several threads: data parallelism inside one process, for training on a CPU.

torch spreads each op of a step over the cores (OpenMP), so every op of a small model
ends in a hand-off between cores, and the cores keep passing each other's results through
their caches. On the 2-core development machine that costs a third of a `cpu` step when
the two virtual cores sit far apart on the host (a cache line takes ~450 ns to go from one
to the other and back, measured with a ping-pong; ~60-130 ns when they are close; the
host moves them every half minute or so).

Here the batch is cut into shards of whole sequences instead, one per thread. Each shard
runs its forward and backward pass on its own thread with torch limited to that thread,
so the cores share only the weights (read) and the shards' gradients (added once, at the
end, always in shard order: the sum, and so a run, is the same every time). The step is
the same computation as the unsplit one up to float rounding: each shard's loss is
weighted by its share of the batch. `benchmarks/bench_train.py` measures what it pays.

`shard_count` says how many shards a step can use; `run` runs them; `map_parts` and
`share_out` share a list of independent pieces of work out between the threads. How a
step's gradients are added up across the shards is shard_grads.py's.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch

from .openmp import alone, one_thread, openmp_runtime

T = TypeVar("T")

MAX_SHARDS = 8  # each shard's Python runs under the GIL in turn: measured with 2 only
# Smaller shards lose more to the hand-off and to running the model's Python twice than they
# gain (2 cores: a 161-MFLOP step 0.91x as fast split in two, 549 MFLOP 0.97x, 1.1 GFLOP 1.02x,
# all in the fast mode; `cpu`'s 4 GFLOP 1.26x over both modes).
MIN_SHARD_FLOPS = 4e8
THREAD_NAME = "gptviz-shard"  # the helpers' name, in Python and (on Linux) in the OS's lists

_lock = threading.Lock()
_helpers: list[ThreadPoolExecutor] = []  # helper i runs shard i + 1 of every split


def shard_count(batch_size: int, flops: float, threads: int | None = None) -> int:
    """Shards for a batch of batch_size sequences whose pass costs `flops`, on the calling
    thread: one per thread torch may use there, but at least one sequence and
    MIN_SHARD_FLOPS each and at most MAX_SHARDS; 1 (no split) where torch's thread count
    cannot be set per thread."""
    threads = torch.get_num_threads() if threads is None else threads
    if threads < 2 or batch_size < 2 or openmp_runtime() is None:
        return 1
    return max(1, min(threads, batch_size, MAX_SHARDS, int(flops // MIN_SHARD_FLOPS)))


def _start_helper() -> None:
    """A new helper thread: torch on this thread alone, and its own name for the OS (a new
    thread otherwise shows its creator's, e.g. the window's "gptviz-training")."""
    alone()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(15, THREAD_NAME.encode())  # PR_SET_NAME
        except (OSError, AttributeError):
            pass


def _pool(helpers: int) -> list[ThreadPoolExecutor]:
    """The helper threads, one executor each: made on first use, more when a step needs
    more, idle (blocked, costing nothing) between steps, kept for the life of the process
    like torch's own. Shard i always runs on helper i - 1, so what a thread keeps from one
    step to the next (its part of the parameters, shard_grads.py; its memory) stays with it."""
    with _lock:
        while len(_helpers) < helpers:
            _helpers.append(ThreadPoolExecutor(1, thread_name_prefix=THREAD_NAME,
                                               initializer=_start_helper))
        return _helpers


def run(work: Callable[[int], T], shards: int, yields: tuple[type[BaseException], ...] = ()) -> list[T]:
    """work(i) for every shard i: shard 0 on the calling thread, the others on helper
    threads, all with torch on one thread each. Returns the results in shard order once
    every shard has finished. If any failed, raises the one that says most: a failure of
    none of the `yields` types, else one of the first of those types, then the second...
    (an interrupted shard says less than one that broke, and one that stopped because its
    partner failed says less still); the first in shard order among equals."""
    if shards == 1:
        return [work(0)]
    helpers = _pool(shards - 1)
    futures = [helpers[i - 1].submit(work, i) for i in range(1, shards)]
    outcomes: list = []
    with one_thread():
        try:
            outcomes.append((True, work(0)))
        except BaseException as e:  # noqa: BLE001 - re-raised below, after the helpers finish
            outcomes.append((False, e))
    for future in futures:
        try:
            outcomes.append((True, future.result()))
        except BaseException as e:  # noqa: BLE001
            outcomes.append((False, e))
    failures = [e for ok, e in outcomes if not ok]
    if failures:
        raise min(failures, key=lambda e: next(
            (rank for rank, kind in enumerate(yields, 1) if isinstance(e, kind)), 0))
    return [value for _, value in outcomes]


def parts(items: list, shards: int, weight: Callable[[object], float] = lambda item: 1.0) -> list[list]:
    """`items` cut into consecutive parts of about equal total weight, at most `shards`
    (and at least one, perhaps empty)."""
    cut: list[list] = [[]]
    total = sum(weight(item) for item in items)
    done = 0.0
    for item in items:
        if cut[-1] and len(cut) < shards and done >= total * len(cut) / shards:
            cut.append([])
        cut[-1].append(item)
        done += weight(item)
    return cut


def map_parts(work: Callable[[list], T], items: list, shards: int,
              weight: Callable[[object], float] = lambda item: 1.0) -> list[T]:
    """work(part) for each of `parts(items, shards, weight)`, on threads as `run` runs
    shards; the results in the items' order."""
    cut = parts(items, shards, weight)
    return run(lambda i: work(cut[i]), len(cut))


def share_out(work: Callable[[object], None], items: list, shards: int,
              cost: Callable[[object], float] = lambda item: 1.0) -> None:
    """work(item) for every item, on up to `shards` threads as `run` runs shards, each
    thread taking the costliest item left whenever it is free. A thread held up (by another
    process, or the window's GUI thread, taking its core) so takes fewer items and the
    others more, where fixed parts would leave them waiting for it at the end. Which thread
    does an item varies; what work(item) computes must not depend on it."""
    queue = sorted(items, key=cost)  # (taken from the end: the costliest first)
    lock = threading.Lock()

    def take(_shard: int) -> None:
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop()
            work(item)

    run(take, max(1, min(shards, len(items))))
