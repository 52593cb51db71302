"""A few optimizer steps on the built-in passage teach the tiny model something."""

import torch

from gptviz.lessons import tiny_gpt
from gptviz.lessons.quick_train import learning_rate, train_on_passage


def test_training_lowers_the_loss_reports_each_step_and_leaves_the_global_rng():
    model = tiny_gpt.build()
    torch.manual_seed(0)
    before = torch.get_rng_state()
    heard = []
    losses = train_on_passage(model, steps=15, on_step=lambda step, loss: heard.append(step))
    assert torch.equal(torch.get_rng_state(), before)
    assert heard == list(range(1, 16)) and len(losses) == 15
    assert sum(losses[-5:]) / 5 < losses[0] - 0.5
    assert not model.training


def test_should_stop_ends_it_early():
    asked = []

    def should_stop():
        asked.append(1)
        return len(asked) > 3

    losses = train_on_passage(tiny_gpt.build(), steps=50, should_stop=should_stop)
    assert len(losses) == 3


def test_the_bigram_table_gets_a_larger_learning_rate():
    assert learning_rate(tiny_gpt.build("bigram")) > learning_rate(tiny_gpt.build())
