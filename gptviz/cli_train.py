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
    if corpus.notice:
        print(f"gptviz: {corpus.notice}", file=sys.stderr)
    return corpus


def cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .checkpoint import FILENAME, load_checkpoint, restore_trainer, save_checkpoint
    from .runlog import MetricsLog, write_config
    from .samplelog import append_sample, sample_row, trim_samples
    from .sampler import Sampler
    from .trainer import NonFiniteError, Trainer

    out = Path(args.out or f"runs/{args.preset or 'default'}")
    if args.resume:
        if not (out / FILENAME).exists():
            raise CLIError(f"--resume: no {FILENAME} in {out} to resume from")
        ckpt = load_checkpoint(out)
        config = ckpt.config.replace(**explicit_settings(args))
        corpus_path = args.corpus
        if corpus_path is None and Path(ckpt.corpus_name).is_file():
            corpus_path = ckpt.corpus_name  # resume on the text it was trained on
        corpus = load_corpus(corpus_path)
        trainer = restore_trainer(ckpt, corpus, config, device=args.device)
        log = MetricsLog(out, resume_step=trainer.step_count)
        trim_samples(out, trainer.step_count)
    else:
        if (out / FILENAME).exists() and not args.force:
            raise CLIError(f"{out} already holds a run; continue it with --resume, "
                           f"or replace it with --force")
        config = config_from_args(args)
        corpus = load_corpus(args.corpus)
        trainer = Trainer(config, corpus, device=args.device)
        log = MetricsLog(out)
        trim_samples(out, None)
    write_config(out, {**config.to_dict(), "corpus": corpus.name})
    params = trainer.model.num_params()
    print(f"gptviz: training {params / 1e6:.2f}M parameters on {corpus.name} "
          f"({corpus.vocab_size} characters) → {out}", file=sys.stderr)

    bar = tqdm(total=config.max_iters, initial=trainer.step_count, unit="step",
               file=sys.stderr, mininterval=0.5, dynamic_ncols=True)
    last_val = math.nan

    def evaluate() -> None:
        nonlocal last_val
        ev = trainer.estimate_loss()
        last_val = ev.val_loss
        log.write(ev.row())
        save_checkpoint(out, trainer)

    def sample(seed: int) -> str:
        """Draw a sample (from its own generator: the run is unchanged) into samples.jsonl."""
        n = args.sample_chars
        text = Sampler(trainer.model, corpus.tokenizer, trainer.device).sample(max_new_tokens=n, seed=seed)
        append_sample(out, sample_row(trainer.step_count, last_val, "", text, temperature=1.0, top_k=None,
                                      top_p=None, max_new_tokens=n, seed=seed))
        return text

    # Ctrl+C only raises a flag, read between steps, so a checkpoint never holds half a step.
    interrupted = []
    previous_handler = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    status = 0
    with log:
        try:
            if trainer.step_count == 0:
                evaluate()
            while not trainer.done:
                if interrupted:
                    raise KeyboardInterrupt
                diag = args.diagnostics_every > 0 and (trainer.step_count + 1) % args.diagnostics_every == 0
                m = trainer.step(diagnostics=diag)
                log.write(m.row())
                bar.update(1)
                bar.set_postfix(loss=f"{m.loss:.4f}", val=f"{last_val:.4f}",
                                tok_s=f"{m.tokens_per_sec:,.0f}", refresh=False)
                if trainer.step_count % config.eval_interval == 0 or trainer.done:
                    evaluate()
                if (args.sample_every > 0 and args.sample_chars > 0 and not trainer.done
                        and trainer.step_count % args.sample_every == 0):
                    sample(config.seed + trainer.step_count)  # the window's seeds
        except NonFiniteError as e:
            save_checkpoint(out, trainer)
            print(f"\ngptviz: {e}\nThe last good state (step {trainer.step_count}) is saved in "
                  f"{out / FILENAME}.", file=sys.stderr)
            status = 1
        except KeyboardInterrupt:
            save_checkpoint(out, trainer)
            print(f"\ngptviz: interrupted; step {trainer.step_count} saved in {out / FILENAME}. "
                  f"Continue with: gptviz train --out {out} --resume", file=sys.stderr)
            status = 130
        finally:
            signal.signal(signal.SIGINT, previous_handler)
            bar.close()
    if status == 0:
        print(f"gptviz: done at step {trainer.step_count}, val loss {last_val:.4f}", file=sys.stderr)
        if args.sample_chars > 0:
            print(sample(config.seed))
    return status
