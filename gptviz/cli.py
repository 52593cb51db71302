"""The `gptviz` command: its parser, dispatch and error messages; without a subcommand it opens the
window. The subcommands themselves are in cli_train.py (`train`) and cli_tools.py (the rest)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields

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


def add_device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", metavar="DEVICE",
                   help="auto (CUDA, else MPS, else the CPU), cpu, cuda, cuda:N or mps (default: auto)")


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
    add_device_option(train)
    train.add_argument("--autocast", action=argparse.BooleanOptionalAction, default=True,
                       help="train in bfloat16 under torch.autocast on GPUs that support it "
                       "(default: on; --no-autocast trains in fp32; the CPU always uses fp32)")
    train.add_argument("--compile", action="store_true",
                       help="compile the model with torch.compile (start-up takes longer; "
                       "it may or may not be faster)")
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
    add_device_option(sample)

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


def cmd_window(args: argparse.Namespace, argv: list[str]) -> int:
    config_from_args(args)  # report a bad setting before any window appears
    from .gui.app import run_app
    return run_app(argv)


def main(argv: list[str] | None = None) -> int:
    status = run_command(argv)
    from .distributed import exit_if_joined
    exit_if_joined(status)  # after a multi-process run: ends here (see its docstring)
    return status


def run_command(argv: list[str] | None = None) -> int:
    """Parse argv and run the command; user-facing failures become a message and a status."""
    from .checkpoint import CheckpointError
    from .cli_tools import cmd_demo, cmd_export, cmd_graph, cmd_sample  # import CLIError from here
    from .cli_train import cmd_train
    from .corpus import CorpusError
    from .default_corpus import DownloadError
    from .devices import DeviceError
    from .distributed import LaunchError
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
            ExportError, DeviceError, LaunchError) as e:
        print(f"gptviz: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `gptviz sample ... | head`
        return 0
    except KeyboardInterrupt:  # Ctrl+C before training started (it saves a checkpoint then)
        print("gptviz: interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # e.g. --out names a file, the disk is full
        print(f"gptviz: {e}", file=sys.stderr)
        return 1
    except RuntimeError as e:  # e.g. --device cuda on a machine without one
        print(f"gptviz: {str(e).splitlines()[0]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
