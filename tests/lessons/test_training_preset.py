"""The preset the training demo suggests, and the schedule it plots."""

import math

import torch

from gptviz.config import preset
from gptviz.lessons.training_preset import SHOWN_SETTINGS, lr_schedule, preset_for_machine, why


def test_lecture_with_cuda_default_without():
    assert preset_for_machine(cuda=True) == "lecture"
    assert preset_for_machine(cuda=False) == "default"
    assert preset_for_machine() == ("lecture" if torch.cuda.is_available() else "default")
    assert "no CUDA GPU" in why("default", cuda=False) and "hours" in why("lecture", cuda=False)
    assert "CUDA GPU" in why("lecture", cuda=True)


def test_the_schedule_warms_up_then_decays_to_min_lr():
    config = preset("default")
    lrs = lr_schedule("default")
    assert len(lrs) == config.max_iters
    peak = lrs.index(max(lrs))
    assert peak == config.warmup_iters and math.isclose(max(lrs), config.lr)
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert math.isclose(lrs[-1], config.min_lr, rel_tol=1e-3)


def test_every_shown_setting_exists():
    config = preset("lecture")
    assert all(hasattr(config, key) for key in SHOWN_SETTINGS)
