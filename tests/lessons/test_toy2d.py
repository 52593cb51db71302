"""The 2-D toy problems: hidden layers beat a single neuron on curved data, and the region is drawn right."""

import numpy as np
import pytest
import torch
from torch import nn

from gptviz.lessons.toy2d import GRID, ToyLearning, linear
from gptviz.lessons.toy_data import DATASETS

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("name", list(DATASETS))
def test_each_dataset_has_two_classes_of_n_points_the_same_for_a_seed(name):
    X, Y = DATASETS[name](50, torch.Generator().manual_seed(4))
    X2, _ = DATASETS[name](50, torch.Generator().manual_seed(4))
    assert X.shape == (100, 2) and Y.tolist() == [0.0] * 50 + [1.0] * 50
    assert torch.equal(X, X2) and X.abs().max() < 3


def test_a_layer_gets_the_weights_nn_linear_gets_after_manual_seed():
    torch.manual_seed(7)
    reference = nn.Linear(16, 3)
    layer = linear(16, 3, torch.Generator().manual_seed(7))
    assert torch.equal(layer.weight, reference.weight) and torch.equal(layer.bias, reference.bias)


@pytest.mark.parametrize("dataset,alone_at_most", [("moons", 0.9), ("circles", 0.65)])
def test_hidden_layers_beat_no_hidden_layer_on_curved_data(dataset, alone_at_most):
    deep, alone = ToyLearning(dataset, [16, 16]), ToyLearning(dataset, [])
    deep.train(150)
    alone.train(150)
    assert deep.accuracy >= 0.98
    assert alone.accuracy <= alone_at_most and max(alone.accuracies) <= alone_at_most + 0.05
    assert deep.loss < alone.loss


def test_a_single_neuron_is_enough_for_blobs():
    learning = ToyLearning("blobs", [])
    learning.train(100)
    assert learning.accuracy >= 0.95


def test_the_region_is_the_networks_answer_where_the_points_are():
    learning = ToyLearning("moons", [16, 16])
    learning.train(100)
    region = learning.region()
    assert region.shape == (GRID, GRID) and region.dtype == np.float32
    assert 0 <= region.min() and region.max() <= 1
    x0, x1, y0, y1 = learning.extent()
    col = ((learning.X[:, 0] - x0) / (x1 - x0) * GRID).long().numpy()
    row = ((learning.X[:, 1] - y0) / (y1 - y0) * GRID).long().numpy()
    with torch.no_grad():
        says_one = (learning.net(learning.X).squeeze(1) > 0).numpy()
    agree = (region[row, col] > 0.5) == says_one             # row = y, column = x
    assert agree.mean() > 0.95


def test_the_global_rng_is_untouched_and_bad_settings_are_refused():
    before = torch.get_rng_state()
    ToyLearning("spiral", [8]).train(2)
    assert torch.equal(torch.get_rng_state(), before)
    for bad in (dict(dataset="swirl"), dict(activation="gelu"), dict(hidden=[0])):
        with pytest.raises(ValueError):
            ToyLearning(**bad)
