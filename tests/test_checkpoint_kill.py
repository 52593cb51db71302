"""A process killed (SIGKILL) while saving checkpoints leaves the previous checkpoint intact.

A helper process imports torch once, builds a trainer with a ~21 MB checkpoint, then
forks savers: each fills every weight with a new number n, saves, and prints n. The test
kills each saver at a random moment, then loads the checkpoint: it must be complete and
be exactly one of the versions saved (every weight equal to the same n, the step n),
the last one printed or the one in flight. Each kill comes at a random moment once a
write has begun (its temp file exists), so most land mid-write. Temp files a kill
leaves are never taken for the checkpoint.
"""

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from gptviz.checkpoint import FILENAME, load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 4

SAVER = r"""
import os, sys
import torch
torch.set_num_threads(1)  # no OpenMP team: forking after it would be unsafe
from gptviz.checkpoint import save_checkpoint
from gptviz.config import preset
from gptviz.corpus import Corpus
from gptviz.trainer import Trainer

run = sys.argv[1]
trainer = Trainer(preset("tiny", n_layer=4, n_embd=192, n_head=4, batch_size=2),
                  Corpus("abcdefghij\n" * 400))
trainer.step()  # the optimizer's moments exist: they are saved too
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() != "fork":
        break
    round_ = int(sys.stdin.readline())
    pid = os.fork()
    if pid == 0:
        n = round_ * 1000
        while True:
            n += 1
            with torch.no_grad():
                for p in trainer.model.parameters():
                    p.fill_(n)
            trainer.step_count = n
            save_checkpoint(run, trainer)
            print(f"saved {n}", flush=True)
    print(f"child {pid}", flush=True)
    os.waitpid(pid, 0)
"""


def read_line(proc, timeout=60.0) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the saver said nothing"
    line = proc.stdout.readline()
    assert line, f"the saver ended: {proc.stderr.read()}"
    return line.strip()


def test_kill_during_saves_leaves_a_complete_checkpoint(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-u", "-c", SAVER, str(run)], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, bufsize=1)
    rng = random.Random(5)
    last_saved, mid_save, versions_seen = None, 0, set()
    try:
        assert read_line(proc) == "ready"
        for round_ in range(1, ROUNDS + 1):
            proc.stdin.write(f"fork\n{round_}\n")
            proc.stdin.flush()
            child = int(read_line(proc).split()[1])
            if last_saved is None:  # the first round: wait for one complete checkpoint
                last_saved = int(read_line(proc).split()[1])
            deadline = time.monotonic() + rng.uniform(0.02, 0.3)
            while time.monotonic() < deadline:  # keep up with the saves while waiting
                if select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    last_saved = int(proc.stdout.readline().split()[1])
            while not any(p.suffix == ".tmp" for p in run.iterdir()):  # then until a write begins,
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.004))  # and a moment into it
            os.kill(child, signal.SIGKILL)
            time.sleep(0.05)
            while select.select([proc.stdout], [], [], 0.05)[0]:  # what was printed before the kill
                last_saved = int(proc.stdout.readline().split()[1])
            in_flight = round_ * 1000 + 1 if last_saved < round_ * 1000 else last_saved + 1

            names = sorted(p.name for p in run.iterdir())
            leftovers = [n for n in names if n != FILENAME]
            assert all(n.startswith(FILENAME + ".") and n.endswith(".tmp") for n in leftovers), names
            mid_save += bool(leftovers)
            for name in leftovers:  # a half-written temp file is never the checkpoint
                (run / name).unlink()

            ckpt = load_checkpoint(run)
            n = ckpt.step
            assert n in (last_saved, in_flight), (n, last_saved, in_flight)
            weights = ckpt.state["model"]
            assert all(torch.all(w == n) for w in weights.values()), f"version {n} is mixed"
            assert ckpt.state["step"] == n
            versions_seen.add(n)
            last_saved = n
    finally:
        if proc.poll() is None:
            proc.stdin.close()
            proc.kill()
        proc.wait(10)
    print(f"{ROUNDS} kills, {mid_save} during a save (temp file left), versions {sorted(versions_seen)}")
    assert mid_save >= 1, "every kill missed the writes: the test proved nothing"


def test_a_later_save_removes_temp_files_left_by_a_killed_one(tmp_path):
    from gptviz.checkpoint import STALE_SECONDS, save_checkpoint
    from gptviz.config import preset
    from gptviz.corpus import Corpus
    from gptviz.trainer import Trainer

    trainer = Trainer(preset("tiny", model="bigram"), Corpus("abcdefghij\n" * 300))
    stale, fresh = tmp_path / f"{FILENAME}.k1ll3d.tmp", tmp_path / f"{FILENAME}.wr1t1ng.tmp"
    other = tmp_path / "notes.tmp"  # not a checkpoint's: left alone
    for leftover in (stale, fresh, other):
        leftover.write_bytes(b"half a checkpoint")
    old = time.time() - STALE_SECONDS - 5
    for leftover in (stale, other):
        os.utime(leftover, (old, old))
    save_checkpoint(tmp_path, trainer)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([FILENAME, fresh.name, other.name])
    assert load_checkpoint(tmp_path).step == 0
