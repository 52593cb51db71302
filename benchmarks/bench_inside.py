"""What the Attention view and the next-character probabilities cost, for the `default` preset.

Prints, measured side by side in one run (this machine's speed is bimodal):
- a training step (ms), for scale;
- one attention refresh on the worker thread (one forward pass of the view's default prompt
  with return_attention, eval mode, numpy copies), and what it adds to training at the
  default cadence (every 100 steps);
- sampling one character with and without recording its top-10 probabilities (µs), and
  stacking them into the ChoiceBatch the worker sends (µs per character);
- drawing the 4 × 4 grid and the enlarged map on the GUI thread (offscreen).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_inside.py [--rounds 5] [--corpus PATH]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tinyshakespeare.txt"


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def engine_figures(corpus_path: str, rounds: int, out: dict) -> None:
    """Everything that touches torch, on a fresh thread (as the window's worker does)."""
    import torch

    from gptviz.attention_probe import DEFAULT_EVERY, DEFAULT_PROMPT, attention_maps
    from gptviz.config import preset
    from gptviz.corpus import Corpus
    from gptviz.next_char_probs import CharChoice, ChoiceBatch
    from gptviz.sampler import Sampler
    from gptviz.trainer import Trainer

    corpus = Corpus.from_file(corpus_path)
    trainer = Trainer(preset("default", max_iters=10**6), corpus)
    for _ in range(20):
        trainer.step()
    tok = corpus.tokenizer
    sampler = Sampler(trainer.model, tok)
    n = 300
    step, refresh, plain, keep, stack, record = [], [], [], [], [], []
    logits = torch.randn(tok.vocab_size)
    probs, drawn = torch.softmax(logits / 0.8, -1), torch.tensor(3)
    for _ in range(rounds):  # alternate, so a change of machine speed hits every figure alike
        step.append(statistics.median(trainer.step().dt for _ in range(10)))
        refresh.append(median_time(lambda: attention_maps(trainer.model, tok, DEFAULT_PROMPT, 0), 20))
        for seed in range(10):  # 30 characters at a time, alternating, against the bimodal speed
            t0 = time.perf_counter()
            sampler.sample("ROMEO:", max_new_tokens=n // 10, seed=seed)
            plain.append((time.perf_counter() - t0) / (n // 10))
            t0 = time.perf_counter()
            pairs = list(sampler.stream_choices("ROMEO:", max_new_tokens=n // 10, seed=seed, keep=10))
            keep.append((time.perf_counter() - t0) / (n // 10))
        choices, text = [c for _, c in pairs[:30]], "".join(ch for ch, _ in pairs[:30])  # one emit's worth
        t0 = time.perf_counter()
        for _ in range(20):
            ChoiceBatch.from_choices(6, choices, tok.chars, text)
        stack.append((time.perf_counter() - t0) / 20 / len(choices))
        t0 = time.perf_counter()
        for _ in range(1000):
            CharChoice(logits, probs, drawn, 10)
        record.append((time.perf_counter() - t0) / 1000)
    maps = [attention_maps(trainer.model, tok, prompt, trainer.step_count)
            for prompt in (DEFAULT_PROMPT, corpus.text[:trainer.config.block_size])]  # 28 and 64 long
    out.update(step=statistics.median(step), refresh=statistics.median(refresh),
               plain=statistics.median(plain), keep=statistics.median(keep),
               stack=statistics.median(stack), record=statistics.median(record), every=DEFAULT_EVERY,
               maps=maps, threads=torch.get_num_threads())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--corpus", default=str(SHARED))
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    out: dict = {}
    thread = threading.Thread(target=engine_figures, args=(args.corpus, args.rounds, out))
    thread.start()
    thread.join()
    ms = 1e3
    print(f"default preset, {out['threads']} torch threads")
    print(f"training step: {out['step'] * ms:.1f} ms")
    added = out["refresh"] / (out["every"] * out["step"])
    print(f"attention refresh (worker thread): {out['refresh'] * ms:.2f} ms "
          f"= {out['refresh'] / out['step']:.1%} of a step; every {out['every']} steps: +{added:.3%}")
    extra = out["keep"] - out["plain"]
    print(f"sampling: {out['plain'] * 1e6:.0f} µs/char plain, {out['keep'] * 1e6:.0f} µs/char recording "
          f"top-10 (+{extra * 1e6:.0f} µs, {extra / out['plain']:+.1%}); "
          f"ChoiceBatch: {out['stack'] * 1e6:.1f} µs/char")
    per_char = out["record"] + out["stack"]
    print(f"recording alone (CharChoice + ChoiceBatch): {per_char * 1e6:.1f} µs/char "
          f"= {per_char / out['plain']:.1%} of sampling a character")

    from gptviz.gui.app import ensure_app
    app = ensure_app()
    from gptviz.gui.attention_view import AttentionView
    view = AttentionView()
    view.resize(1000, 600)
    view.show()
    app.processEvents()
    for maps in out["maps"]:
        def draw(maps=maps):
            view.show_maps(maps)
            view.grid.repaint()
            view.large.view.repaint()
        draw()
        print(f"drawing {maps.layers}×{maps.heads} maps of {maps.weights.shape[-1]}² + the enlarged one "
              f"(GUI thread, offscreen): {median_time(draw, 10) * ms:.1f} ms")
    view.close()


if __name__ == "__main__":
    main()
