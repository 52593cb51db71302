"""The `gptviz` command, run as a user would: in a subprocess, with the tiny preset."""

import json
import os
import subprocess
import sys

import pytest

from gptviz.runlog import read_metrics


def gptviz(*args, cwd=None, timeout=120):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "gptviz", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, shakespeare_path):
    out = tmp_path_factory.mktemp("run")
    r = gptviz("train", "--preset", "tiny", "--corpus", shakespeare_path, "--out", out,
               "--max-iters", 40, "--sample-chars", 50, "--sample-every", 15)
    assert r.returncode == 0, r.stderr
    return out, r


def test_train_writes_metrics_checkpoint_and_config(run_dir):
    out, r = run_dir
    rows = read_metrics(out / "metrics.jsonl")
    train = [row for row in rows if "loss" in row]
    evals = [row for row in rows if "val_loss" in row]
    assert [row["step"] for row in train] == list(range(1, 41))
    assert all(list(row) == ["step", "loss", "lr", "grad_norm", "tokens_per_sec", "time"] for row in train)
    times = [row["time"] for row in train]  # seconds spent in steps so far
    assert times[0] > 0 and all(b > a for a, b in zip(times, times[1:]))
    assert [row["step"] for row in evals] == [0, 20, 40]
    assert all(set(row) == {"step", "train_loss", "val_loss"} for row in evals)
    assert evals[-1]["val_loss"] < evals[0]["val_loss"]
    assert (out / "checkpoint.pt").is_file()
    assert json.loads((out / "config.json").read_text())["max_iters"] == 40
    assert "done at step 40" in r.stderr
    assert "loss=" in r.stderr and "tok_s=" in r.stderr  # the progress bar
    assert len(r.stdout.rstrip("\n")) >= 40  # the closing sample


def test_train_keeps_its_samples_in_the_run_directory(run_dir):
    from gptviz.samplelog import read_samples
    out, r = run_dir
    samples = read_samples(out / "samples.jsonl")
    assert [s["step"] for s in samples] == [15, 30, 40]  # --sample-every 15, and the closing one
    assert samples[-1]["text"] == r.stdout[:-1]  # the one printed
    assert all(len(s["text"]) == 50 and s["prompt"] == "" for s in samples)
    evals = {row["step"]: row["val_loss"] for row in read_metrics(out / "metrics.jsonl") if "val_loss" in row}
    assert samples[-1]["val_loss"] == evals[40] and samples[0]["val_loss"] == evals[0]
    assert samples[-1]["settings"] == {"temperature": 1.0, "top_k": None, "top_p": None,
                                       "max_new_tokens": 50, "seed": 1337}


def test_resume_extends_the_same_curve(run_dir, tmp_path, shakespeare_path):
    import shutil
    out = tmp_path / "run"
    shutil.copytree(run_dir[0], out)
    with open(out / "metrics.jsonl", "a") as f:  # rows from after the checkpoint: dropped
        f.write(json.dumps({"step": 41, "loss": 9.9, "lr": 0, "grad_norm": 0, "tokens_per_sec": 0}) + "\n")
        f.write('{"step": 42, "loss"')  # and a torn last line
    r = gptviz("train", "--out", out, "--resume", "--max-iters", 60, "--sample-chars", 0)
    assert r.returncode == 0, r.stderr
    rows = read_metrics(out / "metrics.jsonl")
    train_steps = [row["step"] for row in rows if "loss" in row]
    assert train_steps == list(range(1, 61))
    times = [row["time"] for row in rows if "loss" in row]
    assert all(b > a for a, b in zip(times, times[1:]))  # the clock went on from the checkpoint
    from gptviz.samplelog import read_samples
    assert [s["step"] for s in read_samples(out)] == [15, 30, 40]  # up to the checkpoint: kept


def test_sample_streams_text(run_dir):
    out, _ = run_dir
    r = gptviz("sample", "--checkpoint", out, "--prompt", "ROMEO:", "--max-new-tokens", 80,
               "--seed", 1, "--top-k", 10)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ROMEO:") and len(r.stdout) == len("ROMEO:") + 80 + 1
    again = gptviz("sample", "--checkpoint", out, "--prompt", "ROMEO:", "--max-new-tokens", 80,
                   "--seed", 1, "--top-k", 10)
    assert again.stdout == r.stdout


def test_sample_rejects_unknown_prompt_characters(run_dir):
    r = gptviz("sample", "--checkpoint", run_dir[0], "--prompt", "naïve €")
    assert r.returncode == 1
    assert "not in the vocabulary" in r.stderr and "Traceback" not in r.stderr


def test_sample_from_a_missing_checkpoint(tmp_path):
    r = gptviz("sample", "--checkpoint", tmp_path / "nothing")
    assert r.returncode == 1 and "no such checkpoint" in r.stderr


def test_bad_corpus_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00binary")
    r = gptviz("train", "--preset", "tiny", "--corpus", bad, "--out", tmp_path / "o")
    assert r.returncode == 1
    assert "bad.txt" in r.stderr and "binary" in r.stderr and "Traceback" not in r.stderr


def test_invalid_settings_exit_2(tmp_path, shakespeare_path):
    r = gptviz("train", "--preset", "tiny", "--n-embd", 30, "--n-head", 4,
               "--corpus", shakespeare_path, "--out", tmp_path)
    assert r.returncode == 2
    assert "n_embd (30) must be divisible by n_head (4)" in r.stderr
    r = gptviz("train", "--preset", "tiny", "--set", "warp=9", "--out", tmp_path)
    assert r.returncode == 2 and "unknown setting 'warp'" in r.stderr


def test_resume_without_a_checkpoint(tmp_path):
    r = gptviz("train", "--out", tmp_path, "--resume")
    assert r.returncode == 1 and "no checkpoint.pt" in r.stderr


def test_offline_default_corpus_falls_back(tmp_path):
    r = gptviz("train", "--preset", "tiny", "--out", tmp_path, "--max-iters", 3, "--sample-chars", 0)
    assert r.returncode == 0, r.stderr
    assert "Could not get Tiny Shakespeare" in r.stderr and "fallback" in r.stderr


def test_no_subcommand_prints_help_or_opens_the_window():
    r = gptviz("--help")
    assert r.returncode == 0 and "train" in r.stdout and "sample" in r.stdout


def test_console_script_is_installed():
    import shutil
    exe = shutil.which("gptviz", path=os.path.dirname(sys.executable))
    assert exe, "the gptviz console script is not installed next to this Python"
    r = subprocess.run([exe, "train", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--max-iters" in r.stdout and "--resume" in r.stdout


def test_an_existing_run_is_not_overwritten_without_force(run_dir, tmp_path, shakespeare_path):
    import shutil
    out = tmp_path / "run"
    shutil.copytree(run_dir[0], out)
    before = (out / "metrics.jsonl").read_text()
    r = gptviz("train", "--preset", "tiny", "--corpus", shakespeare_path, "--out", out)
    assert r.returncode == 1 and "--resume" in r.stderr and "--force" in r.stderr
    assert (out / "metrics.jsonl").read_text() == before
    r = gptviz("train", "--preset", "tiny", "--corpus", shakespeare_path, "--out", out, "--force",
               "--max-iters", 5, "--sample-chars", 0)
    assert r.returncode == 0, r.stderr


def test_ctrl_c_saves_a_whole_step_and_resumes(tmp_path, shakespeare_path):
    import signal
    import time
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.Popen([sys.executable, "-m", "gptviz", "train", "--preset", "tiny", "--corpus",
                          str(shakespeare_path), "--out", str(out), "--max-iters", "100000",
                          "--eval-interval", "100000"], stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(read_metrics(out / "metrics.jsonl")) < 30:
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "interrupted" in err and "--resume" in err
    from gptviz.checkpoint import load_checkpoint
    step = load_checkpoint(out).step
    rows = [r["step"] for r in read_metrics(out / "metrics.jsonl") if "loss" in r]
    assert step >= 29 and rows[-1] == step
    r = gptviz("train", "--out", out, "--resume", "--max-iters", step + 3, "--sample-chars", 0)
    assert r.returncode == 0, r.stderr
    rows = [r["step"] for r in read_metrics(out / "metrics.jsonl") if "loss" in r]
    assert rows == list(range(1, step + 4))
