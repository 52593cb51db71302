"""Timing a layer of neurons: a Python loop against one matmul, and the CPU against a GPU.

These run for a second or two, so the demo calls them on a short-lived thread: big matmuls on
a long-lived thread slow down training on another one (DEVELOPERS.md). Nothing here imports Qt;
progress goes out through a plain callback and cancellation comes in through another.

GPU work is queued, not done, when the call returns: every GPU timing here synchronizes before
reading the clock, and the first call on a device (context start-up, kernel selection) is a
warm-up that is not counted.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

Progress = Callable[[str, float | None], None]     # (what is running, fraction done or None)
ShouldStop = Callable[[], bool]

LOOP_TOLERANCE = dict(rtol=1e-4, atol=1e-3)   # float64 Python sums vs float32 matmul: ~1e-4 apart


class Stopped(Exception):
    """The caller asked to stop (the demo step was left)."""


@dataclass(frozen=True)
class Timing:
    seconds: float          # the median of `repeats` timed calls
    repeats: int


@dataclass(frozen=True)
class LoopVsMatmul:
    neurons: int
    inputs: int
    loop_neurons: int       # how many neurons the loop computed within its time budget
    loop_seconds: float     # measured, for those neurons
    matmul: Timing          # W @ x, all neurons
    max_difference: float   # between the loop's outputs and the matmul's, for the same neurons
    agree: bool             # within LOOP_TOLERANCE
    output_shape: tuple[int, ...]

    @property
    def extrapolated(self) -> bool:
        return self.loop_neurons < self.neurons

    @property
    def loop_seconds_all(self) -> float:
        """The loop's time for all neurons: measured, or scaled up from the ones it did."""
        return self.loop_seconds * self.neurons / self.loop_neurons

    @property
    def speedup(self) -> float:
        return self.loop_seconds_all / self.matmul.seconds


@dataclass(frozen=True)
class DeviceRace:
    device: str                     # "cuda", "mps" or "cpu"
    device_name: str
    batch: int
    cpu_single: Timing              # W @ x on the CPU
    cpu_batch: Timing               # W @ X, X holding `batch` inputs as columns
    device_single: Timing | None    # the same on the GPU, when there is one
    device_batch: Timing | None
    copy_seconds: float | None      # W and X from CPU memory to the GPU's
    max_difference: float | None    # GPU result vs CPU result (different kernels round differently)


def layer(neurons: int, inputs: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random weights W (neurons × inputs) and one input x (inputs,), the same for a seed."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(neurons, inputs, generator=generator), torch.randn(inputs, generator=generator)


def available_device() -> str:
    """What `.to(device)` could use here: "cuda", "mps" (Apple GPUs) or "cpu"."""
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    if device == "mps":
        return "Apple GPU (Metal, MPS)"
    return "CPU"


def synchronize(device: str) -> None:
    """Wait until the device has finished the work queued on it."""
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


def time_matmul(a: torch.Tensor, b: torch.Tensor, min_seconds: float = 0.2, max_repeats: int = 500,
                cancelled: ShouldStop | None = None) -> Timing:
    """The median time of `a @ b` on the device they are on, after one untimed warm-up call."""
    device = a.device.type
    a @ b
    synchronize(device)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_repeats and (len(times) < 3 or time.perf_counter() - start < min_seconds):
        if cancelled and cancelled():
            raise Stopped()
        t0 = time.perf_counter()
        a @ b
        synchronize(device)
        times.append(time.perf_counter() - t0)
    return Timing(statistics.median(times), len(times))


def python_loop_layer(W: torch.Tensor, x: torch.Tensor, budget_seconds: float,
                      progress: Progress | None = None,
                      cancelled: ShouldStop | None = None) -> tuple[list[float], float]:
    """Each neuron's weighted sum with plain Python numbers, one multiply-add at a time, for as
    many neurons as fit in `budget_seconds` (at least one). Returns (outputs, seconds), where
    seconds counts the arithmetic only, not turning rows of W into Python lists."""
    inputs = x.tolist()
    outputs: list[float] = []
    seconds = 0.0
    for row_tensor in W:
        if cancelled and cancelled():
            raise Stopped()
        row = row_tensor.tolist()
        t0 = time.perf_counter()
        total = 0.0
        for w, v in zip(row, inputs):
            total += w * v
        seconds += time.perf_counter() - t0
        outputs.append(total)
        if progress and len(outputs) % 10 == 0:
            progress("loop", min(1.0, max(len(outputs) / len(W), seconds / budget_seconds)))
        if seconds >= budget_seconds:
            break
    return outputs, seconds


def race_loop_vs_matmul(neurons: int = 1000, inputs: int = 2000, seed: int = 0,
                        loop_budget_seconds: float = 1.0, progress: Progress | None = None,
                        cancelled: ShouldStop | None = None) -> LoopVsMatmul:
    """One layer computed twice: neuron by neuron in Python, and as one `W @ x`. Raises
    Stopped when `cancelled()` turns true."""
    W, x = layer(neurons, inputs, seed)
    outputs, loop_seconds = python_loop_layer(W, x, loop_budget_seconds, progress, cancelled)
    if progress:
        progress("matmul", None)
    timing = time_matmul(W, x, cancelled=cancelled)
    y = W @ x
    done = torch.tensor(outputs, dtype=torch.float32)
    difference = (done - y[:len(outputs)]).abs().max().item()
    agree = torch.allclose(done, y[:len(outputs)], **LOOP_TOLERANCE)
    return LoopVsMatmul(neurons, inputs, len(outputs), loop_seconds, timing, difference, agree,
                        tuple(y.shape))


def race_cpu_vs_device(neurons: int = 1000, inputs: int = 2000, batch: int = 1000, seed: int = 0,
                       device: str | None = None, progress: Progress | None = None,
                       cancelled: ShouldStop | None = None) -> DeviceRace:
    """W @ x and W @ X (a batch of inputs) timed on the CPU, and on the GPU when there is one,
    with the copy to the GPU timed on its own: on a GPU, moving data costs time too."""
    device = device or available_device()
    W, x = layer(neurons, inputs, seed)
    X = torch.randn(inputs, batch, generator=torch.Generator().manual_seed(seed + 1))
    if progress:
        progress("cpu", None)
    cpu_single = time_matmul(W, x, min_seconds=0.1, cancelled=cancelled)
    cpu_batch = time_matmul(W, X, min_seconds=0.3, max_repeats=20, cancelled=cancelled)
    if device == "cpu":
        return DeviceRace(device, device_name(device), batch, cpu_single, cpu_batch, None, None, None, None)
    if progress:
        progress(device, None)
    torch.empty(1, device=device)                 # start the device up before timing the copy
    synchronize(device)
    t0 = time.perf_counter()
    W_dev, x_dev, X_dev = W.to(device), x.to(device), X.to(device)
    synchronize(device)
    copy_seconds = time.perf_counter() - t0
    device_single = time_matmul(W_dev, x_dev, min_seconds=0.1, cancelled=cancelled)
    device_batch = time_matmul(W_dev, X_dev, min_seconds=0.1, cancelled=cancelled)
    difference = ((W_dev @ X_dev).cpu() - W @ X).abs().max().item()
    return DeviceRace(device, device_name(device), batch, cpu_single, cpu_batch, device_single, device_batch,
                      copy_seconds, difference)


def seconds_text(seconds: float) -> str:
    """0.000012 -> '12 µs', 0.0034 -> '3.4 ms', 2.5 -> '2.5 s'."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"
