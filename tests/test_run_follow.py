"""Following a run directory as it is written (run_follow.py, jsonl_tail.py): lines arriving
in pieces, garbage, files truncated, replaced, deleted and recreated, checkpoints replaced —
and the watched folder never written to."""

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gptviz.jsonl_tail import JsonlTail
from gptviz.run_follow import RunFollower
from gptviz.runlog import CONFIG, METRICS, MetricsLog, read_metrics, write_config
from gptviz.runs import CHECKPOINT, RunError
from gptviz.samplelog import SAMPLES, append_sample, read_samples, trim_samples
from tests.test_runs import sample, write_run


def snapshot(folder):
    """Every file's name, size, modification time and inode, and the folder's own modification
    time (a file created and removed again changes it): what 'nothing written' means."""
    files = {p.name: (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_ino) for p in folder.iterdir()}
    return files, folder.stat().st_mtime_ns


def append(path, data: bytes):
    with open(path, "ab") as f:
        f.write(data)


def row_line(step, loss=2.0) -> bytes:
    return (json.dumps({"step": step, "loss": loss, "lr": 1e-3, "grad_norm": 0.5,
                        "tokens_per_sec": 100.0, "time": 0.01 * step}) + "\n").encode()


def replace_with(path, data: bytes):
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def test_rows_arrive_once_each_and_a_torn_line_waits_until_it_is_finished(tmp_path):
    follower = RunFollower(tmp_path)
    assert not follower.poll() and not follower.has_metrics  # a folder whose run has not begun
    metrics = tmp_path / METRICS
    first, second = row_line(1, 3.0), row_line(2, 2.5)
    append(metrics, first + second[:17])  # the writer is in the middle of line 2
    changes = follower.poll()
    assert [r["step"] for r in changes.metrics] == [1] and not changes.metrics_reset
    assert not follower.poll().metrics  # nothing new: nothing again
    append(metrics, second[17:-1])
    assert not follower.poll().metrics  # still no newline
    append(metrics, b"\n" + row_line(3, 2.0))
    changes = follower.poll()
    assert [(r["step"], r["loss"]) for r in changes.metrics] == [(2, 2.5), (3, 2.0)]
    assert follower.last_step == 3 and follower.skipped == 0 and not changes.notes


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10**6), max_size=12))
def test_any_split_of_a_real_run_gives_its_rows_in_order(tmp_path_factory, cuts):
    source = write_run(tmp_path_factory.mktemp("source"), steps=12, eval_every=4)
    data = (source / METRICS).read_bytes()
    folder = tmp_path_factory.mktemp("watched")
    follower = RunFollower(folder, budget=50)  # small reads: lines also split across polls
    got, written = [], 0
    for cut in sorted({c % len(data) for c in cuts}) + [len(data)]:
        append(folder / METRICS, data[written:cut])
        written = cut
        changes = follower.poll()
        got += changes.metrics
        while changes.more:
            changes = follower.poll()
            got += changes.metrics
        assert not changes.metrics_reset
    assert got == read_metrics(source / METRICS)


def test_garbage_lines_are_skipped_with_their_line_and_reason_and_good_rows_kept(tmp_path):
    metrics = tmp_path / METRICS
    append(metrics, row_line(1) + b"not json at all\n" + b"\xff\xfe{}\n" + b"[1, 2]\n"
           + b'{"loss": 2.0}\n' + b'{"step": 2, "loss": "2.1"}\n' + b'{"step": true}\n'
           + b"\n" + row_line(3) + b'{"step": 3, "train_loss": 2.0, "val_loss": 2.1}\n'
           + b'{"step": 4, "device": "cuda:0"}\n'  # a row of a kind not known here passes
           + b'{"step": 5, "loss": 1' + b"0" * 400 + b'}\n' + b'{"step": -1, "loss": 2.0}\n'
           + b'{"step": 6, "loss": 1' + b"0" * 5000 + b'}\n' + b"[" * 100_000 + b"\n")
    follower = RunFollower(tmp_path, budget=1_000_000)  # all in one poll
    changes = follower.poll()
    assert [r["step"] for r in changes.metrics] == [1, 3, 3, 4]
    assert follower.skipped == 10
    assert changes.notes == [
        "skipped metrics.jsonl line 2: not JSON (Expecting value at column 1)",
        "skipped metrics.jsonl line 3: not UTF-8 text",
        "skipped metrics.jsonl line 4: not a JSON object",
        "skipped metrics.jsonl line 5: no step (a whole number)",
        "skipped metrics.jsonl line 6: loss is not a number",
        "skipped metrics.jsonl line 7: no step (a whole number)",
        "skipped metrics.jsonl line 12: loss is out of range",
        "skipped metrics.jsonl line 13: step -1 is out of range",
        "skipped metrics.jsonl line 14: not readable JSON (ValueError)",
        "skipped metrics.jsonl line 15: not readable JSON (RecursionError)",
    ]
    append(tmp_path / SAMPLES, b'{"step": 5, "text": 7}\n' + json.dumps(sample(5, "hi")).encode() + b"\n")
    changes = follower.poll()
    assert [s["text"] for s in changes.samples] == ["hi"]
    assert changes.notes == ["skipped samples.jsonl line 1: no text"]


def test_a_flood_of_garbage_is_summed_up_not_listed(tmp_path):
    append(tmp_path / METRICS, b"garbage\n" * 500 + row_line(1))
    follower = RunFollower(tmp_path)
    changes = follower.poll()
    assert [r["step"] for r in changes.metrics] == [1]
    assert len(changes.notes) == 21 and changes.notes[-1] == "skipped 480 more lines of metrics.jsonl"
    assert follower.skipped == 500


def test_an_overlong_line_is_skipped_and_the_next_ones_are_read(tmp_path):
    tail = JsonlTail(tmp_path / SAMPLES, max_line=1000)
    append(tail.path, b'{"step": 1, "text": "' + b"x" * 1500)
    read = tail.read()
    assert read.lines == [] and read.skipped == ["line 1: longer than 1,000 bytes"]
    append(tail.path, b"y" * 3000 + b'"}\n' + b'{"step": 2, "text": "ok"}\n')
    read = tail.read()
    assert read.lines == [(2, b'{"step": 2, "text": "ok"}')] and not read.skipped


def test_a_long_file_is_read_over_several_polls(tmp_path):
    write_run(tmp_path, steps=300)
    follower = RunFollower(tmp_path, budget=4096)
    polls, got = 0, []
    while True:
        changes = follower.poll()
        polls += 1
        got += changes.metrics
        if not changes.more:
            break
    assert got == read_metrics(tmp_path / METRICS)
    assert polls >= (tmp_path / METRICS).stat().st_size // 4096


def test_a_run_started_afresh_in_the_same_folder_resets_the_rows(tmp_path):
    write_run(tmp_path, steps=30)
    follower = RunFollower(tmp_path)
    assert len(follower.poll().metrics) == len(read_metrics(tmp_path / METRICS))
    size = (tmp_path / METRICS).stat().st_size
    with MetricsLog(tmp_path) as log:  # truncates in place (same inode), as `gptviz train --force`
        for s in range(1, 121):  # and writes more than was read before the next poll
            log.write({"step": s, "loss": 9.0 + s, "lr": 1e-3})
    assert (tmp_path / METRICS).stat().st_size > size
    changes = follower.poll()
    assert changes.metrics_reset
    assert changes.metrics == read_metrics(tmp_path / METRICS)
    assert "metrics.jsonl was replaced or truncated: read again from its start" in changes.notes
    assert follower.last_step == 120


def test_a_synced_copy_that_merely_grew_is_read_on_not_again(tmp_path):
    metrics = tmp_path / METRICS
    append(metrics, row_line(1) + row_line(2))
    follower = RunFollower(tmp_path)
    assert len(follower.poll().metrics) == 2
    replace_with(metrics, metrics.read_bytes() + row_line(3))  # a new inode, the same beginning
    changes = follower.poll()
    assert not changes.metrics_reset and [r["step"] for r in changes.metrics] == [3]


def test_a_resume_that_trims_the_log_resets_it(tmp_path):
    write_run(tmp_path, steps=20)
    follower = RunFollower(tmp_path)
    follower.poll()
    with MetricsLog(tmp_path, resume_step=10) as log:  # replaced by rows <= 10, then appended
        log.write({"step": 11, "loss": 1.0, "lr": 1e-3})
    changes = follower.poll()
    assert changes.metrics_reset
    assert [r["step"] for r in changes.metrics if "loss" in r] == list(range(1, 12))


def test_a_deleted_file_keeps_what_was_read_and_its_new_version_replaces_it(tmp_path):
    metrics = tmp_path / METRICS
    append(metrics, row_line(1) + row_line(2))
    follower = RunFollower(tmp_path)
    follower.poll()
    metrics.unlink()
    changes = follower.poll()
    assert not changes.metrics and not changes.metrics_reset
    assert changes.notes == ["metrics.jsonl was removed; what was read stays shown until it is back"]
    assert not follower.poll()  # said once
    append(metrics, row_line(1, loss=7.0) + row_line(2, loss=7.0) + row_line(3))  # other content, longer
    changes = follower.poll()
    assert changes.metrics_reset and [(r["step"], r["loss"]) for r in changes.metrics] == [
        (1, 7.0), (2, 7.0), (3, 2.0)]
    metrics.unlink()
    follower.poll()
    append(metrics, row_line(1, loss=7.0) + row_line(2, loss=7.0) + row_line(3) + row_line(4))
    changes = follower.poll()  # recreated holding what was read, and more: read on
    assert not changes.metrics_reset and [r["step"] for r in changes.metrics] == [4]


def test_samples_thinned_trimmed_or_removed_are_read_again_as_the_file_now_is(tmp_path):
    follower = RunFollower(tmp_path)
    seen = []
    for step in range(1, 80):
        append_sample(tmp_path, sample(step, "x" * 80), max_bytes=3000)  # thinned when full
        changes = follower.poll()
        seen = changes.samples if changes.samples_reset else seen + changes.samples
        assert seen == read_samples(tmp_path)
    assert follower.skipped == 0
    earlier = read_samples(tmp_path)
    trim_samples(tmp_path, 40)  # a resume: replaced by the samples up to step 40
    changes = follower.poll()
    assert changes.samples_reset and changes.samples == read_samples(tmp_path)
    assert max(s["step"] for s in changes.samples) <= 40
    trim_samples(tmp_path, None)  # a fresh start removes the file
    changes = follower.poll()
    assert changes.samples_reset and changes.samples == []
    append_sample(tmp_path, earlier[0])  # the new run's first sample, the same bytes
    append_sample(tmp_path, sample(90, "new"))
    changes = follower.poll()
    assert not changes.samples_reset and changes.samples == read_samples(tmp_path)


def test_config_changes_are_reported_once_and_a_bad_one_is_named(tmp_path):
    write_config(tmp_path, {"n_layer": 2, "max_iters": 100})
    follower = RunFollower(tmp_path)
    assert follower.poll().config == {"n_layer": 2, "max_iters": 100}
    assert follower.poll().config is None
    write_config(tmp_path, {"n_layer": 2, "max_iters": 200})
    assert follower.poll().config["max_iters"] == 200
    replace_with(tmp_path / CONFIG, b'{"n_layer": 2, "max_')  # e.g. a sync tool mid-copy
    changes = follower.poll()
    assert changes.config is None and changes.notes[0].startswith("config.json is not readable yet (")
    assert follower.config["max_iters"] == 200


def test_a_replaced_checkpoint_is_reported_each_time(tmp_path, small_corpus):
    from gptviz.checkpoint import load_checkpoint, save_checkpoint
    from gptviz.config import PRESETS, TrainConfig
    from gptviz.trainer import Trainer
    follower = RunFollower(tmp_path)
    assert not follower.poll().checkpoint
    trainer = Trainer(TrainConfig(**{**PRESETS["tiny"], "max_iters": 2}), small_corpus)
    save_checkpoint(tmp_path, trainer)
    assert follower.poll().checkpoint
    assert not follower.poll().checkpoint
    trainer.step()
    save_checkpoint(tmp_path, trainer)  # atomically replaced
    assert follower.poll().checkpoint
    assert load_checkpoint(tmp_path).step == 1
    (tmp_path / CHECKPOINT).unlink()
    assert not follower.poll().checkpoint


def test_a_missing_folder_is_a_clear_error_and_a_vanished_one_a_note(tmp_path):
    with pytest.raises(RunError, match="no such folder"):
        RunFollower(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunError, match="not a folder"):
        RunFollower(tmp_path / "file")
    folder = write_run(tmp_path / "run", steps=3)
    follower = RunFollower(folder)
    follower.poll()
    renamed = folder.rename(tmp_path / "elsewhere")
    assert follower.poll().notes == [f"{folder} is gone; what was read stays shown"]
    assert not follower.poll()
    renamed.rename(folder)
    assert follower.poll().notes == [f"{folder} is back"]


def test_following_never_writes_into_the_folder(tmp_path):
    write_run(tmp_path, steps=10)
    append_sample(tmp_path, sample(5, "hello"))
    append(tmp_path / METRICS, b'{"step": 11, "loss"')  # a torn last line
    append(tmp_path / SAMPLES, b"garbage\n")
    (tmp_path / CHECKPOINT).write_bytes(b"not yet a checkpoint")
    before = snapshot(tmp_path)
    follower = RunFollower(tmp_path, budget=64)
    for _ in range(100):
        follower.poll()
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([METRICS, SAMPLES, CONFIG, CHECKPOINT])
