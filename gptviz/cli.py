"""The `gptviz` command: `train`, `sample` and `export` without a window; no subcommand opens one."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from dataclasses import fields
from pathlib import Path

from .config import CHOICES, PRESETS, TrainConfig, parse_assignments, preset
from .model import ConfigError

TYPES = {"int": int, "float": float, "str": str}


class CLIError(Exception):
    """A user-facing failure: printed as one message, exit status 1 or 2."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def add_config_options(p: argparse.ArgumentParser) -> None:
    """--corpus, --preset, --set and one flag per TrainConfig field (all default None)."""
    p.add_argument("--corpus", metavar="PATH",
                   help="UTF-8 text file to train on (default: Tiny Shakespeare, downloaded once)")
    p.add_argument("--preset", choices=list(PRESETS), default=None,
                   help="starting settings (default: 'default')")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any setting by its name, e.g. --set n_layer=6 (repeatable)")
    g = p.add_argument_group("model and optimizer settings (override the preset)")
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type == "bool":
            g.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None)
        else:
            g.add_argument(flag, dest=f.name, type=TYPES[f.type], default=None,
                           choices=CHOICES.get(f.name), metavar=None if f.name in CHOICES else "N")


def explicit_settings(args: argparse.Namespace) -> dict:
    """The settings the user gave: --set first, then the named flags (which win)."""
    values = parse_assignments(args.set)
    for f in fields(TrainConfig):
        value = getattr(args, f.name, None)
        if value is not None:
            values[f.name] = value
    return values


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    return preset(args.preset or "default", **explicit_settings(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gptviz", description="Watch a character-level GPT learn. "
        "Without a subcommand, opens the window.")
    add_config_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser("train", help="train without a window; writes metrics.jsonl and a checkpoint")
    add_config_options(train)
    train.add_argument("--out", default=None, metavar="DIR",
                       help="run directory (default: runs/PRESET)")
    train.add_argument("--resume", action="store_true",
                       help="continue from DIR's checkpoint (flags given change its schedule)")
    train.add_argument("--force", action="store_true",
                       help="start afresh in DIR even if it holds a run (its files are replaced)")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    train.add_argument("--diagnostics-every", type=int, default=0, metavar="N",
                       help="also compute per-parameter diagnostics every N steps (0: never)")
    train.add_argument("--sample-chars", type=int, default=200, metavar="N",
                       help="characters of sample printed at the end (0: none)")
    train.add_argument("--sample-every", type=int, default=0, metavar="N",
                       help="also draw a sample every N steps into DIR/samples.jsonl (0: only the last)")

    sample = sub.add_parser("sample", help="stream text from a trained checkpoint")
    sample.add_argument("--checkpoint", required=True, metavar="DIR",
                        help="run directory or checkpoint file")
    sample.add_argument("--prompt", default="", help="text to continue (default: a newline)")
    sample.add_argument("--temperature", type=float, default=1.0)
    sample.add_argument("--top-k", type=int, default=None)
    sample.add_argument("--top-p", type=float, default=None)
    sample.add_argument("--max-new-tokens", type=int, default=500)
    sample.add_argument("--seed", type=int, default=None)
    sample.add_argument("--device", default="cpu")

    export = sub.add_parser("export", help="write a run's metrics as CSV or TensorBoard event files",
                            description="Export a run directory (from `gptviz train` or the window).")
    export.add_argument("run_dir", metavar="RUN_DIR", help="the run directory (with metrics.jsonl)")
    export.add_argument("--csv", metavar="FILE", help="write the metrics, every column, to a CSV file")
    export.add_argument("--tensorboard", metavar="DIR",
                        help="write TensorBoard event files (scalars and samples) into DIR; "
                        "needs pip install 'gptviz[tensorboard]'")

    demo = sub.add_parser("demo", help="open the window at a step-through demo",
                          description="Open the window at a demo (from `1 + 1` to a GPT).")
    demo.add_argument("name", nargs="?", metavar="NAME", help="which demo (default: the first)")
    demo.add_argument("--step", type=int, default=1, metavar="N", help="start at step N (default: 1)")
    demo.add_argument("--list", action="store_true", help="print the demos' names and exit")

    graph = sub.add_parser("graph", help="the autograd graph of a small program, with values and grads",
                           description="Run PROGRAM through torch autograd and show every value and "
                           "its grad, e.g.  gptviz graph 'r = x*x + y' --set x=1 --set y=0")
    graph.add_argument("program", metavar="PROGRAM",
                       help="statements separated by newlines or ';' (use - to read standard input)")
    graph.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="inputs",
                       help="an input's value: a number or a JSON list such as [1, 2] (repeatable)")
    graph.add_argument("--json", action="store_true", help="print the graph as one JSON object")
    graph.add_argument("--png", metavar="FILE", help="draw the graph into a PNG file")
    graph.add_argument("--svg", metavar="FILE", help="draw the graph into an SVG file")
    return parser


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


def cmd_sample(args: argparse.Namespace) -> int:
    from .checkpoint import load_checkpoint, load_model
    from .sampler import Sampler

    ckpt = load_checkpoint(args.checkpoint)
    model, tokenizer = load_model(ckpt, args.device)
    sampler = Sampler(model, tokenizer, args.device)
    sampler.validate(args.prompt, args.temperature, args.top_k, args.top_p, args.max_new_tokens)
    out = sys.stdout
    out.write(args.prompt)
    for ch in sampler.stream(args.prompt, max_new_tokens=args.max_new_tokens,
                             temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                             seed=args.seed):
        out.write(ch)
        out.flush()
    out.write("\n")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from .expr import ExprGraph, ProgramError, parse_program
    from .expr.report import graph_table, point_at

    text = sys.stdin.read() if args.program == "-" else args.program
    inputs = {}
    for item in args.inputs:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CLIError(f"--set {item!r}: expected NAME=VALUE, e.g. --set x=1.5 or --set w=[1,2]", 2)
        inputs[name.strip()] = value
    try:
        program = parse_program(text)
        missing = [n for n in program.inputs if n not in inputs]
        if missing:
            raise CLIError("no value for " + ", ".join(missing) + "; give each input one with "
                           + " ".join(f"--set {n}=VALUE" for n in missing), 2)
        unused = sorted(set(inputs) - set(program.inputs))
        if unused:
            raise CLIError("--set names no input of the program: " + ", ".join(unused)
                           + (f" (its inputs: {', '.join(program.inputs)})" if program.inputs else ""), 2)
        graph = ExprGraph.build(program, inputs)
    except ProgramError as e:
        raise CLIError(f"{e}\n{point_at(text, e)}", 1) from None
    for warning in graph.warnings:
        print(f"gptviz: warning: {warning}", file=sys.stderr)
    if args.png or args.svg:
        from .gui.graph_export import export_graph
        export_graph(graph, png=args.png, svg=args.svg)
    if args.json:
        print(json.dumps(graph.to_json(), allow_nan=False))
    elif not (args.png or args.svg):
        print(graph_table(graph))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export_csv, export_tensorboard
    if not (args.csv or args.tensorboard):
        raise CLIError("export: say what to write: --csv FILE and/or --tensorboard DIR", 2)
    if args.csv:
        n = export_csv(args.run_dir, args.csv)
        print(f"gptviz: wrote {n} steps to {args.csv}", file=sys.stderr)
    if args.tensorboard:
        n = export_tensorboard(args.run_dir, args.tensorboard)
        print(f"gptviz: wrote {n} TensorBoard events to {args.tensorboard} "
              f"(view them with: tensorboard --logdir {args.tensorboard})", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demos import DemoError, all_demos, find_demo
    try:
        if args.list:
            for demo in all_demos():
                print(f"{demo.name:<14} {demo.title} ({len(demo)} steps): {demo.summary}")
            return 0
        demo = find_demo(args.name) if args.name else all_demos()[0]
    except (DemoError, IndexError) as e:
        raise CLIError(str(e) if isinstance(e, DemoError) else "no demos are installed", 2) from None
    if not 1 <= args.step <= len(demo):
        raise CLIError(f"--step {args.step}: the demo {demo.name!r} has steps 1 to {len(demo)}", 2)
    from .gui.app import run_app
    return run_app([], demo=demo.name, step=args.step - 1)


def cmd_window(args: argparse.Namespace, argv: list[str]) -> int:
    config_from_args(args)  # report a bad setting before any window appears
    from .gui.app import run_app
    return run_app(argv)


def main(argv: list[str] | None = None) -> int:
    from .checkpoint import CheckpointError
    from .corpus import CorpusError
    from .default_corpus import DownloadError
    from .export import ExportError
    from .runs import RunError
    from .sampler import SamplingError
    from .trainer import TrainingError

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return cmd_train(args)
        if args.command == "sample":
            return cmd_sample(args)
        if args.command == "graph":
            return cmd_graph(args)
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "export":
            return cmd_export(args)
        return cmd_window(args, argv)
    except ConfigError as e:
        print(f"gptviz: invalid setting: {e}", file=sys.stderr)
        return 2
    except CLIError as e:
        print(f"gptviz: {e}", file=sys.stderr)
        return e.status
    except (CorpusError, CheckpointError, DownloadError, SamplingError, TrainingError, RunError,
            ExportError) as e:
        print(f"gptviz: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `gptviz sample ... | head`
        return 0
    except OSError as e:  # e.g. --out names a file, the disk is full
        print(f"gptviz: {e}", file=sys.stderr)
        return 1
    except RuntimeError as e:  # e.g. --device cuda on a machine without one
        print(f"gptviz: {str(e).splitlines()[0]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
