"""The `lecture` preset on a CUDA GPU: tokens/s and MFU against this GPU's own measured
bf16 matmul peak, plus the GPU paths the tests cannot reach (no GPU in CI): a checkpoint
written on the GPU loaded on the CPU, and sampling on the GPU.

Not needed by the tests or CI. Where a GPU is lent (a few minutes; --compile adds about one):

    python benchmarks/gpu_check.py [--steps 300] [--compile] [--no-autocast]

Without CUDA it refuses, exit status 2. A dry run of the same code on the CPU (fp32, a
smaller batch) checks the script itself:

    python benchmarks/gpu_check.py --device cpu --steps 3 --warmup 1 --batch-size 4
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time

import torch
from bench_train import SHARED, matmul_peak

from gptviz.checkpoint import load_checkpoint, restore_trainer, save_checkpoint
from gptviz.config import preset
from gptviz.corpus import Corpus
from gptviz.devices import resolve_device, unavailable_reason
from gptviz.sampler import Sampler
from gptviz.trainer import Trainer


def refuse_without_cuda(device: str) -> str | None:
    """Why this check cannot run on `device` here, or None."""
    kind = device.partition(":")[0]
    if kind == "cuda":
        reason = unavailable_reason("cuda")
        if reason:
            return (f"gpu_check: no CUDA here ({reason}). Run it where a GPU is lent; to check "
                    f"the script itself: --device cpu --steps 3 --warmup 1 --batch-size 4")
    elif kind != "cpu":
        return f"gpu_check: --device must be cuda, cuda:N or cpu (a dry run), not {device!r}"
    return None


def peak_gflops(trainer: Trainer) -> tuple[float, str]:
    """This device's matmul peak in the dtype the model's matmuls run in."""
    dtype = trainer.amp_dtype or torch.float32
    name = str(dtype).removeprefix("torch.")
    if trainer.device.type == "cuda":  # big enough to keep a large GPU busy, ~25 ms a round on an H200
        return matmul_peak(device=str(trainer.device), dtype=dtype, sizes=(4096, 8192),
                           flops_per_round=2e13), name
    return matmul_peak(dtype=dtype), name


def checkpoint_moves_to_cpu(trainer: Trainer, corpus: Corpus) -> bool:
    """Save on this device, load onto the CPU: the same weights and step."""
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = load_checkpoint(save_checkpoint(tmp, trainer))
        on_cpu = restore_trainer(ckpt, corpus, device="cpu")
    same = all(torch.equal(a.detach().cpu(), b) for a, b in
               zip(trainer.model.state_dict().values(), on_cpu.model.state_dict().values()))
    return same and on_cpu.step_count == trainer.step_count


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", help="cuda, cuda:N, or cpu for a dry run")
    ap.add_argument("--preset", default="lecture")
    ap.add_argument("--steps", type=int, default=300, help="timed optimizer steps")
    ap.add_argument("--warmup", type=int, default=20, help="untimed steps first (kernel choice, compiling)")
    ap.add_argument("--batch-size", type=int, default=None, help="sequences per step, one batch (default 64)")
    ap.add_argument("--compile", action="store_true", help="train through torch.compile")
    ap.add_argument("--autocast", action=argparse.BooleanOptionalAction, default=True,
                    help="bf16 autocast on the GPU (default: on)")
    ap.add_argument("--corpus", default=str(SHARED))
    args = ap.parse_args()
    refusal = refuse_without_cuda(args.device)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    device = resolve_device(args.device)
    corpus = Corpus.from_file(args.corpus)
    # A GPU takes the lecture's 64 sequences in one batch (the preset splits them for CPUs).
    overrides = {"max_iters": 10**6, "batch_size": args.batch_size or 64, "grad_accum": 1, "eval_iters": 200}
    config = preset(args.preset, **overrides)
    trainer = Trainer(config, corpus, device=str(device), autocast=args.autocast, compile=args.compile)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (dry run)"
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}), {where}; preset {args.preset}, "
          f"batch {config.batch_size} x {config.block_size}, {trainer.model.num_params() / 1e6:.2f}M "
          f"parameters, autocast {trainer.amp_dtype}, compile {trainer.compiled}")

    t0 = time.perf_counter()
    first = [trainer.step().loss for _ in range(args.warmup)]
    print(f"warm-up: {args.warmup} steps in {time.perf_counter() - t0:.1f} s")
    metrics = [trainer.step() for _ in range(args.steps)]
    dts = [m.dt for m in metrics]
    tokens_per_sec = trainer.tokens_per_step * len(dts) / sum(dts)
    peak, dtype_name = peak_gflops(trainer)
    achieved = trainer.model.flops_per_token() * tokens_per_sec / 1e9
    print(f"{args.steps} steps: {statistics.median(dts) * 1000:.1f} ms/step (median), "
          f"{tokens_per_sec:,.0f} tokens/s, {achieved:,.0f} GFLOP/s")
    print(f"{dtype_name} matmul peak measured here: {peak:,.0f} GFLOP/s → MFU {achieved / peak:.1%}")
    losses = first + [m.loss for m in metrics]
    ev = trainer.estimate_loss(eval_iters=min(config.eval_iters, 20))
    print(f"loss {losses[0]:.3f} → {losses[-1]:.3f} over {len(losses)} steps; val {ev.val_loss:.3f}")
    if device.type == "cuda":
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB")
    moved = checkpoint_moves_to_cpu(trainer, corpus)
    print(f"checkpoint written on {device} loads on the CPU with the same weights: {moved}")
    text = Sampler(trainer.model, corpus.tokenizer, device).sample(max_new_tokens=80, seed=1)
    print(f"sample on {device}: {text!r}")
    ok = moved and all(map(math.isfinite, losses)) and losses[-1] < losses[0]
    print("gpu_check: OK" if ok else "gpu_check: FAILED (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
