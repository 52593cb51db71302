"""A small layer: W @ x, the same by a loop, one neuron's sum written out, torch's refusals."""

import pytest
import torch

from gptviz.lessons.matmul import MAX_MULTIPLY_ADDS, layer_output, loop_layer, neuron_sum

W = torch.tensor([[1, 0, 2, -1], [0, 1, 1, 0], [3, -1, 0, 2]])
x = torch.tensor([1, 2, 3, 4])


def test_the_layer_is_one_matmul_and_a_loop_agrees():
    y = layer_output(W, x)
    assert y.tolist() == [3, 5, 9] == loop_layer(W, x)
    assert y.shape == (3,)
    X = torch.tensor([[1.0, 0.5], [2, 0], [3, 1], [4, -1]])
    assert layer_output(W.float(), X).shape == (3, 2)


def test_one_neuron_written_out():
    assert neuron_sum(W, x, 0) == "y[0] = 1·1 + 0·2 + 2·3 + -1·4 = 3"
    written = neuron_sum(W.float(), -x.float(), 1)
    assert written == "y[1] = 0.0·(-1.0) + 1.0·(-2.0) + 1.0·(-3.0) + 0.0·(-4.0) = -5.0"


def test_a_shape_mismatch_gives_torchs_message():
    with pytest.raises(RuntimeError) as raised:
        W @ torch.tensor([1, 2, 3])
    with pytest.raises(ValueError) as ours:
        layer_output(W, torch.tensor([1, 2, 3]))
    assert str(ours.value) == str(raised.value)


def test_big_layers_are_refused_on_the_live_view():
    side = 65
    with pytest.raises(ValueError, match="too many"):
        layer_output(torch.ones(side, side), torch.ones(side, side))
    assert side ** 3 > MAX_MULTIPLY_ADDS >= 64 ** 3
