"""Training throughput as 1 process and as 2 (DistributedDataParallel over gloo, on the CPU).

Runs `gptviz train` as a user would: one process with as many threads as this machine has
cores, one process with one thread, and, through torchrun, 2 processes of one thread each.
Each process keeps the preset's batch (the `cpu` preset: 12 × 64 tokens), so 2 processes
train on twice the tokens per step; tokens/s counts all of them, from rank 0's step times
(metrics.jsonl's `time`: optimizer steps only, evaluation excluded), after warm-up steps.
The configurations alternate, round after round, so each sees the same machine conditions.

    python benchmarks/bench_ddp.py [--steps 150] [--rounds 2] [--preset cpu]

On a 2-core machine little or no speed-up is expected: the 2 processes share the cores that
one process's 2 threads would use, and add a gradient all-reduce to every step. The
figures are the point.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_train import SHARED

from gptviz.config import preset
from gptviz.runlog import read_metrics

WARMUP_STEPS = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(processes: int, threads: int, args: argparse.Namespace) -> float:
    """tokens/s of one `gptviz train` run with this many processes and threads each."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        train = ["-m", "gptviz", "train", "--preset", args.preset, "--corpus", args.corpus,
                 "--out", str(out), "--max-iters", str(args.steps), "--eval-interval", str(10**9),
                 "--eval-iters", "1", "--sample-chars", "0", "--device", "cpu"]
        if processes > 1:
            cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={processes}",
                   "--nnodes=1", "--master_addr=127.0.0.1", f"--master_port={free_port()}", *train]
        else:
            cmd = [sys.executable, *train]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
        if r.returncode != 0:
            shown = "\n".join(line for line in r.stderr.splitlines() if "%|" not in line)  # no bars
            raise SystemExit(f"bench_ddp: {' '.join(cmd)} failed (exit status {r.returncode}):\n{shown}")
        rows = [row for row in read_metrics(out / "metrics.jsonl") if "loss" in row]
    config = preset(args.preset)
    tokens_per_step = config.batch_size * config.block_size * config.grad_accum * processes
    timed = rows[WARMUP_STEPS:]
    seconds = timed[-1]["time"] - rows[WARMUP_STEPS - 1]["time"]
    return tokens_per_step * len(timed) / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--corpus", default=str(SHARED))
    args = ap.parse_args()
    if args.steps <= WARMUP_STEPS:
        raise SystemExit(f"bench_ddp: --steps must exceed the {WARMUP_STEPS} warm-up steps")
    cores = os.cpu_count() or 1
    setups = {f"1 process x {cores} threads": (1, cores), "1 process x 1 thread": (1, 1),
              "2 processes x 1 thread (DDP, gloo)": (2, 1)}
    print(f"{cores} cores; preset {args.preset}, {args.steps} steps per run "
          f"(first {WARMUP_STEPS} not timed), {args.rounds} rounds")
    rates: dict[str, list[float]] = {name: [] for name in setups}
    for _ in range(args.rounds):
        for name, (processes, threads) in setups.items():
            rates[name].append(run(processes, threads, args))
    for name, values in rates.items():
        print(f"{name:36s} {statistics.median(values):9,.0f} tokens/s  "
              f"(rounds: {', '.join(f'{v:,.0f}' for v in values)})")
    one, two = (statistics.median(rates[name]) for name in (f"1 process x {cores} threads",
                                                            "2 processes x 1 thread (DDP, gloo)"))
    print(f"2 processes / 1 process with all cores: {two / one:.2f}x")


if __name__ == "__main__":
    main()
