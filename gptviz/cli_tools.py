"""The other windowless subcommands: `gptviz sample`, `graph`, `export` and `demo`."""

from __future__ import annotations

import argparse
import json
import sys

from .cli import CLIError


def cmd_sample(args: argparse.Namespace) -> int:
    from .checkpoint import load_checkpoint, load_model
    from .devices import resolve_device
    from .sampler import Sampler

    device = resolve_device(args.device)  # first: an unavailable device is the first thing said
    ckpt = load_checkpoint(args.checkpoint)  # onto the CPU, then to the device, whatever it was saved on
    model, tokenizer = load_model(ckpt, device)
    sampler = Sampler(model, tokenizer, device)
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
