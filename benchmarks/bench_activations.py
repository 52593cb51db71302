"""What the activation statistics (gptviz/activations.py) add to a diagnostic step.

Interleaved on one fresh thread (as the window's worker trains): the same batch's forward
pass with and without the probe's hooks, in no_grad, so the difference is the hooks' own
work (histograms, percentages, the attention weights recomputed for 4 sequences); and
whole training steps plain, with all diagnostics, and with all diagnostics but the
activation statistics. Medians; the machine is noisy, so compare within one run.

    python benchmarks/bench_activations.py [--preset default] [--reps 40]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared" / "data" / "tinyshakespeare.txt").resolve()


def measure(preset_name: str, reps: int) -> dict[str, list[float]]:
    from gptviz.activations import ActivationProbe
    from gptviz.config import preset
    from gptviz.corpus import Corpus
    from gptviz.trainer import Trainer

    corpus = Corpus.from_file(SHARED)
    t = Trainer(preset(preset_name, max_iters=10**6), corpus)
    for _ in range(5):
        t.step(diagnostics=True)
    probe = ActivationProbe(t.model)
    cfg = t.config
    x, y = corpus.get_batch("train", cfg.batch_size, cfg.block_size, torch.Generator().manual_seed(0))
    times: dict[str, list[float]] = {k: [] for k in ("forward", "forward+probe", "step", "step+diag",
                                                     "step+diag-activations")}
    no_activations = lambda diagnostics: nullcontext({})  # noqa: E731
    for _ in range(reps):
        with torch.no_grad():
            for key, ctx in (("forward", nullcontext), ("forward+probe", probe.recording)):
                t0 = time.perf_counter()
                with ctx():
                    t.model(x, y)
                times[key].append(time.perf_counter() - t0)
        times["step"].append(t.step().dt)
        times["step+diag"].append(t.step(diagnostics=True).dt)
        real, t._recording = t._recording, no_activations
        times["step+diag-activations"].append(t.step(diagnostics=True).dt)
        t._recording = real
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="default")
    ap.add_argument("--reps", type=int, default=40)
    args = ap.parse_args()
    result = {}
    thread = threading.Thread(target=lambda: result.update(measure(args.preset, args.reps)))
    thread.start()
    thread.join()
    med = {k: statistics.median(v) * 1000 for k, v in result.items()}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, preset {args.preset}, "
          f"{args.reps} interleaved repetitions (medians)")
    for k, v in med.items():
        print(f"  {k:24s} {v:7.1f} ms")
    hooks = med["forward+probe"] - med["forward"]
    print(f"activation statistics: +{hooks:.1f} ms per diagnostic step (forward with - without the probe), "
          f"{hooks / med['step']:.1%} of a plain step; at the window's cadence (every 10th step) "
          f"{hooks / 10:.2f} ms per step on average ({hooks / 10 / med['step']:.2%})")
    print(f"whole diagnostic step: +{med['step+diag'] - med['step']:.1f} ms over a plain step "
          f"(+{med['step+diag-activations'] - med['step']:.1f} ms without the activation statistics)")


if __name__ == "__main__":
    main()
