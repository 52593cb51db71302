"""The update:data ratios a preset's weight matrices go through during a headless run.

    python benchmarks/update_ratios.py default [max_iters]

Every 10th step (the window's diagnostic cadence) prints the lr and the smallest and
largest std(Δp)/std(p) among the weight matrices, and which matrix it is. This is the
measurement behind the warning rules in gptviz/warnings_monitor.py (when ratios are judged,
and the wider bound for matrices Muon updates).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gptviz.config import preset
from gptviz.corpus import Corpus
from gptviz.metrics import is_weight_matrix
from gptviz.trainer import Trainer

SHARED = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tinyshakespeare.txt").resolve()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("preset", nargs="?", default="default")
    ap.add_argument("max_iters", nargs="?", type=int, default=None)
    ap.add_argument("--corpus", default=str(SHARED))
    args = ap.parse_args()
    overrides = {} if args.max_iters is None else {"max_iters": args.max_iters}
    trainer = Trainer(preset(args.preset, **overrides), Corpus.from_file(args.corpus))
    while not trainer.done:
        m = trainer.step(diagnostics=(trainer.step_count + 1) % 10 == 0)
        ratios = {k: v for k, v in m.update_ratios.items() if is_weight_matrix(k)}
        if ratios:
            lo, hi = min(ratios, key=ratios.get), max(ratios, key=ratios.get)
            print(f"step {trainer.step_count:5d}  lr {m.lr:.2e}  min {ratios[lo]:.1e} {lo:32s} "
                  f"max {ratios[hi]:.1e} {hi}", flush=True)


if __name__ == "__main__":
    main()
