"""`gptviz train`: train without a window, writing metrics.jsonl, samples and a checkpoint."""

from __future__ import annotations

import argparse
import math
import signal
import sys
from pathlib import Path

from .cli import CLIError, config_from_args, explicit_settings


def load_corpus(path: str | None, quiet: bool = False):
    from .corpus import Corpus
    from .default_corpus import default_corpus
    if path:
        return Corpus.from_file(path)
    from tqdm import tqdm
    bar = None

    def progress(done: int, total: int | None) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="B", unit_scale=True, desc="Tiny Shakespeare",
                       disable=quiet, file=sys.stderr)
        bar.update(done - bar.n)

    try:
        corpus = default_corpus(progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if corpus.notice and not quiet:
        print(f"gptviz: {corpus.notice}", file=sys.stderr)
    return corpus


class _NoLog:
    """metrics.jsonl for the ranks that write nothing (all but rank 0)."""

    def write(self, row: dict) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def describe_device(trainer) -> str:
    """Where and how the trainer trains, e.g. 'cuda:0, bf16 autocast, 2 processes (nccl)'."""
    from . import distributed
    parts = [str(trainer.device)]
    if trainer.amp_dtype is not None:
        parts.append(f"{str(trainer.amp_dtype).removeprefix('torch.').replace('bfloat16', 'bf16')} autocast")
    if trainer.compiled:
        parts.append("torch.compile")
    if trainer.config.grad_accum > 1:
        parts.append(f"{trainer.config.grad_accum} micro-batches a step")
    if trainer.launch.distributed:
        parts.append(f"{trainer.launch.world_size} processes ({distributed.backend()})")
    return ", ".join(parts)


def cmd_train(args: argparse.Namespace) -> int:
    """Train in this process, or as one rank of several when started by torchrun."""
    from . import distributed
    launch = distributed.launch_from_env()
    device = distributed.start(launch, args.device)  # joins the process group when several
    try:
        return _train(args, launch, device)
    finally:
        distributed.finish()


def _train(args: argparse.Namespace, launch, device: str) -> int:
    from tqdm import tqdm

    from . import distributed
    from .checkpoint import FILENAME, load_checkpoint, restore_trainer, save_checkpoint
    from .runlog import MetricsLog, write_config
    from .samplelog import append_sample, sample_row, trim_samples
    from .sampler import Sampler
    from .trainer import NonFiniteError, Trainer

    main = launch.is_main  # only rank 0 evaluates, writes into the run directory and samples
    out = Path(args.out or f"runs/{args.preset or 'default'}")
    options = dict(device=device, autocast=args.autocast, compile=args.compile, launch=launch)
    if args.resume:
        if not (out / FILENAME).exists():
            raise CLIError(f"--resume: no {FILENAME} in {out} to resume from")
        ckpt = load_checkpoint(out)
        config = ckpt.config.replace(**explicit_settings(args))
        corpus_path = args.corpus
        if corpus_path is None and Path(ckpt.corpus_name).is_file():
            corpus_path = ckpt.corpus_name  # resume on the text it was trained on
        with distributed.main_first(launch):  # a download happens once, on rank 0
            corpus = load_corpus(corpus_path, quiet=not main)
        trainer = restore_trainer(ckpt, corpus, config, **options)
        resume_step = trainer.step_count
    else:
        if (out / FILENAME).exists() and not args.force:
            raise CLIError(f"{out} already holds a run; continue it with --resume, "
                           f"or replace it with --force")
        config = config_from_args(args)
        with distributed.main_first(launch):
            corpus = load_corpus(args.corpus, quiet=not main)
        trainer = Trainer(config, corpus, **options)
        resume_step = None
    distributed.barrier(launch)  # every rank has looked at the run directory: now rank 0 writes
    if main:
        log = MetricsLog(out, resume_step=resume_step)
        trim_samples(out, resume_step)
        write_config(out, {**config.to_dict(), "corpus": corpus.name})
        params = trainer.model.num_params()
        print(f"gptviz: training {params / 1e6:.2f}M parameters on {corpus.name} "
              f"({corpus.vocab_size} characters) on {describe_device(trainer)} → {out}",
              file=sys.stderr)
        if args.autocast and trainer.device.type != "cpu" and trainer.amp_dtype is None:
            print(f"gptviz: {trainer.device} has no native bfloat16: training in fp32", file=sys.stderr)
    else:
        log = _NoLog()

    bar = tqdm(total=config.max_iters, initial=trainer.step_count, unit="step", disable=not main,
               file=sys.stderr, mininterval=0.5, dynamic_ncols=True)
    last_val = math.nan

    def save() -> None:
        state = trainer.state_dict()  # on every rank: distributed, it gathers their random streams
        if main:
            save_checkpoint(out, trainer, state)

    def evaluate() -> None:
        nonlocal last_val
        if main:
            ev = trainer.estimate_loss()
            last_val = ev.val_loss
            log.write(ev.row())
        save()

    def sample(seed: int) -> str:
        """Draw a sample (from its own generator: the run is unchanged) into samples.jsonl."""
        n = args.sample_chars
        text = Sampler(trainer.model, corpus.tokenizer, trainer.device).sample(max_new_tokens=n, seed=seed)
        append_sample(out, sample_row(trainer.step_count, last_val, "", text, temperature=1.0, top_k=None,
                                      top_p=None, max_new_tokens=n, seed=seed))
        return text

    # Ctrl+C only raises a flag, read between steps, so a checkpoint never holds half a step;
    # with several processes every rank hears of it at the same step, so all stop together.
    interrupted = []
    previous_handler = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    status = 0
    with log:
        try:
            if trainer.step_count == 0:
                evaluate()
            while not trainer.done:
                if distributed.any_rank(bool(interrupted), launch, trainer.device):
                    raise KeyboardInterrupt
                diag = args.diagnostics_every > 0 and (trainer.step_count + 1) % args.diagnostics_every == 0
                m = trainer.step(diagnostics=diag)
                log.write(m.row())
                bar.update(1)
                bar.set_postfix(loss=f"{m.loss:.4f}", val=f"{last_val:.4f}",
                                tok_s=f"{m.tokens_per_sec:,.0f}", refresh=False)
                if trainer.step_count % config.eval_interval == 0 or trainer.done:
                    evaluate()
                if (main and args.sample_every > 0 and args.sample_chars > 0 and not trainer.done
                        and trainer.step_count % args.sample_every == 0):
                    sample(config.seed + trainer.step_count)  # the window's seeds
        except NonFiniteError as e:  # distributed, every rank sees the same mean loss and stops
            save()
            if main:
                print(f"\ngptviz: {e}\nThe last good state (step {trainer.step_count}) is saved in "
                      f"{out / FILENAME}.", file=sys.stderr)
            status = 1
        except KeyboardInterrupt:
            save()
            if main:
                print(f"\ngptviz: interrupted; step {trainer.step_count} saved in {out / FILENAME}. "
                      f"Continue with: gptviz train --out {out} --resume", file=sys.stderr)
            status = 130
        finally:
            signal.signal(signal.SIGINT, previous_handler)
            bar.close()
    if status == 0 and main:
        print(f"gptviz: done at step {trainer.step_count}, val loss {last_val:.4f}", file=sys.stderr)
        if args.sample_chars > 0:
            print(sample(config.seed))
    if launch.distributed and not check_ranks_agree(trainer):
        status = status or 1
    return status


def check_ranks_agree(trainer) -> bool:
    """Each rank prints a digest of its weights; rank 0 says whether they all agree.

    DDP keeps the ranks' weights identical; this is the evidence, one line per rank.
    """
    from . import distributed
    launch = trainer.launch
    digest = distributed.parameter_digest(trainer.model)
    print(f"gptviz: rank {launch.rank} of {launch.world_size}: step {trainer.step_count}, "
          f"parameters sha256 {digest}", file=sys.stderr, flush=True)
    digests = distributed.gather(digest)
    agree = len(set(digests)) == 1
    if launch.is_main and not agree:
        print("gptviz: the ranks' weights differ (" + ", ".join(
            f"rank {r}: {d[:12]}" for r, d in enumerate(digests)) + "); the checkpoint is rank 0's",
            file=sys.stderr)
    return agree
