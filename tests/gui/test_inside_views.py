"""The Attention tab and the next-character probabilities under the samples, in the real
window, training the tiny preset: what they show is what the model being trained computes."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QPushButton, QSpinBox

from gptviz import attention_probe
from gptviz.lessons.tiny_gpt import shown
from gptviz.sampler import Sampler, filter_logits

from .window_helpers import click, pause


@pytest.fixture
def make_window(make_window):
    """The shared window fixture, with no automatic samples unless a test asks."""
    def make(*args):
        w = make_window(*args)
        w.samples.set_settings({"every": 0})
        return w
    return make


def start_then_pause(w, qtbot, steps=5):
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.last_step >= steps, timeout=60_000)
    pause(qtbot, w)


def model_copy(w):
    """A copy of the training model as it is now (the run is paused or finished, so the worker
    is not touching it)."""
    model = copy.deepcopy(w.run.trainer.model)
    return model.eval()


def own_attention(model, tokenizer, prompt):
    idx = torch.from_numpy(tokenizer.encode(prompt))[None, :]
    with torch.no_grad():
        attention = model(idx, return_attention=True)[2]
    return torch.stack([a[0] for a in attention]).numpy()


def check_rows_and_mask(weights):
    T = weights.shape[-1]
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    assert (weights[..., np.triu(np.ones((T, T), dtype=bool), k=1)] == 0).all()


def test_attention_refresh_while_paused_shows_the_models_own_weights(make_window, qtbot):
    w = make_window()
    view = w.findChild(type(w.attention_view), "attentionView")
    w.training_tabs.setCurrentWidget(view)
    start_then_pause(w, qtbot)
    step = w.run.trainer.step_count
    prompt = view.findChild(QLineEdit, "attentionPrompt")
    prompt.clear()
    qtbot.keyClicks(prompt, "O Romeo, Romeo!")
    click(qtbot, w, "attentionRefreshButton")
    qtbot.waitUntil(lambda: view.maps is not None and view.maps.prompt == "O Romeo, Romeo!", timeout=5_000)
    assert view.maps.step == step and w.state == "paused" and w.run.trainer.step_count == step

    expected = own_attention(model_copy(w), w.corpus.tokenizer, "O Romeo, Romeo!")  # (2, 2, 15, 15)
    np.testing.assert_allclose(view.maps.weights, expected, atol=1e-6)
    check_rows_and_mask(view.maps.weights)
    for layer in range(2):  # what the grid's images show (the masked future blank)
        for head in range(2):
            image = view.grid.images[layer][head].image
            np.testing.assert_allclose(np.nan_to_num(image, nan=0.0), expected[layer, head], atol=1e-6)
            assert np.isnan(image[np.triu_indices(15, k=1)]).all()
            assert not np.isnan(image[np.tril_indices(15)]).any()

    hover = view.grid.cell_center(1, 0, 3, 1)
    view.grid.scene().sigMouseMoved.emit(hover)
    text = view.grid_hover.text()
    assert "layer 2 · head 1" in text and "'o' (position 3)" in text and "'␣' (position 1)" in text
    assert f"{expected[1, 0, 3, 1]:.3f}" in text

    point = view.grid.mapFromScene(view.grid.cell_center(1, 1, 5, 2))
    qtbot.mouseClick(view.grid.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert view.grid.chosen == (1, 1)
    np.testing.assert_allclose(view.large.weights, expected[1, 1], atol=1e-6)  # enlarged
    view.large.view.scene().sigMouseMoved.emit(view.large.cell_center(4, 4))
    assert "'m' (position 4) takes" in view.large.hover.text()  # "O Romeo"[4]

    prompt.setText("price: €")
    click(qtbot, w, "attentionRefreshButton")
    qtbot.waitUntil(lambda: view.maps.error is not None, timeout=5_000)
    assert "'€'" in view.status.text() and w.state == "paused"


def test_attention_refreshes_at_the_chosen_cadence_while_training(make_window, qtbot, monkeypatch):
    monkeypatch.setattr(attention_probe, "MIN_INTERVAL", 0.0)  # tiny steps come faster than 4 a second
    w = make_window("--preset", "tiny", "--set", "max_iters=20", "--set", "eval_interval=1000")
    view = w.attention_view
    view.findChild(QSpinBox, "attentionEvery").setValue(10)
    arrived = []
    real_show = view.show_maps
    view.show_maps = lambda maps: (arrived.append(maps.step), real_show(maps))
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.state == "finished", timeout=60_000)  # slow only on a busy machine
    qtbot.waitUntil(lambda: arrived[-1:] == [20], timeout=5_000)
    assert arrived == [0, 10, 20]  # the model at start, then every 10 steps
    assert not view.isVisible() and view.grid.images == []  # the tab is hidden: nothing drawn yet
    w.training_tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: bool(view.grid.images), timeout=2_000)
    expected = own_attention(model_copy(w), w.corpus.tokenizer, view.maps.prompt)  # the model at step 20
    np.testing.assert_allclose(view.maps.weights, expected, atol=1e-6)
    check_rows_and_mask(view.maps.weights)


def test_next_character_probabilities_of_a_sample(make_window, qtbot):
    w = make_window()
    settings = {"prompt": "ROMEO:", "temperature": 0.9, "top_k": 12, "top_p": 1.0, "max_new_tokens": 60}
    w.samples.set_settings(settings)
    start_then_pause(w, qtbot)
    click(qtbot, w, "sampleNowButton")
    qtbot.waitUntil(lambda: bool(w.samples.samples()) and len(w.samples.samples()[-1][2]) == 66
                    and w.samples.streaming_id is None, timeout=20_000)
    step, _, text = w.samples.samples()[-1]
    sample_id = w.samples.sample_ids()[-1]
    model, tok = model_copy(w), w.corpus.tokenizer

    again = Sampler(model, tok).sample("ROMEO:", max_new_tokens=60, temperature=0.9, top_k=12,
                                       seed=w.run.trainer.config.seed + step)
    assert "ROMEO:" + again == text  # the sampler's draw with the run's seed for that step

    nc = w.next_chars
    viewport = w.findChild(QPlainTextEdit, "samplesView").viewport()
    for offset in (6, 20, 65):
        qtbot.mouseMove(viewport, nc.point_of(sample_id, offset))
        qtbot.waitUntil(lambda o=offset: nc.shown is not None and nc.shown[:2] == (sample_id, o),
                        timeout=2_000)
        context = text[:offset][-model.config.block_size:]
        with torch.no_grad():
            logits = model(torch.from_numpy(tok.encode(context))[None, :])[0][0, -1]
        raw = F.softmax(logits, dim=-1)
        used = F.softmax(filter_logits(logits / 0.9, 12, None), dim=-1)
        top = raw.topk(10).indices
        k = len(top)
        heights_used, heights_raw = nc.used_bars.opts["height"], nc.raw_bars.opts["height"]
        np.testing.assert_allclose(heights_raw[:k], raw[top].numpy(), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(heights_used[:k], used[top].numpy(), rtol=1e-4, atol=1e-6)
        assert nc.bar_labels[:k] == [shown(tok.chars[i]) for i in top]
        drawn = nc.bar_labels[nc.drawn_index]
        assert drawn.split(" ")[0] == shown(text[offset])  # the drawn character is the one marked
        assert f"'{shown(text[offset])}'" in nc.caption.text() and "step" in nc.caption.text()

    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=nc.point_of(sample_id, 2))  # the prompt
    assert "prompt" in nc.caption.text()


def test_pointing_at_characters_in_the_live_log_and_in_a_sample_from_history(qtbot):
    from PySide6.QtWidgets import QComboBox, QVBoxLayout, QWidget

    from gptviz.gui.next_char_view import NextCharView
    from gptviz.gui.samples_view import SamplesView
    from gptviz.next_char_probs import ChoiceBatch

    host = QWidget()
    samples = SamplesView()
    nc = NextCharView(samples)
    layout = QVBoxLayout(host)
    layout.addWidget(samples)
    layout.addWidget(nc)
    qtbot.addWidget(host)
    host.resize(600, 700)
    host.show()
    qtbot.waitExposed(host)

    def batch(start, drawn):  # three candidates each; the last character was drawn outside them
        n = len(drawn)
        chars = np.array([["e", "a", " "]] * n)
        figures = {"e": [0.5, 0.6, 1], "a": [0.3, 0.4, 2], "q": [0.01, 0.02, 9]}  # raw p, used p, rank
        stats = np.array([figures[c] for c in drawn], dtype=np.float32)
        return ChoiceBatch(start, chars, np.tile(np.float32([0.5, 0.3, 0.1]), (n, 1)),
                           np.tile(np.float32([0.6, 0.4, 0.0]), (n, 1)), np.array(list(drawn)), stats,
                           0.7, 3, None)

    for step, drawn in ((100, "eaq"), (200, "aeq")):
        samples.begin_sample(step, None)
        samples.append_text("Hi")  # the prompt
        samples.append_text(drawn[:2])
        nc.add(samples.streaming_id, batch(2, drawn[:2]))
        samples.append_text(drawn[2])
        nc.add(samples.streaming_id, batch(4, drawn[2]))
        samples.end_sample()
    first, second = samples.sample_ids()
    viewport = samples.findChild(QPlainTextEdit, "samplesView").viewport()

    qtbot.mouseMove(viewport, nc.point_of(second, 2))
    qtbot.waitUntil(lambda: nc.shown is not None and nc.shown[:2] == (second, 2), timeout=2_000)
    assert nc.bar_labels == ["e", "a", "␣"] and nc.drawn_index == 1  # 'a' drawn, marked
    assert "step 200" in nc.caption.text() and "temperature 0.7, top-k 3" in nc.caption.text()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=nc.point_of(second, 4))
    assert nc.shown[:2] == (second, 4)
    assert nc.bar_labels[-1] == "q (#9)" and nc.drawn_index == 3  # a bar of its own, with its rank

    samples.findChild(QComboBox, "sampleHistory").setCurrentIndex(2)  # only the step 100 sample
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=nc.point_of(first, 3))
    assert nc.shown[:2] == (first, 3) and nc.bar_labels[nc.drawn_index] == "a"
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=nc.point_of(first, 0))
    assert "prompt" in nc.caption.text()


def test_attention_view_draws_new_shapes_errors_and_models_without_attention(qtbot):
    from gptviz.attention_probe import AttentionMaps
    from gptviz.gui.attention_view import AttentionView

    view = AttentionView()
    qtbot.addWidget(view)
    view.resize(800, 500)
    view.show()
    qtbot.waitExposed(view)
    weights = np.tril(np.ones((3, 1, 4, 4), dtype=np.float32))
    weights /= weights.sum(axis=-1, keepdims=True)
    view.show_maps(AttentionMaps(7, "abcd", weights))
    assert len(view.grid.images) == 3 and len(view.grid.images[0]) == 1
    assert "Step 7: 3 layers × 1 heads on 4 characters" in view.status.text()
    np.testing.assert_allclose(view.large.weights, weights[0, 0])
    view.grid.choose(2, 0)
    np.testing.assert_allclose(view.large.weights, weights[2, 0])
    view.show_maps(AttentionMaps(8, "abcd", np.zeros((0, 0, 0, 0), np.float32), error="bad prompt"))
    assert view.status.text() == "Step 8: bad prompt" and len(view.grid.images) == 3  # the last maps stay
    view.show_maps(AttentionMaps(9, "ab", np.zeros((0, 0, 2, 2), np.float32), note="no attention here"))
    assert "no attention here" in view.status.text() and view.grid.images == []


def test_the_attention_prompt_and_cadence_are_remembered(make_window, qtbot):
    w = make_window()
    w.attention_view.findChild(QLineEdit, "attentionPrompt").setText("KING LEAR:")
    w.attention_view.findChild(QSpinBox, "attentionEvery").setValue(250)
    w.close()
    again = make_window()
    assert again.attention_view.settings().prompt == "KING LEAR:"
    assert again.attention_view.settings().every == 250
    qtbot.mouseClick(again.findChild(QPushButton, "attentionRefreshButton"), Qt.MouseButton.LeftButton)
    assert "needs a model" in again.attention_view.status.text()  # nothing runs yet
