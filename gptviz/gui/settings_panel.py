"""The settings of a training run as a form: a preset picker and one editor per setting.

Every edit builds a `TrainConfig` from the editors, so the form checks a run with exactly
the rules that the trainer and `gptviz train` use. When a rule fails, its `ConfigError`
message is shown in red under the setting it names (every setting it names gets a red
label) and in a summary line above the form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..config import CHOICES, FIELD_TYPES, PRESETS, TrainConfig, parse_value, preset
from ..model import ConfigError
from .device_picker import DevicePicker

GROUPS: dict[str, tuple[str, ...]] = {
    "Model": ("model", "n_layer", "n_head", "n_embd", "block_size", "dropout", "bias", "rope",
              "qk_norm", "activation"),
    "Optimizer & schedule": ("optimizer", "lr", "min_lr", "warmup_iters", "lr_decay_iters",
                             "decay", "max_iters", "batch_size", "grad_accum", "weight_decay",
                             "beta1", "beta2", "grad_clip", "muon_lr", "muon_momentum"),
    "Evaluation": ("eval_interval", "eval_iters", "seed"),
}

TOOLTIPS: dict[str, str] = {
    "model": "gpt: the transformer; bigram: a table that guesses the next character "
             "from the current one only (a baseline).",
    "n_layer": "How many transformer blocks are stacked: more layers, a deeper model.",
    "n_head": "Attention heads per block; each head works in n_embd / n_head dimensions.",
    "n_embd": "Width of the model: the length of the vector that stands for each character.",
    "block_size": "Context length: how many previous characters the model sees at once.",
    "dropout": "Fraction of activations zeroed at random while training, against "
               "overfitting (0 = off).",
    "bias": "Give the linear layers and layer norms a bias term.",
    "rope": "Rotary position embeddings: mark positions by rotating queries and keys "
            "instead of a learned table.",
    "qk_norm": "Normalise queries and keys before attention, which keeps attention scores tame.",
    "activation": "The MLP's non-linearity: GELU, or ReLU squared (relu2).",
    "optimizer": "adamw for every weight, or muon for the hidden matrices (AdamW for the rest).",
    "lr": "Peak learning rate of AdamW: how big a step each update takes.",
    "min_lr": "Learning rate at the end of the decay.",
    "warmup_iters": "Steps over which the learning rate ramps up from 0 to lr.",
    "lr_decay_iters": "Step at which the decay reaches min_lr (0 = at max_iters).",
    "decay": "Shape of the fall from lr to min_lr after the warmup.",
    "max_iters": "Total number of training steps.",
    "batch_size": "Sequences per step: more gives smoother gradients but slower steps.",
    "grad_accum": "Gradient accumulation: each step adds up the gradients of this many batches "
                  "of batch_size (a bigger effective batch in the same memory).",
    "weight_decay": "Pulls weights a little toward zero every step, a mild regulariser.",
    "beta1": "AdamW momentum: how much of the past gradients each update keeps.",
    "beta2": "AdamW: how slowly its estimate of each weight's gradient size forgets.",
    "grad_clip": "A gradient whose total norm is larger is scaled down to this (0 = no clipping).",
    "muon_lr": "Learning rate of the hidden matrices when the optimizer is muon.",
    "muon_momentum": "Momentum of the Muon optimizer (muon only).",
    "eval_interval": "Measure the train and validation loss every this many steps.",
    "eval_iters": "Batches averaged per loss measurement: more is steadier but slower.",
    "seed": "Random seed: the same seed and settings train the same run again.",
}

CUSTOM = "custom"  # shown in the preset picker when the settings match no preset
ERROR_STYLE = "color: #c62828;"
INT_MAX = 2**31 - 1


def fields_named_in(message: str) -> list[str]:
    """The settings a message names, in the order it names them.

    'n_embd (30) must be divisible by n_head (4)' → ['n_embd', 'n_head'].
    """
    found = {name: m.start() for name in FIELD_TYPES
             if (m := re.search(rf"\b{name}\b", message))}
    return sorted(found, key=found.get)


def make_editor(name: str) -> QWidget:
    """The editor for one setting: a choice list, a checkbox, a spin box or, for floats,
    a line edit (so that 3e-4 can be typed)."""
    kind = FIELD_TYPES[name]
    if name in CHOICES:
        editor = QComboBox()
        editor.addItems(CHOICES[name])
    elif kind == "bool":
        editor = QCheckBox()
    elif kind == "int":
        editor = QSpinBox()
        editor.setRange(0, INT_MAX)  # the lower bounds are TrainConfig's to check and explain
    else:
        editor = QLineEdit()
    editor.setObjectName(f"setting_{name}")
    editor.setToolTip(TOOLTIPS[name])
    return editor


def read_editor(name: str, editor: QWidget):
    """The editor's value; raises ConfigError naming the setting for unreadable text."""
    if isinstance(editor, QComboBox):
        return editor.currentText()
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QSpinBox):
        return editor.value()
    return parse_value(name, editor.text())


def write_editor(editor: QWidget, value) -> None:
    if isinstance(editor, QComboBox):
        editor.setCurrentText(str(value))
    elif isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QSpinBox):
        editor.setValue(int(value))
    else:
        editor.setText(repr(float(value)))  # repr: the shortest text that reads back exactly


def edited_signal(editor: QWidget):
    if isinstance(editor, QComboBox):
        return editor.currentIndexChanged
    if isinstance(editor, QCheckBox):
        return editor.toggled
    if isinstance(editor, QSpinBox):
        return editor.valueChanged
    return editor.textChanged


class SettingsPanel(QWidget):
    """A preset picker over `PRESETS` and an editor for every `TrainConfig` setting.

    Signals:
        validityChanged(valid, reason): when the settings become valid or invalid, or the
            reason changes; reason is "" when valid.
        configChanged(): after any change of any editor (once per `set_config`).
    """

    validityChanged = Signal(bool, str)
    configChanged = Signal()

    def __init__(self, config: TrainConfig | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._editors: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        self._messages: dict[str, QLabel] = {}
        self._presets = {name: preset(name) for name in PRESETS}
        self._extra_check: Callable[[TrainConfig], str | None] | None = None
        self._config: TrainConfig | None = None
        self._error: str | None = None
        self._last_edited: str | None = None
        self._loading = False

        self._preset_combo = QComboBox(objectName="presetCombo")
        self._preset_combo.addItems([*PRESETS, CUSTOM])
        self._preset_combo.setToolTip("Fill every setting with a named recipe.")
        self._preset_combo.currentTextChanged.connect(self._on_preset_chosen)
        self._summary = QLabel(objectName="settingsError", wordWrap=True)
        self._summary.setStyleSheet(ERROR_STYLE)
        self._summary.hide()

        self.device_picker = DevicePicker()
        top = QFormLayout()
        top.addRow("Preset", self._preset_combo)
        top.addRow("Device", self.device_picker)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self._summary)
        layout.addWidget(self._build_form(), 1)

        self.set_config(config or self._presets["default"])

    def _build_form(self) -> QScrollArea:
        inner = QWidget()
        column = QVBoxLayout(inner)
        for title, names in GROUPS.items():
            box = QGroupBox(title.replace("&", "&&"))  # a lone & would mark a shortcut key
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for name in names:
                form.addRow(*self._build_row(name))
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(inner)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        return scroll

    def _build_row(self, name: str) -> tuple[QLabel, QWidget]:
        """A label and, under the editor, a red message that shows only on an error."""
        editor = make_editor(name)
        label = QLabel(name, objectName=f"settingLabel_{name}", toolTip=TOOLTIPS[name])
        message = QLabel(objectName=f"settingError_{name}", wordWrap=True)
        message.setStyleSheet(ERROR_STYLE)
        message.hide()
        cell = QWidget()
        box = QVBoxLayout(cell)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(editor)
        box.addWidget(message)
        edited_signal(editor).connect(lambda *_, n=name: self._on_edit(n))
        self._editors[name], self._labels[name], self._messages[name] = editor, label, message
        return label, cell

    # -- public API ------------------------------------------------------------------------
    def config(self) -> TrainConfig | None:
        """The settings as a TrainConfig, or None while they are invalid."""
        return self._config

    def error(self) -> str | None:
        """Why the settings are invalid, or None."""
        return self._error

    def device(self) -> str:
        """The device chosen for the run ("auto", "cpu", "cuda" or "mps")."""
        return self.device_picker.device()

    def set_config(self, config: TrainConfig) -> None:
        self._loading = True
        try:
            for name, value in config.to_dict().items():
                write_editor(self._editors[name], value)
        finally:
            self._loading = False
        self._last_edited = None
        self.revalidate()
        self.configChanged.emit()

    def set_preset(self, name: str) -> None:
        """Fill every editor with a preset; raises ConfigError for an unknown name."""
        self.set_config(preset(name))

    def set_extra_check(self, check: Callable[[TrainConfig], str | None] | None) -> None:
        """Add a check beyond TrainConfig's own (e.g. block_size against the corpus):
        it returns a reason to refuse the settings, or None. Re-run it with `revalidate`."""
        self._extra_check = check
        self.revalidate()

    def setLocked(self, locked: bool, editable: Iterable[str] = ()) -> None:
        """Make the editors read-only (disabled) while a run trains.

        The trainer reads its settings once, when a run starts, so by default every editor
        and the preset and device pickers lock. Settings the window can apply to a live run (schedule
        fields such as max_iters) can be named in `editable` to stay open.
        """
        keep = set(editable)
        self._preset_combo.setEnabled(not locked)
        self.device_picker.setEnabled(not locked)
        for name, editor in self._editors.items():
            editor.setEnabled(not locked or name in keep)

    def flagged_fields(self) -> list[str]:
        """The settings shown in red, in the order the error message names them."""
        return fields_named_in(self._error) if self._error else []

    def revalidate(self) -> None:
        """Build the config from the editors, show any error, emit validityChanged on change."""
        was = (self._config is not None, self._error or "")
        self._config, self._error = self._build_config()
        self._show_error()
        self._show_matching_preset()
        now = (self._config is not None, self._error or "")
        if now != was:
            self.validityChanged.emit(*now)

    # -- internals -------------------------------------------------------------------------
    def _build_config(self) -> tuple[TrainConfig | None, str | None]:
        try:
            config = TrainConfig(**{name: read_editor(name, editor)
                                    for name, editor in self._editors.items()})
        except ConfigError as e:
            return None, str(e)
        reason = self._extra_check(config) if self._extra_check else None
        return (None, reason) if reason else (config, None)

    def _show_error(self) -> None:
        """Red labels for every setting the error names; the message itself under the one
        just edited (where the learner is looking) or else the first one named."""
        flagged = self.flagged_fields()
        where = self._last_edited if self._last_edited in flagged else (flagged or [None])[0]
        for name, label in self._labels.items():
            label.setStyleSheet((ERROR_STYLE + "font-weight: bold;") if name in flagged else "")
            self._messages[name].setText(self._error if name == where else "")
            self._messages[name].setVisible(name == where)
        self._summary.setText(self._error or "")
        self._summary.setVisible(self._error is not None)

    def _show_matching_preset(self) -> None:
        name = next((n for n, c in self._presets.items() if c == self._config), CUSTOM)
        self._preset_combo.blockSignals(True)
        self._preset_combo.setCurrentText(name)
        self._preset_combo.blockSignals(False)

    def _on_preset_chosen(self, name: str) -> None:
        if name != CUSTOM:
            self.set_preset(name)

    def _on_edit(self, name: str) -> None:
        if self._loading:
            return
        self._last_edited = name
        self.revalidate()
        self.configChanged.emit()
