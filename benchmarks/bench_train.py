"""Training throughput against this machine's own fp32 matmul peak, in one run.

Prints: the peak (GFLOP/s, best of square matmuls, measured between rounds of training),
tokens/s and model-FLOPs utilisation for the `cpu` preset (and `default`), each round
against the peak measured just before and after it, and what the optional diagnostics
(per-parameter grad norms, update:data ratios, gradient histograms) cost per step.
Both presets are also run with their batches not split across threads (batch_shards.py;
`Trainer(split_batches=False)`), in the same rounds, and the ratio of the two is printed.

    python benchmarks/bench_train.py [--steps 150] [--corpus PATH]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from gptviz.config import preset
from gptviz.corpus import Corpus
from gptviz.trainer import Trainer

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tinyshakespeare.txt"


def matmul_peak(rounds: int = 7, device: str = "cpu", dtype: torch.dtype = torch.float32,
                sizes: tuple[int, ...] = (512, 1024, 2048), flops_per_round: float = 4e9) -> float:
    """Best over sizes of the median rate (GFLOP/s) of square matmuls (robust to one lucky
    run). On a GPU, pass bigger sizes and rounds worth more FLOPs; the clock is read only
    after the device has finished."""
    from gptviz.devices import synchronize
    dev = torch.device(device)
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n, device=dev, dtype=dtype), torch.randn(n, n, device=dev, dtype=dtype)
        repeats = max(2, int(flops_per_round / (2 * n**3)))
        for _ in range(3):
            a @ b
        rates = []
        for _ in range(rounds):
            synchronize(dev)
            t0 = time.perf_counter()
            for _ in range(repeats):
                a @ b
            synchronize(dev)
            rates.append(repeats * 2 * n**3 / (time.perf_counter() - t0) / 1e9)
        best = max(best, statistics.median(rates))
    return best


def step_times(trainer: Trainer, steps: int, diagnostics: bool = False) -> list[float]:
    return [trainer.step(diagnostics=diagnostics).dt for _ in range(steps)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--corpus", default=str(SHARED))
    args = ap.parse_args()
    corpus = Corpus.from_file(args.corpus)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    trainers = {name: Trainer(preset(name, max_iters=10**6), corpus) for name in ("cpu", "default")}
    for name in ("cpu", "default"):
        trainers[f"{name}, not split"] = Trainer(preset(name, max_iters=10**6), corpus, split_batches=False)
    for t in trainers.values():
        step_times(t, 10)  # warm up
    # This machine switches between a fast and a slow mode every half minute or so: the
    # peak is measured between the rounds of training, and each round's utilisation is
    # taken against the peaks just before and after it (the median round is the figure).
    peaks = [matmul_peak()]
    rounds = 3
    times = {name: [[] for _ in range(rounds)] for name in trainers}
    diag_times, plain_times = [], []
    for r in range(rounds):  # interleave so that both presets see the same machine conditions
        for name, t in trainers.items():
            times[name][r] += step_times(t, args.steps // rounds)
        for _ in range(args.steps // 6):  # alternate single steps with and without diagnostics
            plain_times += step_times(trainers["cpu"], 1)
            diag_times += step_times(trainers["cpu"], 1, diagnostics=True)
        peaks.append(matmul_peak())
    print("fp32 matmul peak, between the rounds: " + ", ".join(f"{p:.1f}" for p in peaks) + " GFLOP/s")
    for name, t in trainers.items():
        per_round = []
        for r in range(rounds):
            dt = statistics.median(times[name][r])
            gflops = t.model.flops_per_token() * t.tokens_per_step / dt / 1e9
            per_round.append((gflops / statistics.mean(peaks[r:r + 2]), dt, gflops))
        mfu, dt, gflops = sorted(per_round)[rounds // 2]
        print(f"{name:18s}: {dt * 1000:6.1f} ms/step, {t.tokens_per_step / dt:8,.0f} tokens/s, "
              f"{gflops:6.1f} GFLOP/s, MFU {mfu:.0%} of the peak measured around it "
              f"(rounds: {', '.join(f'{m:.0%}' for m, _, _ in per_round)}; "
              f"{t.model.num_params() / 1e6:.2f}M params)")
    for name in ("cpu", "default"):
        split = [statistics.median(r) for r in times[name]]
        whole = [statistics.median(r) for r in times[f"{name}, not split"]]
        print(f"{name}: split batches train {statistics.median(w / s for w, s in zip(whole, split)):.2f}x "
              f"as fast as unsplit (rounds: {', '.join(f'{w / s:.2f}' for w, s in zip(whole, split))})")
    plain, diag = statistics.median(plain_times), statistics.median(diag_times)
    print(f"diagnostics (cpu preset): +{(diag - plain) * 1000:.1f} ms per step with them "
          f"({(diag - plain) / plain:.0%} of a step); zero when off")


if __name__ == "__main__":
    main()
