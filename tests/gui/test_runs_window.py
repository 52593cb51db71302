"""Run directories from the window and from `gptviz train`, opened again with File → Open run…,
overlaid on the loss plot (by step and by training time), removed, and exported."""

import json

import numpy as np
import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFileDialog, QPlainTextEdit, QSpinBox

from gptviz.runlog import read_metrics
from gptviz.runs import load_run
from gptviz.samplelog import read_samples
from tests.gui.window_helpers import click
from tests.test_cli import gptviz
from tests.test_runs import write_run

SHORT = ["--preset", "tiny", "--set", "max_iters=20", "--set", "eval_interval=10"]
TRAIN_KEYS = ["step", "loss", "lr", "grad_norm", "tokens_per_sec", "time"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, shakespeare_path):
    """The same short run as SHORT, trained by `gptviz train`, sampling every 10 steps."""
    out = tmp_path_factory.mktemp("cli") / "cli-tiny"
    r = gptviz("train", "--preset", "tiny", "--corpus", shakespeare_path, "--out", out, "--max-iters", 20,
               "--eval-interval", 10, "--sample-chars", 40, "--sample-every", 10)
    assert r.returncode == 0, r.stderr
    return out


def test_window_writes_its_run_directory_like_gptviz_train(make_window, qtbot, cli_run):
    w = make_window(*SHORT)
    w.samples.findChild(QSpinBox, "sampleEvery").setValue(10)
    w.samples.findChild(QSpinBox, "sampleLength").setValue(40)
    w.samples.findChild(QDoubleSpinBox, "sampleTemperature").setValue(1.0)
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.state == "finished" and len(read_samples(w.run_dir)) == 2, timeout=30_000)
    run_dir = w.run_dir

    rows, cli_rows = read_metrics(run_dir / "metrics.jsonl"), read_metrics(cli_run / "metrics.jsonl")
    assert [list(r) for r in rows] == [list(r) for r in cli_rows]  # the same rows, keys in the same order
    train = [r for r in rows if "loss" in r]
    assert [list(r) for r in train] == [TRAIN_KEYS] * 20
    assert all(b["time"] > a["time"] > 0 for a, b in zip(train, train[1:]))
    history = w.loss_plot.history  # what the window drew is what it wrote
    assert history.x.tolist() == [r["step"] for r in train]
    assert history["loss"].tolist() == [r["loss"] for r in train]
    assert w.loss_plot.evals["val_loss"].tolist() == [r["val_loss"] for r in rows if "val_loss" in r]
    config = json.loads((run_dir / "config.json").read_text())
    assert config == json.loads((cli_run / "config.json").read_text())

    samples = read_samples(run_dir)  # what the window showed is what it kept
    assert [(s["step"], s["val_loss"], s["prompt"] + s["text"]) for s in samples] == w.samples.samples()
    cli_samples = read_samples(cli_run)
    assert [s["step"] for s in samples] == [10, 20] and [s["step"] for s in cli_samples] == [10, 20]
    assert [list(s) for s in samples] == [list(s) for s in cli_samples]
    assert samples[0]["settings"] == cli_samples[0]["settings"] == {
        "temperature": 1.0, "top_k": None, "top_p": None, "max_new_tokens": 40, "seed": 1347}

    run = load_run(run_dir)  # and read back as a run
    assert run.steps.tolist() == list(range(1, 21)) and run.has_time
    assert [s["text"] for s in run.samples] == [s["text"] for s in samples]


def legend_colours(overlay):
    return [QColor(e.color).name() for e in overlay.runs()]


def test_open_run_overlays_runs_by_step_and_by_time(make_window, qtbot, tmp_path, monkeypatch,
                                                     cli_run):
    mine = write_run(tmp_path / "mine", steps=30, eval_every=10)  # no checkpoint, no samples
    w = make_window()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(mine))
    w.actions_["open_run"].trigger()  # File → Open run…
    dialog = w.runs_dialog
    assert dialog.isVisible() and dialog.message() == f"Opened {mine}"
    assert "no checkpoint.pt" in dialog.findChild(type(dialog._notes), "runNotes").text()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(cli_run))
    click(qtbot, dialog, "openRunButton")

    overlay = dialog.overlay
    assert overlay.legend_names() == ["mine", "cli-tiny"]
    colours = legend_colours(overlay)
    live = {"#3b82f6", "#f97316", "#22c55e"}  # the live run's loss, val and eval-train colours
    assert len(set(colours)) == 2 and not set(colours) & live
    plot = w.loss_plot.plots()["training_loss"]
    w.loss_plot.findChild(QDoubleSpinBox, "smoothingSpin").setValue(0.0)  # raw, to compare exactly
    a, b = overlay.runs()
    for entry, run_dir in ((a, mine), (b, cli_run)):
        run = load_run(run_dir)
        x, y = entry.curve.getOriginalDataset()
        assert x.tolist() == run.steps.tolist() and y.tolist() == run.loss.tolist()
        px, py = entry.points.getOriginalDataset()
        assert px.tolist() == run.eval_steps.tolist() and py.tolist() == run.eval_val.tolist()
        assert entry.curve in plot.listDataItems() and entry.points in plot.listDataItems()
        assert entry.curve.opts["pen"].color().name() == entry.color
    w.loss_plot.findChild(QDoubleSpinBox, "smoothingSpin").setValue(0.9)
    smooth = a.curve.getOriginalDataset()[1]
    assert smooth[0] == a.run.loss[0] and smooth[-1] > a.run.loss[-1]  # an EMA lags a falling loss
    lo, hi = plot.getViewBox().viewRange()[0]
    assert lo <= 0 and hi >= 30  # both runs in view

    # the samples of the selected run, read-only
    assert dialog.selected().run.path == cli_run
    choice = dialog.findChild(QComboBox, "runSampleChoice")
    text = dialog.findChild(QPlainTextEdit, "runSampleText")
    assert [choice.itemText(i).split(" ·")[0] for i in range(choice.count())] == ["step 10", "step 20"]
    assert text.isReadOnly() and text.toPlainText() == read_samples(cli_run)[-1]["text"]
    choice.setCurrentIndex(0)
    assert text.toPlainText() == read_samples(cli_run)[0]["text"]

    # by training time: x is each run's `time`; the live run (by step) steps aside
    dialog.findChild(QComboBox, "runAxisChoice").setCurrentIndex(1)
    assert overlay.axis == "time"
    for entry in (a, b):
        assert entry.curve.getOriginalDataset()[0].tolist() == entry.run.time.tolist()
        assert entry.points.getOriginalDataset()[0].tolist() == entry.run.eval_time.tolist()
    assert a.points.getOriginalDataset()[0].tolist() == [0.0, 0.5, 1.0, 1.5]  # evals at steps 0..30
    assert plot.getViewBox().viewRange()[0][1] >= max(a.run.time[-1], b.run.time[-1])
    assert "time" in w.loss_plot.plots()["learning_rate"].getAxis("bottom").labelText
    assert not any(item.isVisible() for item in plot.listDataItems() if item not in (a.curve, a.points,
                                                                                     b.curve, b.points))
    old = write_run(tmp_path / "old", with_time=False)
    assert w.open_run(old)
    assert overlay.get(old).shown is False and "old" in dialog.message()  # no times: off the plot
    dialog.set_axis("step")
    assert overlay.get(old).shown and overlay.legend_names() == ["mine", "cli-tiny", "old"]
    assert all(item.isVisible() for item in plot.listDataItems())

    # Remove
    dialog.select(mine)
    click(qtbot, dialog, "removeRunButton")
    assert overlay.legend_names() == ["cli-tiny", "old"]
    assert a.curve not in plot.listDataItems() and a.points not in plot.listDataItems()

    # not a run directory: said so, nothing changes
    assert not w.open_run(tmp_path)
    assert "no metrics.jsonl" in dialog.message() and len(overlay.runs()) == 2


def test_runs_are_exported_from_the_runs_window(make_window, qtbot, tmp_path, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    run_dir = write_run(tmp_path / "r")
    w = make_window()
    assert w.open_run(run_dir)
    dialog = w.runs_dialog
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "r.csv"), ""))
    click(qtbot, dialog, "exportRunCsvButton")
    assert dialog.message() == f"Wrote 21 steps to {tmp_path / 'r.csv'}"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "tb"))
    click(qtbot, dialog, "exportRunTensorBoardButton")
    assert "TensorBoard events" in dialog.message()
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert len(acc.Scalars("train/loss")) == 20

    import sys
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # not installed: the dialog says how
    click(qtbot, dialog, "exportRunTensorBoardButton")
    assert "pip install 'gptviz[tensorboard]'" in dialog.message()


def test_overlay_colours_are_readable_on_light_and_dark_backgrounds():
    from gptviz.gui.run_overlay import OVERLAY_COLORS

    def luminance(c):
        def lin(v):
            v /= 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        q = QColor(c)
        return 0.2126 * lin(q.red()) + 0.7152 * lin(q.green()) + 0.0722 * lin(q.blue())

    def contrast(a, b):
        hi, lo = max(a, b), min(a, b)
        return (hi + 0.05) / (lo + 0.05)

    assert len(set(OVERLAY_COLORS)) == len(OVERLAY_COLORS) >= 6
    for c in OVERLAY_COLORS:
        assert contrast(luminance(c), luminance("#ffffff")) >= 2.9, c  # on a light Base
        assert contrast(luminance(c), luminance("#1e1e1e")) >= 2.9, c  # on a dark Base
    assert np.isfinite([luminance(c) for c in OVERLAY_COLORS]).all()
