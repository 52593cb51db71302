"""The loop-vs-matmul race and the device race, small and fast; timings are only checked for sense."""

import pytest
import torch

from gptviz.lessons.matmul_timing import (
    Stopped,
    available_device,
    layer,
    python_loop_layer,
    race_cpu_vs_device,
    race_loop_vs_matmul,
    seconds_text,
)


def test_the_layer_is_the_same_for_a_seed():
    W, x = layer(30, 40, seed=3)
    W2, x2 = layer(30, 40, seed=3)
    assert W.shape == (30, 40) and x.shape == (40,)
    assert torch.equal(W, W2) and torch.equal(x, x2)


def test_the_loop_equals_the_matmul():
    result = race_loop_vs_matmul(neurons=40, inputs=300, loop_budget_seconds=10.0)
    assert result.loop_neurons == 40 and not result.extrapolated
    assert result.agree and result.max_difference < 1e-3
    assert result.output_shape == (40,)
    assert result.loop_seconds > 0 and result.matmul.seconds > 0 and result.matmul.repeats >= 3
    assert result.loop_seconds_all == result.loop_seconds


def test_a_loop_out_of_time_stops_early_and_extrapolates():
    seen = []
    result = race_loop_vs_matmul(neurons=200, inputs=2000, loop_budget_seconds=0.0,
                                 progress=lambda stage, fraction: seen.append(stage))
    assert result.loop_neurons == 1 and result.extrapolated
    assert result.loop_seconds_all == pytest.approx(result.loop_seconds * 200)
    assert result.agree
    assert seen == ["matmul"]


def test_the_loop_reports_progress_and_can_be_stopped():
    W, x = layer(50, 10)
    fractions = []
    outputs, _ = python_loop_layer(W, x, 10.0, progress=lambda stage, f: fractions.append(f))
    assert len(outputs) == 50 and fractions == [0.2, 0.4, 0.6, 0.8, 1.0]
    with pytest.raises(Stopped):
        python_loop_layer(W, x, 10.0, cancelled=lambda: True)


def test_the_device_race_on_a_cpu_only_machine_times_the_cpu_alone():
    race = race_cpu_vs_device(neurons=64, inputs=64, batch=16, device="cpu")
    assert race.device == "cpu" and race.device_name == "CPU"
    assert race.cpu_single.seconds > 0 and race.cpu_batch.seconds > 0
    assert race.device_single is None and race.device_batch is None and race.copy_seconds is None


def test_available_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert available_device() == "cpu"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert available_device() == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert available_device() == "cuda"


def test_seconds_text():
    assert seconds_text(0.000012) == "12 µs"
    assert seconds_text(0.0034) == "3.4 ms"
    assert seconds_text(2.5) == "2.5 s"
