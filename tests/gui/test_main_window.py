"""The real window, driven with pytest-qt, training the tiny preset on Tiny Shakespeare."""

import threading
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel, QMessageBox, QPlainTextEdit, QSpinBox

from gptviz.gui import build_main_window, run_control
from gptviz.gui.payloads import StepBatch

from .window_helpers import button, click, pause, stream_a_long_sample


def trainer_steps(w) -> int:
    return w.run.trainer.step_count


def test_the_workers_reports_reach_the_window_on_the_gui_thread(make_window, qtbot, monkeypatch):
    """StepBatches are made on the worker thread; the window's slots that receive them (and the
    state) must run on the GUI thread: queued, not called on the emitting thread, which is what
    PySide6 does to a slot declared outside MainWindow (see gui/main_window.py's note)."""
    gui_thread = threading.get_ident()
    made_on, received_on = [], []
    real_from_metrics = StepBatch.from_metrics

    def from_metrics(cls, metrics):
        made_on.append(threading.get_ident())
        return real_from_metrics(metrics)

    monkeypatch.setattr(StepBatch, "from_metrics", classmethod(from_metrics))
    for name in ("on_steps", "on_state"):    # what MainWindow._on_steps and _on_state call
        real = getattr(run_control, name)

        def spy(window, report, real=real, name=name):
            received_on.append((name, threading.get_ident()))
            if threading.get_ident() == gui_thread:    # elsewhere it would touch widgets off their thread
                real(window, report)

        monkeypatch.setattr(run_control, name, spy)
    w = make_window()
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: sum(name == "on_steps" for name, _ in received_on) >= 3, timeout=30_000)
    click(qtbot, w, "stopButton")
    qtbot.waitUntil(lambda: not w.active(), timeout=5_000)
    assert made_on and gui_thread not in made_on
    assert {name for name, _ in received_on} == {"on_steps", "on_state"}
    assert {thread for _, thread in received_on} == {gui_thread}


def test_start_pause_step_resume_stop(make_window, qtbot):
    w = make_window()
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.last_step >= 30, timeout=30_000)
    history = w.loss_plot.history
    assert len(history) >= 30  # metrics reached the loss plot

    t0 = time.monotonic()
    pause(qtbot, w)
    assert time.monotonic() - t0 < 1.0
    assert button(w, "pauseButton").text() == "Resume"
    paused_at = trainer_steps(w)
    qtbot.wait(400)
    assert trainer_steps(w) == paused_at  # paused: no progress
    assert w.last_step == paused_at  # and the window has seen every step

    click(qtbot, w, "stepButton")
    qtbot.waitUntil(lambda: w.last_step == paused_at + 1, timeout=5_000)
    qtbot.wait(300)
    assert trainer_steps(w) == paused_at + 1  # exactly one step
    assert w.state == "paused"

    click(qtbot, w, "pauseButton")  # resume
    qtbot.waitUntil(lambda: trainer_steps(w) > paused_at + 10, timeout=10_000)
    click(qtbot, w, "stopButton")
    qtbot.waitUntil(lambda: not w.active(), timeout=5_000)
    assert w.state == "stopped"
    # the controls follow the thread's `finished` signal, handled just after it stops running
    qtbot.waitUntil(lambda: button(w, "trainButton").isEnabled(), timeout=5_000)


def test_sample_now_while_paused_streams_into_samples_view(make_window, qtbot):
    w = make_window()
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.last_step >= 5, timeout=20_000)
    pause(qtbot, w)
    view = w.findChild(QPlainTextEdit, "samplesView")
    before = view.toPlainText()
    click(qtbot, w, "sampleNowButton")
    qtbot.waitUntil(lambda: len(view.toPlainText()) > len(before) + 100, timeout=10_000)
    assert w.state == "paused" and trainer_steps(w) == w.last_step


def test_invalid_settings_block_start_with_a_message(make_window, qtbot):
    w = make_window()
    start = button(w, "trainButton")
    assert start.isEnabled()
    summary = w.findChild(QLabel, "settingsError")
    w.settings_panel.findChild(QSpinBox, "setting_n_head").setValue(2)
    editor = w.settings_panel.findChild(QSpinBox, "setting_n_embd")
    editor.setValue(31)
    qtbot.waitUntil(lambda: not start.isEnabled(), timeout=2_000)
    assert "divisible" in start.toolTip()
    assert "divisible" in summary.text() and summary.isVisible()
    editor.setValue(32)
    qtbot.waitUntil(start.isEnabled, timeout=2_000)


def test_block_size_longer_than_the_corpus_blocks_start(make_window, qtbot, tmp_path):
    small = tmp_path / "small.txt"
    small.write_text("to be or not to be " * 20)  # val split: 38 characters
    w = make_window(corpus=small)
    editor = w.settings_panel.findChild(QSpinBox, "setting_block_size")
    editor.setValue(64)
    qtbot.waitUntil(lambda: not button(w, "trainButton").isEnabled(), timeout=2_000)
    assert "val split" in button(w, "trainButton").toolTip()


def test_corpus_error_is_shown_and_the_app_stays_up(make_window, qtbot, tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    w = make_window(corpus=bad, wait_corpus=False)
    banner = w.findChild(QLabel, "errorBanner")
    qtbot.waitUntil(banner.isVisible, timeout=10_000)
    assert "bad.bin" in banner.text() and "binary" in banner.text()
    assert not button(w, "trainButton").isEnabled()
    assert "no corpus" in button(w, "trainButton").toolTip()
    assert w.isVisible()
    w.load_corpus(str(tmp_path / "missing.txt"))
    qtbot.waitUntil(lambda: "no such file" in banner.text(), timeout=10_000)


def test_offline_default_corpus_shows_a_notice(make_window, qtbot):
    w = make_window(corpus=None)
    notice = w.findChild(QLabel, "corpusNotice")
    assert notice.isVisible() and "fallback" in notice.text()
    assert button(w, "trainButton").isEnabled()


def test_close_during_training_stops_the_thread(make_window, qtbot):
    w = make_window()
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.last_step >= 5, timeout=20_000)
    thread = w.run.thread
    asked = []
    w.ask_save_on_close = lambda: asked.append(1) or QMessageBox.StandardButton.Discard
    assert w.close()
    assert asked == [1]
    assert thread.isFinished() and not thread.isRunning()


def test_close_can_save_first(make_window, qtbot):
    w = make_window()
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.last_step >= 5, timeout=20_000)
    w.ask_save_on_close = lambda: QMessageBox.StandardButton.Save
    run_dir = w.run_dir
    assert w.close()
    from gptviz.checkpoint import load_checkpoint
    from gptviz.runlog import read_metrics
    step = load_checkpoint(run_dir).step
    rows = [r["step"] for r in read_metrics(run_dir / "metrics.jsonl") if "loss" in r]
    assert step >= 5 and rows == list(range(1, step + 1))  # the log matches the checkpoint


def test_save_then_resume_continues_the_curve(make_window, qtbot):
    w = make_window()
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.last_step >= 20, timeout=20_000)
    pause(qtbot, w)
    saved_step = w.last_step
    click(qtbot, w, "saveButton")
    qtbot.waitUntil(lambda: (w.run_dir / "checkpoint.pt").is_file() and not w.unsaved, timeout=5_000)
    run_dir = w.run_dir
    click(qtbot, w, "stopButton")
    qtbot.waitUntil(lambda: not w.active(), timeout=5_000)
    w.close()

    w2 = make_window()
    assert w2.open_checkpoint(str(run_dir))
    qtbot.waitUntil(lambda: w2.run.trainer is not None, timeout=10_000)  # built on its thread
    assert w2.state == "paused" and trainer_steps(w2) == saved_step
    steps = w2.loss_plot.history
    assert len(steps) == saved_step  # the old curve is back
    click(qtbot, w2, "pauseButton")  # resume
    qtbot.waitUntil(lambda: w2.last_step >= saved_step + 10, timeout=20_000)
    click(qtbot, w2, "stopButton")
    qtbot.waitUntil(lambda: not w2.active(), timeout=5_000)
    from gptviz.runlog import read_metrics
    train_steps = [r["step"] for r in read_metrics(run_dir / "metrics.jsonl") if "loss" in r]
    assert train_steps == list(range(1, len(train_steps) + 1))  # one continuous curve
    assert train_steps[-1] >= saved_step + 10


def test_non_finite_loss_pauses_with_a_message(make_window, qtbot):
    w = make_window("--preset", "tiny", "--set", "max_iters=100000", "--lr", "1000", "--set", "min_lr=1.0")
    click(qtbot, w, "trainButton")
    banner = w.findChild(QLabel, "errorBanner")
    qtbot.waitUntil(banner.isVisible, timeout=30_000)
    assert "non-finite" in banner.text()
    qtbot.waitUntil(lambda: w.state == "paused", timeout=5_000)
    step = trainer_steps(w)
    assert w.last_step == step  # the window saw every completed step
    for p in w.run.trainer.model.parameters():  # the last good state: no NaN/inf applied
        assert np.isfinite(p.detach().numpy()).all()


def test_screenshot_is_not_blank(make_window, qtbot):
    w = make_window()
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.last_step >= 20, timeout=20_000)
    qtbot.wait(100)
    image = w.grab().toImage()
    assert image.width() > 600 and image.height() > 400
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20


def test_pyside_does_not_leak_references_to_none(qtbot):
    """PySide6 6.12.0 on Python 3.10/3.11 dropped a reference to None on each call that
    returns None; after a few thousand calls the interpreter aborts (none_dealloc)."""
    import sys

    from PySide6.QtWidgets import QWidget
    w = QWidget()
    qtbot.addWidget(w)
    before = sys.getrefcount(None)
    for i in range(20_000):
        w.setObjectName("x")  # returns None
        w.setProperty("n", i)
    assert sys.getrefcount(None) >= before - 100


def test_command_line_options_preconfigure_the_window(make_window):
    w = make_window("--preset", "cpu", "--set", "lr=0.002", "--n-layer", "3")
    config = w.settings_panel.config()
    assert (config.n_layer, config.n_embd, config.block_size, config.lr) == (3, 128, 64, 0.002)


def test_bad_command_line_option_is_refused_before_a_window_exists():
    from gptviz.model import ConfigError
    with pytest.raises(ConfigError, match="divisible"):
        build_main_window(["--preset", "tiny", "--n-embd", "33"])


def test_settings_and_corpus_are_remembered_between_launches(make_window, qtbot, shakespeare_path):
    w = make_window("--preset", "tiny", "--n-layer", "3")
    w.close()
    w2 = build_main_window([])  # no options: last session's settings and corpus
    qtbot.addWidget(w2)
    qtbot.waitUntil(lambda: w2.corpus is not None and not w2.loader.busy(), timeout=15_000)
    assert w2.settings_panel.config().n_layer == 3
    assert w2.corpus.name == str(shakespeare_path)
    w2.shutdown()


def test_device_and_timeline_cadence_are_remembered_between_launches(make_window):
    from gptviz.gui.settings_store import app_settings
    from gptviz.timeline import DEFAULT_EVERY
    w = make_window()
    w.settings_panel.device_picker.set_device("cpu")
    w.timeline_bar.every.setValue(250)
    w.close()
    w2 = make_window()
    assert w2.settings_panel.device() == "cpu"
    assert w2.timeline_bar.every.value() == 250 and w2.timeline.every == 250
    w2.close()
    s = app_settings()
    s.setValue("training/device", "cuda:7")  # remembered from a machine with GPUs
    s.setValue("timeline/every", "many")
    s.sync()
    w3 = make_window()
    assert w3.settings_panel.device() == "auto"  # not here: the default stays, no error
    assert w3.timeline_bar.every.value() == DEFAULT_EVERY  # unreadable: the default


def test_metrics_export_to_csv(make_window, qtbot, tmp_path):
    import csv

    from gptviz.export import export_csv
    w = make_window("--preset", "tiny", "--set", "max_iters=20", "--set", "eval_interval=10")
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.state == "finished", timeout=30_000)
    qtbot.wait(100)
    n = export_csv(w.run_dir, tmp_path / "m.csv")
    rows = list(csv.DictReader(open(tmp_path / "m.csv")))
    assert n == len(rows) == 21  # steps 0..20
    assert rows[0]["step"] == "0" and rows[0]["val_loss"] and not rows[0]["loss"]
    assert rows[10]["loss"] and rows[10]["val_loss"]
    w.loss_plot.export_png(str(tmp_path / "loss.png"))
    assert (tmp_path / "loss.png").stat().st_size > 1000


def test_default_corpus_is_downloaded_when_there_is_none(make_window, qtbot, monkeypatch, shakespeare_path):
    from tests.loopback import LoopbackServer
    with LoopbackServer() as server:
        server.body = shakespeare_path.read_bytes()
        monkeypatch.setenv("GPTVIZ_CORPUS_URL", server.url)
        w = make_window(corpus=None)
        assert server.requests == 1
    assert w.corpus.vocab_size == 65 and w.corpus.notice is None
    assert not w.findChild(QLabel, "corpusNotice").isVisible()
    assert "1,115,394 characters" in w.findChild(QLabel, "corpusLabel").text()


# -- export, continuing a finished run, Step during a sample, Pause inside a long step ------

PLOT_COLOURS = {  # each exported plot and a colour its data is drawn in (plot_style.SERIES_COLORS)
    "training_loss": "#3b82f6", "learning_rate": "#a855f7", "gradient_norm": "#3b82f6",
    "gradient_norm_per_layer": "#3b82f6", "gradient_histogram": "#22c55e",
    "update_data_ratio": "#3b82f6",
}


def pixels(path) -> np.ndarray:
    """The image as an (h, w, 3) RGB array."""
    from PySide6.QtGui import QImage
    image = QImage(str(path))
    assert not image.isNull(), path
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    h, w = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    bgra = rows.reshape(h, image.bytesPerLine())[:, :4 * w].reshape(h, w, 4)
    return bgra[..., 2::-1].copy()  # a copy: the QImage owns the buffer and goes away


def test_export_writes_each_plot_as_a_png_and_the_metrics_as_csv(make_window, qtbot, tmp_path,
                                                                  monkeypatch):
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QFileDialog

    from gptviz.gui import worker
    monkeypatch.setattr(worker, "DIAGNOSTICS_BUDGET", 0.0)  # every 10th step: 3 points per curve
    w = make_window("--preset", "tiny", "--set", "max_iters=30", "--set", "eval_interval=10")
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.state == "finished", timeout=30_000)
    folder = tmp_path / "export"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    plots = {**w.loss_plot.plots(), **w.gradients.plots()}
    on_screen = {name: p.scene().views()[0].size() for name, p in plots.items()}
    w.actions_["export_png"].trigger()  # File → Export each plot as PNG…
    assert {name: p.scene().views()[0].size() for name, p in plots.items()} == on_screen
    assert not plots["training_loss"].getAxis("bottom").style["showValues"]  # as it was
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{name}.png" for name in PLOT_COLOURS] + ["metrics.csv"])
    for name, colour in PLOT_COLOURS.items():
        path = folder / f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000, name
        rgb = pixels(path)
        assert rgb.shape[0] >= 150 and rgb.shape[1] >= 600, (name, rgb.shape)  # not a thin strip
        assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20, f"{name} is blank"
        c = QColor(colour)
        near = np.abs(rgb.astype(int) - [c.red(), c.green(), c.blue()]).sum(axis=2) < 60
        assert near.sum() > 30, f"{name}: no data drawn in {colour}"
    assert len((folder / "metrics.csv").read_text().splitlines()) == 1 + 31  # header, steps 0..30

    if w.views.count() > 1:  # the same from another tab, where the plots are hidden
        w.views.setCurrentIndex(w.views.count() - 1)
        again = w.export_to(tmp_path / "from another tab")
        assert [pixels(p).shape for p in again[:-1]] == [pixels(folder / p.name).shape for p in again[:-1]]


def test_a_finished_run_can_be_trained_further(make_window, qtbot):
    import json
    import threading

    from PySide6.QtWidgets import QWidget

    from gptviz.config import FIELD_TYPES, preset
    from gptviz.runlog import read_metrics
    from gptviz.trainer import Trainer
    w = make_window("--preset", "tiny", "--set", "max_iters=20", "--set", "eval_interval=10")
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.state == "finished", timeout=30_000)
    trainer = w.run.trainer
    start, panel = button(w, "trainButton"), w.settings_panel
    assert start.text() == "Continue" and not start.isEnabled()
    assert "raise max_iters above 20" in start.toolTip()
    editable = {n for n in FIELD_TYPES if panel.findChild(QWidget, f"setting_{n}").isEnabled()}
    assert editable == {"max_iters", "eval_interval", "eval_iters"}  # the model stays locked

    panel.findChild(QSpinBox, "setting_max_iters").setValue(40)
    panel.findChild(QSpinBox, "setting_eval_interval").setValue(5)
    qtbot.waitUntil(start.isEnabled, timeout=2_000)
    click(qtbot, w, "trainButton")
    assert not panel.findChild(QSpinBox, "setting_max_iters").isEnabled()  # locked while it trains
    qtbot.waitUntil(lambda: w.state == "finished" and w.last_step == 40, timeout=30_000)
    assert w.run.trainer is trainer and trainer.step_count == 40  # the same model, trained on
    assert trainer.config.lr_decay_iters == 20  # the schedule it followed, kept: no lr jump
    assert start.text() == "Continue" and not start.isEnabled()

    rows = read_metrics(w.run_dir / "metrics.jsonl")
    train = [r for r in rows if "loss" in r]
    assert [r["step"] for r in train] == list(range(1, 41))  # one unbroken curve
    assert [r["step"] for r in rows if "val_loss" in r] == [0, 10, 20, 25, 30, 35, 40]
    assert [r["lr"] for r in train[20:]] == pytest.approx([trainer.config.min_lr] * 20)
    assert json.loads((w.run_dir / "config.json").read_text())["max_iters"] == 40

    # ... exactly the run that would have been trained for 40 steps with that schedule
    # (on a thread of its own: the GUI thread must not run torch's parallel ops)
    reference = []

    def train_reference():
        t = Trainer(preset("tiny", max_iters=40, lr_decay_iters=20, eval_interval=5), w.corpus)
        reference.extend(t.step().loss for _ in range(40))

    thread = threading.Thread(target=train_reference)
    thread.start()
    thread.join(60)
    assert [r["loss"] for r in train] == pytest.approx(reference, rel=1e-6)


def test_step_while_a_sample_streams_takes_one_step_at_once(make_window, qtbot):
    w = make_window()
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.last_step >= 5, timeout=20_000)
    pause(qtbot, w)
    view, before = stream_a_long_sample(qtbot, w)
    paused_at = trainer_steps(w)

    t0 = time.monotonic()
    click(qtbot, w, "stepButton")
    qtbot.waitUntil(lambda: w.last_step == paused_at + 1, timeout=5_000)
    took = time.monotonic() - t0
    print(f"Step during a sample: {took * 1000:.0f} ms")
    assert took < 0.5
    qtbot.wait(300)
    assert trainer_steps(w) == paused_at + 1 and w.state == "paused"  # exactly one step
    text = view.toPlainText()
    qtbot.wait(200)
    assert view.toPlainText() == text  # the sample was cut short for the step, not resumed
    assert len(text) < before + 100_000


LONG_STEP = ["--preset", "tiny", "--set", "n_layer=16", "--set", "n_embd=128", "--set", "n_head=4",
             "--set", "block_size=128", "--set", "batch_size=64", "--set", "eval_iters=1",
             "--set", "max_iters=1000", "--set", "eval_interval=1000"]


def test_pause_and_stop_do_not_wait_for_a_long_step(make_window, qtbot):
    w = make_window(*LONG_STEP)
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: len(w.loss_plot.evals) == 1, timeout=30_000)  # step 1 begins
    qtbot.wait(300)
    t0 = time.monotonic()
    pause(qtbot, w)
    pause_s = time.monotonic() - t0
    assert trainer_steps(w) == 0 and w.last_step == 0  # step 1 was abandoned, not finished

    click(qtbot, w, "stepButton")  # the whole step, to see how long one takes
    qtbot.waitUntil(lambda: w.last_step == 1, timeout=30_000)
    step_seconds = 64 * 128 / w.loss_plot.history["tokens_per_sec"][-1]
    assert step_seconds >= 1.0, f"the test needs a step of at least 1 s, got {step_seconds:.2f} s"

    click(qtbot, w, "pauseButton")  # resume: step 2 begins
    qtbot.wait(300)
    t0 = time.monotonic()
    click(qtbot, w, "stopButton")
    qtbot.waitUntil(lambda: not w.active(), timeout=5_000)
    stop = time.monotonic() - t0
    print(f"one step {step_seconds:.2f} s; Pause took {pause_s * 1000:.0f} ms, Stop {stop * 1000:.0f} ms")
    assert pause_s < 0.5 and stop < 0.5
    assert w.current_trainer().step_count == 1  # step 2 abandoned too (the run, or once its
    # thread's finished signal is handled, the stopped trainer)
