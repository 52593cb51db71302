"""A prompt going through the tiny GPT (or the bigram model): its tensors, its attention,
and the next character it samples.

Type a prompt and everything updates: the table of traced tensors with their shapes, a
heatmap of every head's attention in the chosen block, and the bars of the next-character
probabilities with the seeded sample marked. The model starts untrained (seeded, like the
demo's code); "Train" teaches it Hamlet's soliloquy for a few hundred steps on a
short-lived thread, so the attention and the guesses start to mean something.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...lessons import tiny_gpt
from ...lessons.gpt_trace import Trace, trace
from ...lessons.next_char import NextChar, next_char
from ...lessons.quick_train import train_on_passage
from ...tokenizer import TokenizerError
from .attention_map import AttentionMap
from .background import BackgroundJob
from .base import DemoWidget
from .next_char_chart import NextCharChart
from .short_thread import on_short_thread
from .tensor_table import TensorTable

TABS = ("tensors", "attention", "next")
ERROR_STYLE = "color: #d93025;"
REPORT_EVERY = 25  # training steps between progress reports


@dataclass(frozen=True)
class Reading:
    """What the widget shows for one prompt, computed off the GUI thread."""

    trace: Trace
    attention: list[np.ndarray]  # per block: (n_head, T, T)
    next: NextChar


def read(model, prompt: str, top_k: int, sample_seed: int) -> Reading:
    t = trace(model, tiny_gpt.encode(prompt))
    layers = len(getattr(model, "blocks", []))
    attention = [t.attention(layer).numpy() for layer in range(layers)]
    return Reading(t, attention, next_char(t.logits[-1], top_k, sample_seed))


class GptInsideDemo(DemoWidget):
    """state: model ("gpt" or "bigram"), prompt, tab ("tensors", "attention" or "next"),
    layer (1-based block whose heads are drawn), seed (the model's, default 1337),
    sample_seed (default 42), top_k (bars, default 10), train_steps (default 300)."""

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        self.kind = state.get("model", "gpt")
        self.seed = int(state.get("seed", tiny_gpt.SEED))
        self.sample_seed = int(state.get("sample_seed", 42))
        self.top_k = int(state.get("top_k", 10))
        self.train_steps = int(state.get("train_steps", 300))
        self.model = on_short_thread(lambda: tiny_gpt.build(self.kind, self.seed))
        self.reading: Reading | None = None
        self.used_prompt = ""
        self.trained_steps = 0
        self.job = BackgroundJob(self)
        self.job.progress.connect(self._on_training_progress)
        self.job.finished.connect(self._on_trained)
        self.job.failed.connect(self._on_training_failed)

        self.prompt = QLineEdit(state.get("prompt", "To be, or not to be, that is t"))
        self.prompt.setObjectName("gptPrompt")
        self.prompt.setMaxLength(200)
        self.note = QLabel()
        self.note.setObjectName("gptNote")
        self.note.setWordWrap(True)
        self.tensors = TensorTable()
        self.layer = QComboBox()
        self.layer.setObjectName("gptLayer")
        layers = len(getattr(self.model, "blocks", []))
        self.layer.addItems([f"block {i + 1}" for i in range(layers)])
        self.layer.setCurrentIndex(min(max(int(state.get("layer", 1)) - 1, 0), max(layers - 1, 0)))
        heads = self.model.config.n_head if layers else 0
        self.maps = [AttentionMap(f"head {h + 1}") for h in range(heads)]
        self.chart = NextCharChart()
        self.redraw_button = QPushButton("Draw again")
        self.redraw_button.setObjectName("gptDrawAgain")
        self.redraw_button.setToolTip("Sample the next character with the next seed")
        self.train_button = QPushButton(f"Train {self.train_steps} steps on Hamlet's soliloquy")
        self.train_button.setObjectName("gptTrain")
        self.reset_button = QPushButton("Untrained again")
        self.reset_button.setObjectName("gptReset")
        self.reset_button.setEnabled(False)
        self.status = QLabel("Untrained: random weights from torch.manual_seed"
                             f"({self.seed}).")
        self.status.setObjectName("gptStatus")
        self.status.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("gptTabs")
        self._build_tabs()
        self.tabs.setCurrentIndex(TABS.index(state.get("tab", "tensors")))

        top = QHBoxLayout()
        top.addWidget(QLabel("Prompt"))
        top.addWidget(self.prompt, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.train_button)
        bottom.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.status)

        self.prompt.textChanged.connect(self.refresh)
        self.layer.currentIndexChanged.connect(self._draw_attention)
        self.redraw_button.clicked.connect(self.draw_again)
        self.train_button.clicked.connect(self.train)
        self.reset_button.clicked.connect(self.reset)
        self.refresh()

    def _build_tabs(self) -> None:
        self.tabs.addTab(self.tensors, "Tensors and shapes")
        attention = QWidget()
        col = QVBoxLayout(attention)
        row = QHBoxLayout()
        row.addWidget(QLabel("Attention weights of every head in"))
        row.addWidget(self.layer)
        row.addStretch(1)
        col.addLayout(row)
        maps = QHBoxLayout()
        for m in self.maps:
            maps.addWidget(m)
        col.addLayout(maps, 1)
        self.tabs.addTab(attention, "Attention")
        self.tabs.setTabEnabled(1, bool(self.maps))
        if not self.maps:
            self.tabs.setTabToolTip(1, "The bigram model has no attention: each character only sees itself.")
        nxt = QWidget()
        col = QVBoxLayout(nxt)
        col.addWidget(self.chart, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.redraw_button)
        col.addLayout(row)
        self.tabs.addTab(nxt, "Next character")

    # -- computing --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Trace the prompt through the model and redraw every tab."""
        try:
            prompt, why = tiny_gpt.fit_prompt(self.prompt.text(), self.model.config.block_size)
        except TokenizerError as e:
            self.note.setStyleSheet(ERROR_STYLE)
            self.note.setText(f"Cannot read this prompt: {e}. The model knows Tiny Shakespeare's "
                              f"65 characters (letters, digits 3, space, newline and !$&',-.:;?).")
            return
        self.note.setStyleSheet("")
        self.used_prompt = prompt
        model, top_k, seed = self.model, self.top_k, self.sample_seed
        self.reading = on_short_thread(lambda: read(model, prompt, top_k, seed))
        self.note.setText(f"T = {len(prompt)} characters" + (f"; {why}" if why else "") + ".")
        self.tensors.show_trace(self.reading.trace)
        self._draw_attention()
        self.chart.show_next(self.reading.next, tiny_gpt.SHAKESPEARE_CHARS)

    def draw_again(self) -> None:
        """Sample the next character again, with the next seed."""
        self.sample_seed += 1
        self.refresh()

    def _draw_attention(self) -> None:
        if not self.maps or self.reading is None:
            return
        labels = [tiny_gpt.shown(c) for c in self.used_prompt]
        for m, w in zip(self.maps, self.reading.attention[self.layer.currentIndex()]):
            m.set_weights(w, labels)

    # -- training on a short-lived thread -----------------------------------------------------
    def train(self) -> None:
        model, steps = self.model, self.train_steps

        def work(should_stop, report):
            def on_step(step, loss):
                if step % REPORT_EVERY == 0:
                    report((step, loss))
            pupil = copy.deepcopy(model)
            losses = train_on_passage(pupil, steps, should_stop=should_stop, on_step=on_step)
            return {k: v.detach().clone() for k, v in pupil.state_dict().items()}, losses

        if self.job.start(work):
            self.train_button.setEnabled(False)
            self.reset_button.setEnabled(False)
            self.status.setText(f"Training on a background thread: 0 of {steps} steps…")

    def _on_training_progress(self, value) -> None:
        step, loss = value
        self.status.setText(f"Training on a background thread: {step} of {self.train_steps} steps, "
                            f"loss {loss:.3f}…")

    def _on_trained(self, value) -> None:
        weights, losses = value
        self.train_button.setEnabled(True)
        self.reset_button.setEnabled(self.trained_steps > 0 or bool(losses))
        if not losses:
            return
        self.model = on_short_thread(lambda: _with_weights(self.kind, self.seed, weights))
        self.trained_steps += len(losses)
        self.train_button.setText(f"Train {self.train_steps} more steps")
        self.status.setText(f"Trained {self.trained_steps} steps on Hamlet's soliloquy; loss {losses[0]:.3f} "
                            f"on the first batch, {losses[-1]:.3f} on the last. Look at the attention and "
                            "the next character now.")
        self.refresh()

    def _on_training_failed(self, message: str) -> None:
        self.train_button.setEnabled(True)
        self.reset_button.setEnabled(self.trained_steps > 0)
        self.status.setText(f"Training failed: {message}")

    def reset(self) -> None:
        self.job.stop()
        self.model = on_short_thread(lambda: tiny_gpt.build(self.kind, self.seed))
        self.trained_steps = 0
        self.train_button.setEnabled(True)
        self.train_button.setText(f"Train {self.train_steps} steps on Hamlet's soliloquy")
        self.reset_button.setEnabled(False)
        self.status.setText(f"Untrained: random weights from torch.manual_seed({self.seed}).")
        self.refresh()

    # -- what the demo checks -----------------------------------------------------------------
    def result(self) -> dict:
        """What the widget shows: the prompt's ids, the traced shapes (first block, first
        head), the chosen block's attention weights (n_head, T, T), the next-character
        probabilities, the top characters and the sampled one."""
        t, nxt = self.reading.trace, self.reading.next
        chars = tiny_gpt.SHAKESPEARE_CHARS
        shown = {
            "prompt": self.used_prompt,
            "ids": t.ids.tolist(),
            "ids_shape": list(t.find("token ids").shape),
            "logits_shape": list(t.logits.shape),
            "probs": nxt.probs.tolist(),
            "top": [chars[i] for i in nxt.top],
            "next": chars[nxt.sampled],
        }
        if self.maps:
            shown.update({
                "x_shape": list(t.find("x = tokens + positions").shape),
                "q_shape": list(t.find("q", 0, 0).shape),
                "k_shape": list(t.find("k", 0, 0).shape),
                "v_shape": list(t.find("v", 0, 0).shape),
                "weights_shape": list(t.find("attention weights", 0, 0).shape),
                "block_shape": list(t.find("block output", 0).shape),
                "weights": self.reading.attention[self.layer.currentIndex()].tolist(),
            })
        return shown

    def stop(self) -> None:
        self.job.stop()


def _with_weights(kind: str, seed: int, weights: dict):
    model = tiny_gpt.build(kind, seed)
    model.load_state_dict(weights)
    return model
