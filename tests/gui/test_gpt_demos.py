"""The "Inside a GPT" and "Training a GPT" demos: their files and their widgets."""

import threading

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from gptviz.demos import DEMOS_DIR, load_demo
from gptviz.gui.demo_widgets import KINDS, make_widget
from gptviz.gui.demo_widgets.next_char_chart import SAMPLED
from gptviz.lessons import attention_trick, tiny_gpt
from gptviz.lessons.next_char import next_char
from gptviz.lessons.training_preset import lr_schedule, preset_for_machine


@pytest.fixture
def make(qtbot):
    made = []

    def build(kind, state, host=None):
        w = make_widget(kind, state, host)
        qtbot.addWidget(w)
        w.resize(700, 600)
        w.show()
        made.append(w)
        return w

    yield build
    for w in made:
        w.stop()


class FakeHost:
    def __init__(self):
        self.calls = []

    def show_training(self, preset_name):
        self.calls.append(preset_name)


@pytest.mark.parametrize("filename,name", [("08-inside-a-gpt.toml", "inside-gpt"),
                                           ("09-training-a-gpt.toml", "training-gpt")])
def test_each_demo_file_loads(filename, name):
    demo = load_demo(DEMOS_DIR / filename)
    assert demo.name == name and 3 <= len(demo) <= 7
    assert all(step.widget in KINDS and step.code and step.check for step in demo.steps)


# -- Inside a GPT ---------------------------------------------------------------------------

def test_editing_the_prompt_updates_every_shape(make, qtbot):
    w = make("gpt_inside", {"tab": "tensors"})
    assert w.result()["ids_shape"] == [30]
    w.prompt.setText("To be")
    shown = w.result()
    assert shown["prompt"] == "To be" and shown["ids"] == tiny_gpt.encode("To be").tolist()
    assert (shown["ids_shape"], shown["x_shape"], shown["q_shape"], shown["weights_shape"],
            shown["block_shape"], shown["logits_shape"]) == ([5], [5, 32], [5, 16], [5, 5], [5, 32], [5, 65])
    table = dict(w.tensors.shapes())
    assert table["block 2 · head 2 · attention weights"] == (5, 5) and table["logits"] == (5, 65)
    row = [s.label for s in w.reading.trace.steps].index("block 1 · head 1 · q")
    assert w.tensors.table.item(row, 1).text() == "(5, 16)"
    assert w.tensors.table.item(row, 2).text() == "(T, head_size)"


def test_unreadable_and_too_long_prompts_are_explained(make):
    w = make("gpt_inside", {"prompt": "To be"})
    w.prompt.setText("naïve")
    assert "'ï'" in w.note.text() and w.result()["prompt"] == "To be"     # keeps showing the last one
    long = "Whether 'tis nobler in the mind to suffer"
    w.prompt.setText(long)
    assert w.result()["prompt"] == long[-32:] and "last 32 characters" in w.note.text()


def test_the_heatmaps_are_t_by_t_per_head_with_the_future_blank(make):
    w = make("gpt_inside", {"tab": "attention", "prompt": "To be, or"})
    assert len(w.maps) == 2
    for head, m in enumerate(w.maps):
        assert m.image.image.shape == (9, 9)
        np.testing.assert_allclose(m.weights, w.reading.trace.attention(0)[head].numpy())
        assert np.isnan(m.image.image[0, 1]) and not np.isnan(m.image.image[1, 0])
    w.layer.setCurrentIndex(1)
    np.testing.assert_allclose(w.maps[1].weights, w.reading.trace.attention(1)[1].numpy())
    assert w.result()["weights"] == w.reading.trace.attention(1).tolist()


def test_hovering_a_cell_names_both_characters_and_the_weight(make, qtbot):
    w = make("gpt_inside", {"tab": "attention", "prompt": "To be"})
    qtbot.waitExposed(w)
    m = w.maps[0]
    m.view.scene().sigMouseMoved.emit(m.cell_center(3, 1))
    text = m.hover.text()
    assert "'b' (position 3)" in text and "'o' (position 1)" in text and f"{m.weights[3, 1]:.3f}" in text
    m.view.scene().sigMouseMoved.emit(m.cell_center(1, 3))
    assert "cannot see" in m.hover.text()


def test_the_sampled_character_is_marked(make, qtbot):
    w = make("gpt_inside", {"tab": "next", "sample_seed": 42, "top_k": 10})
    reading = w.reading
    expected = next_char(reading.trace.logits[-1], 10, 42)
    chart = w.chart
    assert chart.shown_ids[chart.sampled_position] == expected.sampled
    brushes = chart.bars.opts["brushes"]
    marked = [i for i, b in enumerate(brushes) if b.color().name() == SAMPLED]
    assert marked == [chart.sampled_position]
    assert chart.marker.pos().x() == chart.sampled_position
    assert chart.marker.textItem.toPlainText() == "sampled"
    assert w.result()["next"] == tiny_gpt.SHAKESPEARE_CHARS[expected.sampled]
    assert len(chart.shown_ids) == 10 + (expected.sampled not in expected.top)
    qtbot.mouseClick(w.redraw_button, Qt.MouseButton.LeftButton)
    again = next_char(reading.trace.logits[-1], 10, 43)
    assert w.result()["next"] == tiny_gpt.SHAKESPEARE_CHARS[again.sampled]
    assert "seed 43" in chart.caption.text()


def test_the_bigram_model_has_no_attention_tab(make):
    w = make("gpt_inside", {"model": "bigram", "tab": "next"})
    assert not w.tabs.isTabEnabled(1) and "weights" not in w.result()
    assert [s.name for s in w.reading.trace.steps] == ["token ids", "logits"]


def test_training_runs_on_a_thread_of_its_own_and_changes_the_guesses(make, qtbot):
    w = make("gpt_inside", {"tab": "next", "train_steps": 6})
    untrained = w.result()["probs"]
    qtbot.mouseClick(w.train_button, Qt.MouseButton.LeftButton)
    assert not w.train_button.isEnabled()
    qtbot.waitUntil(lambda: w.trained_steps == 6, timeout=60_000)
    assert w.train_button.isEnabled() and w.reset_button.isEnabled() and "Trained 6 steps" in w.status.text()
    assert w.result()["probs"] != untrained
    qtbot.mouseClick(w.reset_button, Qt.MouseButton.LeftButton)
    assert w.result()["probs"] == untrained and w.trained_steps == 0


def test_stop_ends_a_training_run_at_once(make, qtbot):
    w = make("gpt_inside", {"train_steps": 1_000_000})
    w.train()
    qtbot.waitUntil(lambda: "steps" in w.status.text() and w.job.running(), timeout=10_000)
    w.stop()
    assert not w.job.running()


def test_the_model_runs_off_the_gui_thread(make, monkeypatch):
    """Torch on the GUI thread would keep an OpenMP team there, slowing the training view."""
    from gptviz.gui.demo_widgets import gpt_inside
    threads = []

    def noting_the_thread(function):
        return lambda *args: threads.append(threading.current_thread()) or function(*args)

    monkeypatch.setattr(gpt_inside, "read", noting_the_thread(gpt_inside.read))
    monkeypatch.setattr(tiny_gpt, "build", noting_the_thread(tiny_gpt.build))
    w = make("gpt_inside", {})
    w.prompt.setText("To be")
    assert len(threads) == 3 and threading.main_thread() not in threads


# -- the attention trick --------------------------------------------------------------------

def test_the_trick_switches_versions_and_sizes(make):
    w = make("attention_trick", {"mode": "average", "T": 8})
    torch.testing.assert_close(torch.tensor(w.result()["wei"]), attention_trick.average(8).wei)
    assert w.before.item(0, 1).text() == "0" and w.plot_view.isVisibleTo(w)
    w.version.setCurrentIndex(1)                                  # softmax
    assert w.before.item(0, 1).text() == "-inf" and w.map.weights.shape == (8, 8)
    w.length.setValue(5)
    assert np.asarray(w.result()["out"]).shape == (5, 2) and w.map.image.image.shape == (5, 5)
    w.version.setCurrentIndex(2)                                  # one head
    head = attention_trick.head(5)
    torch.testing.assert_close(torch.tensor(w.result()["out"]), head.out)
    assert not w.plot_view.isVisibleTo(w) and "(5, 16)" in w.head_note.text()
    w.seed.setValue(7)
    torch.testing.assert_close(torch.tensor(w.result()["wei"]), attention_trick.head(5, seed=7).wei)


def test_an_unknown_mode_is_refused(make):
    with pytest.raises(ValueError, match="mode must be one of"):
        make("attention_trick", {"mode": "rnn"})


# -- Training a GPT -------------------------------------------------------------------------

def test_the_button_opens_the_training_view_with_the_preset_for_this_machine(make, qtbot):
    host = FakeHost()
    w = make("training_link", {"topic": "overview"}, host)
    expected = preset_for_machine()
    assert expected in w.open_button.text() and w.result()["preset"] == expected
    qtbot.mouseClick(w.open_button, Qt.MouseButton.LeftButton)
    assert host.calls == [expected]
    w.presets.setCurrentText("tiny")
    assert "`tiny`" in w.open_button.text() and w.result()["n_layer"] == 2
    qtbot.mouseClick(w.open_button, Qt.MouseButton.LeftButton)
    assert host.calls == [expected, "tiny"]


@pytest.mark.parametrize("cuda,expected", [(True, "lecture"), (False, "default")])
def test_cuda_machines_get_the_lecture_preset(make, qtbot, monkeypatch, cuda, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    host = FakeHost()
    w = make("training_link", {"topic": "lr"}, host)
    assert w.result()["preset"] == expected and w.result()["lrs"] == lr_schedule(expected)
    qtbot.mouseClick(w.open_button, Qt.MouseButton.LeftButton)
    assert host.calls == [expected]


def test_without_a_host_the_button_is_disabled(make):
    w = make("training_link", {"topic": "overview"})
    assert not w.open_button.isEnabled()
    w.open_training()                       # and does nothing rather than fail


def test_the_lr_plot_follows_the_chosen_preset(make):
    w = make("training_link", {"topic": "lr"})
    w.presets.setCurrentText("cpu")
    assert w.result()["lrs"] == lr_schedule("cpu")
    x, y = w.panel.curve.getData()
    assert len(x) == 2000 and y[-1] == pytest.approx(1e-4, rel=1e-3)


def test_a_real_tiny_run_fills_the_loss_gradient_and_sample_panels(make, qtbot):
    for topic in ("loss", "gradients", "samples"):
        w = make("training_link", {"topic": topic, "preview_steps": 8})
        assert w.run_button.isVisible()
        qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda w=w: w.run_button.isEnabled() and w.preview is not None, timeout=60_000)
        run = w.preview
        assert run.steps == list(range(1, 9)) and "Done: 8 steps" in w.run_status.text()
        if topic == "loss":
            assert list(w.panel.curve.getData()[1]) == pytest.approx(run.losses)
        elif topic == "gradients":
            assert list(w.panel.curve.getData()[1]) == pytest.approx(run.grad_norms)
            assert w.panel.tabs.currentIndex() == 1 and w.panel.clip_line.value() == 1.0
        else:
            assert "step 8:" in w.panel.box.toPlainText()


def test_topics_without_a_run_have_no_run_button(make):
    for topic in ("overview", "optimizer", "lr"):
        assert not make("training_link", {"topic": topic}).run_button.isVisible()
