"""Several processes training one model: `gptviz train` under torchrun, 2 CPU processes
on loopback with gloo, as a user would start it; and distributed.py's pieces in-process."""

import os
import re
import socket
import subprocess
import sys

import pytest
import torch

from gptviz.checkpoint import load_checkpoint, load_model
from gptviz.distributed import Launch, LaunchError, launch_from_env, parameter_digest, start
from gptviz.runlog import read_metrics
from gptviz.samplelog import read_samples
from gptviz.trainer import streams_for_rank

DIGEST = re.compile(r"rank (\d) of 2: step (\d+), parameters sha256 ([0-9a-f]{64})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env() -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return {**clean, "OMP_NUM_THREADS": "1"}


def torchrun(*args, timeout=90):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}", "-m", "gptviz", "train",
           "--device", "cpu", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env())


def single(*args, timeout=60):
    cmd = [sys.executable, "-m", "gptviz", "train", "--device", "cpu", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env())


def rank_digests(stderr: str) -> dict[int, tuple[int, str]]:
    return {int(r): (int(step), digest) for r, step, digest in DIGEST.findall(stderr)}


def checkpoint_digest(out) -> str:
    model, _ = load_model(load_checkpoint(out))
    return parameter_digest(model)


def train_steps(out) -> list[int]:
    return [row["step"] for row in read_metrics(out / "metrics.jsonl") if "loss" in row]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory, shakespeare_path):
    out = tmp_path_factory.mktemp("ddp") / "run"
    r = torchrun("--preset", "tiny", "--corpus", shakespeare_path, "--out", out, "--max-iters", 6,
                 "--eval-interval", 3, "--eval-iters", 2, "--sample-every", 2, "--sample-chars", 30)
    assert r.returncode == 0, r.stderr
    return out, r


def test_two_processes_keep_identical_weights(ddp_run):
    out, r = ddp_run
    digests = rank_digests(r.stderr)
    assert sorted(digests) == [0, 1]  # each rank reports its own weights after its last step
    assert digests[0] == digests[1] == (6, checkpoint_digest(out))
    ckpt = load_checkpoint(out)
    ranks = ckpt.state["rank_streams"]  # each rank drew its own batches
    assert len(ranks) == 2 and not torch.equal(ranks[0]["batch_rng"], ranks[1]["batch_rng"])
    assert torch.equal(ranks[0]["batch_rng"], ckpt.state["batch_rng"])


def test_rank_0_alone_writes_a_complete_run(ddp_run):
    out, r = ddp_run
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "config.json", "metrics.jsonl",
                                                      "samples.jsonl"]
    rows = read_metrics(out / "metrics.jsonl")
    assert train_steps(out) == [1, 2, 3, 4, 5, 6]  # once each: rank 1 wrote no rows
    assert [row["step"] for row in rows if "val_loss" in row] == [0, 3, 6]
    assert all(row["tokens_per_sec"] > 0 and row["time"] > 0 for row in rows if "loss" in row)
    assert [s["step"] for s in read_samples(out)] == [2, 4, 6]
    assert read_samples(out)[-1]["text"] + "\n" == r.stdout  # printed once, by rank 0
    assert load_checkpoint(out).step == 6
    assert "2 processes (gloo)" in r.stderr and r.stderr.count("done at step 6") == 1


def test_checkpoints_move_between_one_and_two_processes(ddp_run, tmp_path):
    import shutil
    out = tmp_path / "run"
    shutil.copytree(ddp_run[0], out)
    r = single("--out", out, "--resume", "--max-iters", 8, "--sample-chars", 0)
    assert r.returncode == 0, r.stderr
    assert train_steps(out) == list(range(1, 9))
    assert "rank_streams" not in load_checkpoint(out).state  # now a single-process checkpoint
    r = torchrun("--out", out, "--resume", "--max-iters", 10, "--sample-chars", 0)
    assert r.returncode == 0, r.stderr
    assert train_steps(out) == list(range(1, 11))
    digests = rank_digests(r.stderr)
    assert digests[0] == digests[1] == (10, checkpoint_digest(out))


def test_a_non_finite_loss_stops_every_rank_at_the_same_step(tmp_path, shakespeare_path):
    out = tmp_path / "run"
    r = torchrun("--preset", "tiny", "--corpus", shakespeare_path, "--out", out, "--max-iters", 200,
                 "--eval-interval", 1000, "--eval-iters", 1, "--lr", 1000, "--min-lr", 1000,
                 "--warmup-iters", 0, "--grad-clip", 0, "--sample-chars", 0)
    assert r.returncode != 0 and "non-finite" in r.stderr
    step = load_checkpoint(out).step  # the last good state, saved by rank 0
    assert step < 200 and train_steps(out)[-1] == step
    assert rank_digests(r.stderr) == {0: (step, checkpoint_digest(out)), 1: (step, checkpoint_digest(out))}


# -- the pieces, in this process ------------------------------------------------------------------

def test_launch_is_read_from_torchruns_environment():
    assert launch_from_env({}) == Launch(rank=0, world_size=1, local_rank=0)
    launch = launch_from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert (launch.rank, launch.world_size, launch.local_rank) == (3, 4, 1)
    assert launch.distributed and not launch.is_main
    with pytest.raises(LaunchError, match="RANK='x' in the environment is not an integer"):
        launch_from_env({"RANK": "x", "WORLD_SIZE": "2"})
    with pytest.raises(LaunchError, match="RANK=2, WORLD_SIZE=2"):
        launch_from_env({"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0"})


def test_a_single_process_joins_no_group():
    import torch.distributed as dist
    assert start(Launch(), "cpu") == "cpu" and start(Launch(), "auto") in ("cpu", "cuda", "mps")
    assert not dist.is_initialized()


def test_each_rank_finds_its_own_random_streams_in_a_checkpoint():
    streams = [{"batch_rng": torch.tensor([r]), "dropout_rng": torch.tensor([r])} for r in range(2)]
    state = {"model": {}, **streams[0], "rank_streams": streams}
    assert streams_for_rank(state, 0) is state
    assert streams_for_rank(state, 1) is streams[1]
    assert streams_for_rank(state, 2) is None  # more ranks now than then: fresh streams
    single_state = {"model": {}, **streams[0]}
    assert streams_for_rank(single_state, 0) is single_state and streams_for_rank(single_state, 1) is None


def test_the_digest_sees_every_bit_of_every_weight():
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    assert parameter_digest(a) == parameter_digest(b)
    with torch.no_grad():
        b.bias[1] = torch.nextafter(b.bias[1], torch.tensor(2.0))  # one ulp
    assert parameter_digest(a) != parameter_digest(b)
