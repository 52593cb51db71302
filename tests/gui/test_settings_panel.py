"""The settings form: presets fill it, every edit is checked by TrainConfig's own rules."""

from dataclasses import fields

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QSpinBox

from gptviz.config import PRESETS, TrainConfig, preset
from gptviz.gui.settings_panel import GROUPS, SettingsPanel, fields_named_in


@pytest.fixture
def panel(qtbot):
    p = SettingsPanel()
    qtbot.addWidget(p)
    p.set_preset("cpu")
    return p


def editor(panel, name):
    return panel.findChild(object, f"setting_{name}")


def field_message(panel, name):
    return panel.findChild(QLabel, f"settingError_{name}")


def test_every_setting_has_one_editor_of_the_right_kind(panel):
    grouped = [name for names in GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(f.name for f in fields(TrainConfig))
    assert isinstance(editor(panel, "n_head"), QSpinBox)
    assert isinstance(editor(panel, "lr"), QLineEdit)
    assert isinstance(editor(panel, "rope"), QCheckBox)
    assert isinstance(editor(panel, "optimizer"), QComboBox)
    assert all(editor(panel, name).toolTip() for name in grouped)


def test_choosing_a_preset_fills_every_editor(qtbot, panel):
    combo = panel.findChild(QComboBox, "presetCombo")
    combo.setCurrentText("tiny")
    assert panel.config() == preset("tiny")
    with qtbot.waitSignal(panel.configChanged):
        combo.setCurrentText("cpu")
    assert editor(panel, "n_layer").value() == 4
    assert editor(panel, "n_embd").value() == 128
    config = panel.config()
    assert (config.n_layer, config.n_embd, config.lr) == (4, 128, 0.001)
    assert config == preset("cpu")
    assert list(PRESETS) == [combo.itemText(i) for i in range(len(PRESETS))]


def test_an_edit_that_leaves_the_preset_shows_custom(qtbot, panel):
    combo = panel.findChild(QComboBox, "presetCombo")
    editor(panel, "seed").setValue(7)
    assert combo.currentText() == "custom"
    assert panel.config().seed == 7


def test_indivisible_width_is_refused_and_flags_both_fields(qtbot, panel):
    with qtbot.waitSignal(panel.validityChanged) as blocker:
        editor(panel, "n_embd").setValue(30)
    valid, reason = blocker.args
    assert not valid and "divisible" in reason
    assert panel.config() is None
    assert panel.error() == reason and reason.startswith("n_embd (30) must be divisible by n_head (4)")
    assert panel.findChild(QLabel, "settingsError").text() == reason
    assert panel.flagged_fields() == ["n_embd", "n_head"]
    assert field_message(panel, "n_embd").text() == reason  # under the field just edited
    assert "c62828" in panel.findChild(QLabel, "settingLabel_n_head").styleSheet()

    with qtbot.waitSignal(panel.validityChanged) as blocker:
        editor(panel, "n_head").setValue(5)
    assert blocker.args == [True, ""]
    assert panel.config().n_embd == 30 and panel.error() is None
    assert panel.findChild(QLabel, "settingsError").text() == ""
    assert field_message(panel, "n_embd").text() == "" and panel.flagged_fields() == []


def test_float_fields_take_scientific_notation_and_name_bad_text(qtbot, panel):
    lr = editor(panel, "lr")
    lr.clear()
    qtbot.keyClicks(lr, "3e-4")
    assert panel.config().lr == 3e-4
    editor(panel, "min_lr").setText("abc")
    assert panel.config() is None
    assert panel.error().startswith("min_lr") and "'abc'" in panel.error()
    assert panel.flagged_fields() == ["min_lr"]
    assert field_message(panel, "min_lr").text() == panel.error()


def test_extra_check_blocks_and_is_shown_like_any_error(qtbot, panel):
    def corpus_check(config):
        too_long = config.block_size > 100
        return f"block_size ({config.block_size}) is too long for the corpus" if too_long else None

    panel.set_extra_check(corpus_check)
    assert panel.config() is not None
    with qtbot.waitSignal(panel.validityChanged) as blocker:
        editor(panel, "block_size").setValue(128)
    assert blocker.args == [False, "block_size (128) is too long for the corpus"]
    assert panel.config() is None
    assert field_message(panel, "block_size").isVisibleTo(panel)
    panel.set_extra_check(None)
    assert panel.config().block_size == 128


def test_reason_changes_are_signalled_too(qtbot, panel):
    editor(panel, "n_embd").setValue(30)
    with qtbot.waitSignal(panel.validityChanged) as blocker:
        editor(panel, "n_embd").setValue(31)
    assert blocker.args[0] is False and "(31)" in blocker.args[1]
    with qtbot.assertNotEmitted(panel.validityChanged):
        editor(panel, "seed").setValue(3)  # still the same reason


def test_set_config_round_trips_every_value(panel):
    config = preset("lecture", lr=3.3e-5, min_lr=1e-7, decay="linear", seed=42, qk_norm=True)
    panel.set_config(config)
    assert panel.config() == config
    assert panel.findChild(QComboBox, "presetCombo").currentText() == "custom"


def test_locking_disables_the_editors_while_training(panel):
    panel.setLocked(True)
    assert not editor(panel, "n_head").isEnabled()
    assert not editor(panel, "lr").isEnabled()
    assert not panel.findChild(QComboBox, "presetCombo").isEnabled()
    panel.setLocked(True, editable=["max_iters"])
    assert editor(panel, "max_iters").isEnabled() and not editor(panel, "n_embd").isEnabled()
    panel.setLocked(False)
    assert all(editor(panel, n).isEnabled() for names in GROUPS.values() for n in names)


def test_field_names_are_matched_as_whole_words():
    assert fields_named_in("min_lr (1) must be between 0 and lr (0.1)") == ["min_lr", "lr"]
    assert fields_named_in("weight_decay and grad_clip must not be negative") == [
        "weight_decay", "grad_clip"]
    assert fields_named_in("the corpus is too short") == []


def test_combo_editor_change_is_validated(qtbot, panel):
    with qtbot.waitSignal(panel.configChanged):
        editor(panel, "optimizer").setCurrentText("muon")
    assert panel.config().optimizer == "muon"
    editor(panel, "rope").click()
    assert panel.config().rope is True
