"""The bump-in-the-middle neuron: honest examples, and it learns the middle."""

import pytest
import torch

from gptviz.lessons.feature_neuron import BUMP, MIDDLE, WIDTH, FeatureLearning, bump_input, examples

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_each_example_has_one_bump_and_the_right_label():
    x, y = examples(500, torch.Generator().manual_seed(1))
    assert x.shape == (500, WIDTH) and y.shape == (500,)
    bright = x >= 1.0
    assert bright.sum(1).eq(BUMP).all()                       # exactly one bump of 5 pixels
    start = bright.float().argmax(1)
    assert torch.equal(bright[torch.arange(500), start + BUMP - 1], torch.ones(500, dtype=torch.bool))
    in_middle = (start >= MIDDLE[0]) & (start + BUMP <= MIDDLE[1])
    assert torch.equal(y, in_middle.float())
    assert 0.4 < y.mean() < 0.56                              # about half are in the middle


def test_it_reaches_99_percent_accuracy_within_100_steps():
    learning = FeatureLearning(seed=0)
    assert learning.accuracy() < 0.65                         # small random weights: a coin toss
    learning.train(100)
    assert learning.accuracy() >= 0.99
    assert learning.probability(bump_input(45)) > 0.5 > learning.probability(bump_input(2))
    assert learning.probability(bump_input(WIDTH - BUMP)) < 0.5


def test_its_weights_come_to_look_like_the_middle():
    learning = FeatureLearning(seed=0)
    learning.train(200)
    w = torch.tensor(learning.weights())
    inner = w[MIDDLE[0] + BUMP:MIDDLE[1] - BUMP]                # the middle, away from its edges
    outer = torch.cat([w[:MIDDLE[0] - BUMP], w[MIDDLE[1] + BUMP:]])
    assert inner.mean() > 0.1 > -0.1 > outer.mean()
    assert (inner > 0).float().mean() > 0.8 and (outer < 0).float().mean() > 0.8


def test_the_same_seed_gives_the_same_run_and_the_global_rng_is_untouched():
    before = torch.get_rng_state()
    a, b = FeatureLearning(seed=3), FeatureLearning(seed=3)
    a.train(5)
    b.train(5)
    assert a.weights() == b.weights() and a.accuracies == b.accuracies and a.losses == b.losses
    assert torch.equal(torch.get_rng_state(), before)
