"""File → Watch run directory…: the window follows a run that another process writes, draws
it as it grows, survives torn, garbage and replaced files, and never writes into it."""

import os
import subprocess
import sys
import threading

from PySide6.QtWidgets import QLabel

from gptviz.runlog import METRICS, read_metrics
from gptviz.samplelog import SAMPLES, append_sample, read_samples
from tests.gui.window_helpers import button
from tests.test_run_follow import row_line, snapshot
from tests.test_runs import sample, write_run

STEPS = 400


def watcher_threads():
    return [t for t in threading.enumerate() if t.name == "gptviz-watched-checkpoint"]


def test_the_window_follows_gptviz_train_in_another_process_to_its_last_step(make_window, qtbot, tmp_path,
                                                                            shakespeare_path):
    out = tmp_path / "run"
    out.mkdir()  # e.g. a synced folder, watched before the run on another machine begins
    w = make_window()
    assert w.watch_run(out)
    label = w.findChild(QLabel, "watchLabel")
    assert label.text() == "Watching run — waiting for metrics.jsonl"
    assert label.toolTip() == str(out)
    assert not button(w, "trainButton").isEnabled()  # watching is not training
    assert "being watched" in button(w, "trainButton").toolTip()
    train = subprocess.Popen(
        [sys.executable, "-m", "gptviz", "train", "--preset", "tiny", "--corpus", str(shakespeare_path),
         "--out", str(out), "--max-iters", str(STEPS), "--eval-interval", "100", "--sample-chars", "60",
         "--sample-every", "100"],
        env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        drawn = set()  # how many steps the plot held at each look while the run was being written

        def finished():
            drawn.add(len(w.loss_plot.history))
            return train.poll() is not None
        qtbot.waitUntil(finished, timeout=60_000)
        assert train.wait() == 0, train.stderr.read()
        assert any(0 < n < STEPS for n in drawn)  # it drew the run while it grew

        rows, samples = read_metrics(out / METRICS), read_samples(out / SAMPLES)
        qtbot.waitUntil(lambda: len(w.loss_plot.history) == STEPS and w.watch.checkpoint_step == STEPS
                        and len(w.samples.samples()) == len(samples), timeout=10_000)
        train_rows = [r for r in rows if "loss" in r]
        history = w.loss_plot.history  # the plot holds exactly what the run wrote
        assert history.x.tolist() == [r["step"] for r in train_rows] == list(range(1, STEPS + 1))
        assert history["loss"].tolist() == [r["loss"] for r in train_rows]
        assert history["lr"].tolist() == [r["lr"] for r in train_rows]
        assert w.loss_plot.evals["val_loss"].tolist() == [r["val_loss"] for r in rows if "val_loss" in r]
        assert [s[0] for s in w.samples.samples()] == [s["step"] for s in samples]
        assert {100, 200, 300} <= {s["step"] for s in samples}
        assert w.timeline.steps[-1] == STEPS  # the watched run feeds the timeline too
        kept = w.timeline.at(200)
        assert kept.step == 200 and kept.part("sample")["step"] == 200
        assert [s[2] for s in w.samples.samples()] == [s["prompt"] + s["text"] for s in samples]
        assert label.text() == f"Watching run — step {STEPS} · checkpoint at step {STEPS}"
        assert w.status.step.text() == f"step {STEPS} / {STEPS}"
        assert w.attention_view.maps.step == STEPS  # drawn from the latest checkpoint's model
        assert w.attention_view.maps.layers == 2 and w.attention_view.maps.heads == 2

        before = snapshot(out)
        qtbot.wait(700)  # a few more polls of a finished run
        w.close()
        assert w.watch is None and not watcher_threads()
        assert snapshot(out) == before  # nothing written, created or touched by the window
        assert sorted(p.name for p in out.iterdir()) == sorted([METRICS, SAMPLES, "config.json",
                                                                 "checkpoint.pt"])
        assert w.run_dir is None and not (tmp_path / "runs").exists()  # no run of its own either
    finally:
        if train.poll() is None:
            train.kill()
            train.wait()


def test_torn_garbage_and_replaced_files_are_shown_as_the_files_now_are(make_window, qtbot, tmp_path):
    run = write_run(tmp_path / "run", steps=20, eval_every=10)
    append_sample(run, sample(10, "First Citizen"))
    w = make_window()
    assert not w.watch_run(tmp_path / "missing")
    assert "Cannot watch it:" in w.error_banner.text() and "no such folder" in w.error_banner.text()
    assert w.watch is None
    assert w.watch_run(run)
    qtbot.waitUntil(lambda: len(w.loss_plot.history) == 20)
    label = w.findChild(QLabel, "watchLabel")

    with open(run / METRICS, "ab") as f:  # a torn line, then garbage, then the torn line's end
        line = row_line(21, 1.5)
        f.write(line[:10])
        f.flush()
        qtbot.wait(400)
        assert len(w.loss_plot.history) == 20
        f.write(line[10:] + b"\x00\x01 not a row\n" + row_line(22, 1.4))
    qtbot.waitUntil(lambda: len(w.loss_plot.history) == 22)
    assert w.loss_plot.history["loss"].tolist()[-2:] == [1.5, 1.4]
    qtbot.waitUntil(lambda: "1 line skipped" in label.text())
    assert label.toolTip().startswith(f"{run}\nskipped metrics.jsonl line 25: not JSON")

    (run / METRICS).unlink()  # deleted: what was drawn stays
    qtbot.wait(400)
    assert len(w.loss_plot.history) == 22
    (run / METRICS).write_bytes(b"".join(row_line(s, 3.0) for s in range(1, 31)))  # another run
    qtbot.waitUntil(lambda: len(w.loss_plot.history) == 30)
    assert set(w.loss_plot.history["loss"].tolist()) == {3.0} and not len(w.loss_plot.evals)

    for step in range(20, 120, 10):  # samples.jsonl thinned (replaced) as it fills up
        append_sample(run, sample(step, "x" * 200), max_bytes=1500)
        w.watch.poll()  # a poll after each sample (the timer's would come within POLL_MS)
        assert [s[0] for s in w.samples.samples()] == [r["step"] for r in read_samples(run)]
    assert len(read_samples(run)) < 11  # it was thinned

    before = snapshot(run)
    w.stop_watching()
    assert w.watch is None and not label.isVisible()
    assert button(w, "trainButton").isEnabled()
    assert len(w.loss_plot.history) == 30  # the curves stay shown
    qtbot.wait(400)
    assert snapshot(run) == before and not watcher_threads()
