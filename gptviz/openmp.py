"""Keeping torch's OpenMP threads to the thread that trains.

Torch hands even small ops to an OpenMP thread team on whichever thread runs them, and while
a long-lived thread other than the training thread has such a team, training runs at about
half speed (DEVELOPERS.md). OpenMP's thread count is a per-thread setting, so `alone()` asks
for a team of one on the calling thread only (`torch.set_num_threads` would also change the
default for threads started later, such as a training run's). The window calls it on its GUI
thread at start-up, so the autograd explorer and the demos can run their small tensors there
without starting a team; the training worker keeps torch's usual threads, and `one_thread()`
narrows them to one for the span of a step whose batch is split across threads
(batch_shards.py), whose helper threads are `alone()`.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch


@functools.cache
def openmp_runtime() -> ctypes.CDLL | None:
    """The OpenMP library torch runs on, or None where it cannot be found safely.

    Only a library torch has already loaded is used (loading a second OpenMP runtime into a
    process can abort it): on Linux one mapped into this process, torch's own first; on
    macOS the libomp.dylib torch ships and links to; elsewhere none.
    """
    torch_dir = str(Path(torch.__file__).parent)
    candidates: list[str] = []
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/maps", encoding="utf-8") as maps:
                names = {line.split()[-1] for line in maps if "/" in line}
        except OSError:
            names = set()
        candidates = sorted((n for n in names if Path(n).name.startswith(("libgomp", "libomp", "libiomp5"))),
                            key=lambda n: not n.startswith(torch_dir))
    elif sys.platform == "darwin":
        candidates = [str(p) for p in (Path(torch_dir) / "lib").glob("libomp*.dylib")]
    for path in candidates:
        try:
            library = ctypes.CDLL(path)
            library.omp_set_num_threads.argtypes = [ctypes.c_int]
            return library
        except (OSError, AttributeError):
            continue
    return None


def alone() -> None:
    """Make torch's ops on the calling thread run on that thread alone (and nowhere else)."""
    torch.get_num_threads()   # torch's own per-thread set-up first, or it would undo this later
    runtime = openmp_runtime()
    if runtime is not None:
        runtime.omp_set_num_threads(1)


@contextmanager
def one_thread() -> Iterator[None]:
    """Within the block, torch's ops on the calling thread run on that thread alone; the
    thread's own count comes back afterwards. Nothing changes where the runtime is unknown
    (callers that need the guarantee check `openmp_runtime()` first)."""
    before = torch.get_num_threads()  # this thread's count (and torch's set-up done first)
    runtime = openmp_runtime()
    if runtime is None or before == 1:
        yield
        return
    runtime.omp_set_num_threads(1)
    try:
        yield
    finally:
        runtime.omp_set_num_threads(before)
