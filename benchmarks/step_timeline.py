"""Where a training step's time goes, block by block, so the machine's modes show.

Prints, for each block of steps, the medians (ms) of: the whole step; the shards' forward
and backward with the gradients added up (`shards`, shard_grads.run); clipping (`clip`);
the optimizers (`optimizer`); and the rest (`other`: the batch, the loss, the bookkeeping).
This machine switches between a fast and a slow mode every half minute or so; a block in
the slow mode shows which part grows.

With --probe-writes, every weight is also written once (multiplied by 1.0) just before the
optimizers and timed as `writes`: the cost of taking the weights' cache lines back from the
other core, which read them in its shard (session 11: ~0.25 ms in the fast mode, 0.8-1.25
ms in the slow one, for `cpu`'s 3.2 MB). The step then costs that much more.

    python benchmarks/step_timeline.py [--preset cpu] [--blocks 20] [--steps 40] [--probe-writes]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from gptviz import shard_grads
from gptviz.config import preset
from gptviz.corpus import Corpus
from gptviz.trainer import Trainer

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tinyshakespeare.txt"


def timed(marks: dict, name: str, function):
    """function, recording how long each call took under `name`."""
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            marks[name] = marks.get(name, 0.0) + time.perf_counter() - t0
    return wrapper


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--blocks", type=int, default=20)
    ap.add_argument("--steps", type=int, default=40, help="steps per block")
    ap.add_argument("--probe-writes", action="store_true")
    ap.add_argument("--corpus", default=str(SHARED))
    args = ap.parse_args()
    trainer = Trainer(preset(args.preset, max_iters=10**7), Corpus.from_file(args.corpus))
    print(f"{args.preset}: {trainer._shards(trainer.model)} shards a step, torch {torch.__version__}")
    marks: dict[str, float] = {}
    shard_grads.run = timed(marks, "shards", shard_grads.run)
    trainer._clip_gradients = timed(marks, "clip", trainer._clip_gradients)
    weights = [p for _, p in trainer.named]
    for opt in trainer.optimizers:
        step = timed(marks, "optimizer", opt.step)
        if args.probe_writes:
            def step(*a, _step=step, **k):
                with torch.no_grad():
                    timed(marks, "writes", torch._foreach_mul_)(weights, 1.0)
                return _step(*a, **k)
        opt.step = step
    for _ in range(10):
        trainer.step()
    for block in range(args.blocks):
        rows = []
        for _ in range(args.steps):
            marks.clear()
            t0 = time.perf_counter()
            trainer.step()
            marks["step"] = time.perf_counter() - t0
            marks["other"] = marks["step"] - sum(v for k, v in marks.items() if k != "step")
            rows.append(dict(marks))
        print(f"block {block:3d}: " + "  ".join(
            f"{name} {statistics.median(row.get(name, 0.0) for row in rows) * 1000:6.2f}"
            for name in ("step", "shards", "clip", "writes", "optimizer", "other")
            if name != "writes" or args.probe_writes), flush=True)


if __name__ == "__main__":
    main()
