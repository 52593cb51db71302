"""Wall-clock training time for `default` and `cpu` to reach a validation loss.

Both presets train on Tiny Shakespeare in one run of this script, one after the
other. Every 100 steps the validation loss is measured over 100 batches (the same
batches every time); the clock counts optimizer steps only, not evaluations. The
script prints each preset's time to reach the target and their ratio.

    python benchmarks/time_to_loss.py [--target 1.90] [--corpus PATH]
        [--presets default,cpu] [--set KEY=VALUE ...]   # --set applies to the first preset
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from gptviz.config import parse_assignments, preset
from gptviz.corpus import Corpus
from gptviz.trainer import Trainer

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tinyshakespeare.txt"


def time_to_loss(config, corpus, target, eval_every, eval_batches):
    trainer = Trainer(config, corpus)
    train_seconds = 0.0
    while not trainer.done:
        m = trainer.step()
        train_seconds += m.dt
        if trainer.step_count % eval_every == 0 or trainer.done:
            t0 = time.perf_counter()
            val = trainer.estimate_loss(eval_batches, splits=("val",)).val_loss
            print(f"  step {trainer.step_count:5d}  val {val:.4f}  train-time {train_seconds:7.1f}s"
                  f"  (eval {time.perf_counter() - t0:.1f}s)", flush=True)
            if val <= target:
                return train_seconds, trainer.step_count, val, True
    return train_seconds, trainer.step_count, val, False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", type=float, default=1.90)
    ap.add_argument("--corpus", default=str(SHARED))
    ap.add_argument("--presets", default="default,cpu")
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-batches", type=int, default=100)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    corpus = Corpus.from_file(args.corpus)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, corpus {args.corpus}")
    results = {}  # name -> (seconds, reached)
    for i, name in enumerate(args.presets.split(",")):
        overrides = parse_assignments(args.set) if i == 0 else {}
        config = preset(name, **overrides)
        print(f"{name}: {config}", flush=True)
        seconds, steps, val, reached = time_to_loss(config, corpus, args.target, args.eval_every,
                                                    args.eval_batches)
        results[name] = (seconds, reached)
        if reached:
            print(f"{name}: val {val:.4f} <= {args.target} after {steps} steps, {seconds:.1f} s of training")
        else:
            print(f"{name}: did not reach val {args.target} in its {steps} steps ({seconds:.1f} s, "
                  f"last val {val:.4f}); its time to the target is more than {seconds:.1f} s")
    names = list(results)
    if len(names) == 2:
        (a, (ta, ra)), (b, (tb, rb)) = results.items()
        if ra and rb:
            print(f"ratio {a}/{b}: {ta / tb:.3f}  (target <= 0.5)")
        elif ra:  # b's real time is longer than tb, so the true ratio is smaller than this
            print(f"ratio {a}/{b}: < {ta / tb:.3f}  ({b} never reached the target; target <= 0.5)")
        else:
            print(f"ratio {a}/{b}: undefined, {a} did not reach the target")

if __name__ == "__main__":
    main()
