"""Run directories read back (runs.py), their samples (samplelog.py), and export to CSV and
TensorBoard (export.py), on run directories written here with the real writers."""

import csv
import json
import math
import sys

import numpy as np
import pytest

from gptviz.checkpoint import FILENAME
from gptviz.export import TENSORBOARD_MISSING, ExportError, export_csv, export_tensorboard
from gptviz.runlog import MetricsLog, write_config
from gptviz.runs import CHECKPOINT, RunError, load_run
from gptviz.samplelog import SAMPLES, append_sample, read_samples, sample_row, trim_samples


def sample(step, text, val=1.5, prompt=""):
    return sample_row(step, val, prompt, text, temperature=0.8, top_k=None, top_p=0.9,
                      max_new_tokens=len(text), seed=1337 + step)


def write_run(folder, steps=20, eval_every=10, with_time=True, extra=None):
    """A run directory as `gptviz train` writes it: eval at 0, every eval_every, at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    write_config(folder, {"n_layer": 2, "n_embd": 32, "block_size": 32, "lr": 1e-3, "corpus": "x.txt"})
    with MetricsLog(folder) as log:
        log.write({"step": 0, "train_loss": 4.2, "val_loss": 4.25})
        for s in range(1, steps + 1):
            row = {"step": s, "loss": 4.2 - 0.1 * s, "lr": 1e-3, "grad_norm": 1.0 / s,
                   "tokens_per_sec": 1000.0 + s}
            if with_time:
                row["time"] = 0.05 * s
            if extra and s == 3:
                row.update(extra)
            log.write(row)
            if s % eval_every == 0:
                log.write({"step": s, "train_loss": 4.0 - 0.1 * s, "val_loss": 4.1 - 0.1 * s})
    return folder


# -- samples.jsonl --------------------------------------------------------------------------------

def test_samples_round_trip_and_skip_a_torn_line(tmp_path):
    rows = [sample(10, "First Citizen:\n"), sample(20, "Before we proceed", val=None, prompt="ROMEO:")]
    for row in rows:
        append_sample(tmp_path, row)
    with open(tmp_path / SAMPLES, "a") as f:
        f.write('{"step": 30, "text": "torn')  # a crash mid-write
    assert read_samples(tmp_path) == rows
    assert rows[0]["settings"] == {"temperature": 0.8, "top_k": None, "top_p": 0.9,
                                   "max_new_tokens": 15, "seed": 1347}
    assert sample_row(5, math.nan, "", "x", temperature=1.0, top_k=None, top_p=None, max_new_tokens=1,
                      seed=None)["val_loss"] is None  # JSON has no NaN


def test_samples_are_trimmed_like_the_metrics_on_resume(tmp_path):
    for step in (10, 20, 30):
        append_sample(tmp_path, sample(step, f"at {step}"))
    trim_samples(tmp_path, 20)
    assert [r["step"] for r in read_samples(tmp_path)] == [10, 20]
    append_sample(tmp_path, sample(30, "again"))
    # a resumed run that was not trimmed: its later samples replace the stale ones
    append_sample(tmp_path, sample(20, "resumed at 20"))
    assert [(r["step"], r["text"]) for r in read_samples(tmp_path)] == [
        (10, "at 10"), (20, "at 20"), (20, "resumed at 20")]
    trim_samples(tmp_path, None)
    assert not (tmp_path / SAMPLES).exists()


def test_samples_file_stays_bounded_keeping_the_first_and_the_newest(tmp_path):
    limit = 4000
    for step in range(1, 201):
        append_sample(tmp_path, sample(step, "x" * 100), max_bytes=limit)
        assert (tmp_path / SAMPLES).stat().st_size <= limit
    steps = [r["step"] for r in read_samples(tmp_path)]
    assert steps[0] == 1 and steps[-1] == 200 and steps == sorted(steps)
    assert 10 <= len(steps) < 200
    assert not list(tmp_path.glob("*.tmp"))


# -- reading a run back ---------------------------------------------------------------------------

def test_load_run_reads_curves_samples_and_times(tmp_path):
    run_dir = write_run(tmp_path / "r")
    append_sample(run_dir, sample(10, "hello"))
    run = load_run(run_dir)
    assert run.name == "r" and run.config["n_layer"] == 2 and run.last_step == 20
    assert run.steps.tolist() == list(range(1, 21))
    assert run.loss.tolist() == [4.2 - 0.1 * s for s in range(1, 21)]
    assert run.has_time and run.time.tolist() == [0.05 * s for s in range(1, 21)]
    assert run.eval_steps.tolist() == [0, 10, 20]
    assert run.eval_time.tolist() == [0.0, 0.05 * 10, 0.05 * 20]  # an evaluation at its step's time
    assert run.samples == [sample(10, "hello")]
    assert not run.has_checkpoint and CHECKPOINT == FILENAME
    assert any("no checkpoint.pt" in n for n in run.notes())
    assert "20 steps" in run.summary() and "best val 2.1000" in run.summary()


def test_an_older_run_without_times_compares_by_step_only(tmp_path):
    run = load_run(write_run(tmp_path / "old", with_time=False))
    assert not run.has_time and np.isnan(run.eval_time).all()
    assert any("no time" in n for n in run.notes())


def test_not_a_run_directory(tmp_path):
    with pytest.raises(RunError, match="no metrics.jsonl"):
        load_run(tmp_path)
    with pytest.raises(RunError, match="not a folder"):
        load_run(tmp_path / "missing")


# -- export ---------------------------------------------------------------------------------------

def test_csv_export_round_trips_every_column(tmp_path):
    run_dir = write_run(tmp_path / "r", extra={"custom": 7.5, "grad_norm": None})
    n = export_csv(run_dir, tmp_path / "m.csv")
    with open(tmp_path / "m.csv", newline="") as f:
        reader = csv.DictReader(f)
        header, lines = reader.fieldnames, list(reader)
    assert header == ["step", "loss", "lr", "grad_norm", "tokens_per_sec", "time", "train_loss", "val_loss",
                      "custom"]
    assert n == len(lines) == 21
    merged = {}
    for row in load_run(run_dir).rows:
        merged.setdefault(row["step"], {}).update(row)
    for line in lines:
        back = {k: (int(v) if k == "step" else float(v)) for k, v in line.items() if v != ""}
        expected = {k: v for k, v in merged[back["step"]].items() if v is not None}
        assert back == expected  # floats exactly, empty cells where a row has no value
    assert not list(tmp_path.glob("*.tmp"))


def test_tensorboard_export_reads_back(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    run_dir = write_run(tmp_path / "r")
    append_sample(run_dir, sample(10, "First Citizen:"))
    append_sample(run_dir, sample(20, "Before we proceed"))
    n = export_tensorboard(run_dir, tmp_path / "tb")
    acc = EventAccumulator(str(tmp_path / "tb"), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    assert sorted(acc.Tags()["scalars"]) == ["eval/train_loss", "eval/val_loss", "train/grad_norm",
                                             "train/loss", "train/lr", "train/tokens_per_sec"]
    loss = acc.Scalars("train/loss")
    assert [e.step for e in loss] == list(range(1, 21))
    assert [e.value for e in loss] == pytest.approx([4.2 - 0.1 * s for s in range(1, 21)], rel=1e-6)
    start = loss[0].wall_time - 0.05
    assert [e.wall_time - start for e in loss] == pytest.approx([0.05 * s for s in range(1, 21)], abs=1e-3)
    val = acc.Scalars("eval/val_loss")
    assert [(e.step, round(e.value, 5)) for e in val] == [(0, 4.25), (10, 3.1), (20, 2.1)]
    texts = acc.Tensors("samples/text_summary")
    assert [e.step for e in texts] == [10, 20]
    assert "Before we proceed" in texts[1].tensor_proto.string_val[0].decode()
    assert n == 20 * 4 + 3 * 2 + 2


def test_tensorboard_export_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    with pytest.raises(ExportError) as e:
        export_tensorboard(write_run(tmp_path / "r"), tmp_path / "tb")
    assert str(e.value) == TENSORBOARD_MISSING and "pip install 'gptviz[tensorboard]'" in str(e.value)
    assert not (tmp_path / "tb").exists()


def test_export_command(tmp_path, capsys):
    from gptviz.cli import main
    run_dir = write_run(tmp_path / "r")
    assert main(["export", str(run_dir), "--csv", str(tmp_path / "m.csv"),
                 "--tensorboard", str(tmp_path / "tb")]) == 0
    err = capsys.readouterr().err
    assert "wrote 21 steps" in err and "tensorboard --logdir" in err
    assert len((tmp_path / "m.csv").read_text().splitlines()) == 22
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert main(["export", str(run_dir)]) == 2
    assert "--csv FILE and/or --tensorboard DIR" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nothing"), "--csv", str(tmp_path / "x.csv")]) == 1
    assert "not a folder" in capsys.readouterr().err


def test_config_json_is_what_the_run_wrote(tmp_path):
    run_dir = write_run(tmp_path / "r")
    assert load_run(run_dir).config == json.loads((run_dir / "config.json").read_text())
