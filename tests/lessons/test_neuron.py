"""One neuron learning 42: it gets there at the default learning rate, and blows up at a large one."""

import math

import pytest
import torch

from gptviz.lessons.neuron import TargetLearning

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_the_loss_falls_below_a_thousandth_within_40_steps_at_the_default_learning_rate():
    learning = TargetLearning(seed=0)
    assert learning.lr == 1e-3 and learning.loss > 1000
    learning.train(40)
    assert learning.loss < 1e-3
    assert abs(learning.output() - 42) < 0.04
    assert all(b < a for a, b in zip(learning.history, learning.history[1:]))   # downhill every step
    assert not learning.diverging and not learning.diverged


def test_a_large_learning_rate_diverges_to_inf():
    learning = TargetLearning(seed=0, lr=0.02)
    learning.train(3)
    assert learning.diverging and not learning.diverged      # growing, still finite
    assert learning.history[3] > 1000 * learning.history[0]
    learning.train(100)
    assert learning.diverged and learning.steps < 100        # inf or nan, and training stopped there
    steps = learning.steps
    learning.step()
    assert learning.steps == steps                           # nothing more to learn


@pytest.mark.parametrize("factor,converges", [(0.9, True), (1.1, False)])
def test_the_critical_learning_rate_separates_the_two(factor, converges):
    lr = TargetLearning(seed=0).critical_lr * factor
    learning = TargetLearning(seed=0, lr=lr)
    learning.train(300)
    assert (learning.loss < learning.history[0]) is converges
    assert learning.diverging is not converges


def test_the_same_seed_gives_the_same_numbers_and_the_global_rng_is_untouched():
    before = torch.get_rng_state()
    a, b = TargetLearning(seed=5), TargetLearning(seed=5)
    a.train(7)
    b.train(7)
    assert a.weights() == b.weights() and a.losses() == b.losses() and a.bias() == b.bias()
    assert TargetLearning(seed=6).weights() != a.weights()
    assert torch.equal(torch.get_rng_state(), before)


def test_it_computes_what_the_plain_torch_loop_computes():
    torch.manual_seed(2)
    x = torch.randn(100)
    w = torch.randn(100, requires_grad=True)
    b = torch.randn((), requires_grad=True)
    losses = []
    for _ in range(4):
        loss = (x @ w + b - 42) ** 2
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= 0.003 * w.grad
            b -= 0.003 * b.grad
        w.grad = None
        b.grad = None
    learning = TargetLearning(seed=2, lr=0.003)
    learning.train(4)
    assert learning.losses() == losses
    assert learning.weights() == w.tolist() and learning.bias() == b.item()
    assert math.isfinite(learning.loss)
