"""The training warnings' rules (gptviz/warnings_monitor.py) on synthetic sequences."""

import math

import numpy as np
import pytest

from gptviz.warnings_monitor import (
    MUON_RATIO_HIGH,
    RATIO_PATIENCE,
    RATIO_SETTLE_STEPS,
    SPIKE_QUIET_STEPS,
    WarningsMonitor,
    ratio_settle_steps,
)

MATRIX, OTHER = "blocks.0.mlp.c_fc.weight", "blocks.1.attn.c_proj.weight"


def ratios_run(monitor, sequence, start=10, every=10):
    """Feed one dict of ratios per diagnostic step; return {step: warnings}."""
    out = {}
    for i, ratios in enumerate(sequence):
        step = start + i * every
        found = monitor.observe_update_ratios(step, ratios)
        if found:
            out[step] = found
    return out


def test_a_ratio_outside_the_range_for_the_whole_window_warns_once_naming_parameter_and_value():
    m = WarningsMonitor()
    seq = [{MATRIX: 3e-2, OTHER: 1e-3, "blocks.0.ln_1.weight": 0.5, "blocks.0.mlp.c_fc.bias": 1.0}] * 9
    found = ratios_run(m, seq)
    assert list(found) == [10 * RATIO_PATIENCE]  # at the 5th diagnostic step in a row, not before, once
    (w,) = found[10 * RATIO_PATIENCE]
    assert w.kind == "update_ratio" and w.values == {MATRIX: 3e-2}  # LayerNorm gains and biases not watched
    assert MATRIX in w.message and "3.0e-02" in w.message and "above 1e-02" in w.message


def test_too_small_ratios_warn_too_and_several_parameters_share_one_warning():
    m = WarningsMonitor()
    found = ratios_run(m, [{MATRIX: 2e-5, OTHER: 5e-6, "wte.weight": 1e-3}] * RATIO_PATIENCE)
    (w,) = found[10 * RATIO_PATIENCE]
    assert "below 1e-04" in w.message and w.values == {MATRIX: 2e-5, OTHER: 5e-6}
    assert w.message.index(OTHER) < w.message.index(MATRIX)  # the farthest out first


def test_a_ratio_back_in_range_resets_the_window_and_rearms_the_warning_once_it_stays_there():
    out_of_range, fine = {MATRIX: 5e-2}, {MATRIX: 1e-3}
    seq = [out_of_range] * (RATIO_PATIENCE - 1) + [fine] + [out_of_range] * (RATIO_PATIENCE - 1)
    assert ratios_run(WarningsMonitor(), seq) == {}  # never 5 in a row
    hovering = [out_of_range] * RATIO_PATIENCE + ([fine] + [out_of_range] * RATIO_PATIENCE) * 3
    assert len(ratios_run(WarningsMonitor(), hovering)) == 1  # briefly back in range: not warned again
    back = [out_of_range] * RATIO_PATIENCE + [fine] * RATIO_PATIENCE + [out_of_range] * RATIO_PATIENCE
    assert list(ratios_run(WarningsMonitor(), back)) == [50, 150]  # back for long enough: warned again


def test_healthy_or_nan_ratios_never_warn():
    rng = np.random.default_rng(0)
    m = WarningsMonitor()
    seq = [{MATRIX: float(10 ** rng.uniform(-3.9, -2.1)), OTHER: math.nan} for _ in range(200)]
    assert ratios_run(m, seq) == {}


def training_losses(n=400, seed=0):
    """A plausible loss curve: 4.2 decaying to ~1.5, with step-to-step noise."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, n + 1)
    return steps, 1.5 + 2.7 * np.exp(-steps / 80) + 0.05 * rng.standard_normal(n)


def test_a_loss_spike_after_warmup_warns_at_that_step():
    steps, loss = training_losses()
    loss[299] = 5.0  # step 300: about 3× the ~1.6 around it
    m = WarningsMonitor(warmup_steps=50)
    (w,) = m.observe_losses(steps, loss)
    assert w.kind == "loss_spike" and w.step == 300
    assert w.values["loss"] == pytest.approx(5.0) and 1.5 < w.values["average"] < 1.8
    assert "5.000" in w.message


def test_no_spike_warning_during_warmup_for_normal_training_or_a_moderate_bump():
    steps, loss = training_losses()
    assert WarningsMonitor(warmup_steps=50).observe_losses(steps, loss) == []
    early = loss.copy()
    early[30] = 12.0  # during warmup
    assert WarningsMonitor(warmup_steps=50).observe_losses(steps, early) == []
    bump = loss.copy()
    bump[299] *= 2.0  # below the 2.5× threshold
    assert WarningsMonitor(warmup_steps=50).observe_losses(steps, bump) == []
    nan = loss.copy()
    nan[299] = math.nan  # a diverged step is an error elsewhere, not a spike here
    assert WarningsMonitor(warmup_steps=50).observe_losses(steps, nan) == []


def test_spikes_in_a_row_warn_once_then_quiet():
    steps, loss = training_losses()
    loss[299:305] = 6.0
    loss[299 + SPIKE_QUIET_STEPS + 20] = 8.0  # a separate spike later
    found = WarningsMonitor(warmup_steps=50).observe_losses(steps, loss)
    assert [w.step for w in found] == [300, 300 + SPIKE_QUIET_STEPS + 20]


def evals(m, rows):
    return [w for step, train, val in rows for w in m.observe_eval(step, train, val)]


def test_val_rising_while_train_falls_across_consecutive_evaluations_warns_once():
    m = WarningsMonitor()
    rows = [(100, 2.0, 2.05), (200, 1.7, 1.80), (300, 1.5, 1.70), (400, 1.40, 1.72), (500, 1.3, 1.75),
            (600, 1.2, 1.80)]
    found = evals(m, rows)
    assert [w.step for w in found] == [500]  # val rose 300→400→500 while train fell; not again at 600
    (w,) = found
    assert w.kind == "overfitting" and "1.700 → 1.750" in w.message and "steps 300–500" in w.message


def test_no_overfitting_warning_when_both_fall_both_rise_or_only_one_interval():
    healthy = [(100, 2.0, 2.1), (200, 1.8, 1.9), (300, 1.6, 1.7), (400, 1.5, 1.6)]
    assert evals(WarningsMonitor(), healthy) == []
    assert evals(WarningsMonitor(), [(100, 1.5, 1.6), (200, 1.6, 1.7), (300, 1.7, 1.8)]) == []  # diverging
    one_interval = [(100, 1.5, 1.6), (200, 1.4, 1.7), (300, 1.3, 1.65)]
    assert evals(WarningsMonitor(), one_interval) == []
    assert evals(WarningsMonitor(), [(0, math.nan, 4.2), (100, 1.5, 1.6), (200, 1.4, 1.7)]) == []


def test_overfitting_rearms_after_a_break_and_reset_forgets_everything():
    m = WarningsMonitor()
    up = [(100, 1.6, 1.6), (200, 1.5, 1.7), (300, 1.4, 1.8)]
    assert len(evals(m, up)) == 1
    assert evals(m, [(400, 1.3, 1.75)]) == []  # val fell: the streak is broken
    assert len(evals(m, [(500, 1.2, 1.8), (600, 1.1, 1.9)])) == 1
    m.reset()
    assert evals(m, [(700, 1.0, 2.0)]) == []


def test_update_ratios_are_not_judged_before_the_settle_step():
    m = WarningsMonitor()
    m.reset(warmup_steps=50, settle_steps=ratio_settle_steps(50))
    assert ratio_settle_steps(50) == RATIO_SETTLE_STEPS and ratio_settle_steps(300) == 600
    early = ratios_run(m, [{MATRIX: 5e-2}] * 19, start=10)  # steps 10..190: weights still growing
    assert early == {}
    later = ratios_run(m, [{MATRIX: 5e-2}] * RATIO_PATIENCE, start=200)
    assert list(later) == [200 + 10 * (RATIO_PATIENCE - 1)]  # counted from the settle step, not before


def test_matrices_muon_updates_may_go_up_to_the_wide_bound_but_not_past_it():
    m = WarningsMonitor()
    m.reset(wide=lambda name: name.startswith("blocks."))
    healthy = {MATRIX: 6e-2, OTHER: 9e-2, "wte.weight": 5e-3}  # the default preset at peak lr
    assert ratios_run(m, [healthy] * 3 * RATIO_PATIENCE) == {}
    runaway = {MATRIX: 3e-1, OTHER: 9e-2, "wte.weight": 3e-2}  # AdamW's embedding keeps 1e-2
    (found,) = ratios_run(m, [runaway] * RATIO_PATIENCE, start=1000).values()
    (w,) = found  # one warning names both; OTHER at 9e-2 is within Muon's bound
    assert w.values == {MATRIX: 3e-1, "wte.weight": 3e-2} and "above 1e-02" in w.message
    m.reset(wide=lambda name: name.startswith("blocks."))
    (only_muon,) = ratios_run(m, [{MATRIX: 3e-1}] * RATIO_PATIENCE).values()
    assert f"above {MUON_RATIO_HIGH:.0e}" in only_muon[0].message
