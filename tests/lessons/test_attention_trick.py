"""The lecture's three versions of "mix the past", as the demo snippets write them."""

import torch
import torch.nn.functional as F
from torch import nn

from gptviz.lessons import attention_trick


def test_the_average_is_a_row_normalised_lower_triangle():
    a = attention_trick.average(T=4, C=2, seed=3)
    torch.testing.assert_close(a.wei[2], torch.tensor([1 / 3, 1 / 3, 1 / 3, 0.0]))
    torch.manual_seed(3)
    x = torch.randn(4, 2)
    assert torch.equal(a.x, x)
    torch.testing.assert_close(a.out[3], x.mean(0))     # the last position averages everything
    torch.testing.assert_close(a.out[1], x[:2].mean(0))


def test_softmax_over_masked_zeros_gives_the_same_weights():
    a, s = attention_trick.average(T=6), attention_trick.softmax(T=6)
    torch.testing.assert_close(s.wei, a.wei)
    torch.testing.assert_close(s.out, a.out)
    assert torch.isinf(s.scores[0, 1]) and s.scores[1, 0] == 0


def test_one_head_follows_the_lecture_and_each_row_differs():
    h = attention_trick.head(T=8, C=32, head_size=16, seed=1337)
    torch.manual_seed(1337)
    x = torch.randn(8, 32)
    key, query, value = (nn.Linear(32, 16, bias=False) for _ in range(3))
    wei = (query(x) @ key(x).T * 16**-0.5).masked_fill(torch.tril(torch.ones(8, 8)) == 0, float("-inf"))
    wei = F.softmax(wei, dim=-1)
    torch.testing.assert_close(h.wei, wei)
    torch.testing.assert_close(h.out, wei @ value(x))
    torch.testing.assert_close(h.wei.sum(-1), torch.ones(8))
    assert (h.wei.triu(1) == 0).all()
    assert not torch.allclose(h.wei[7, :7], torch.full((7,), h.wei[7, 0].item()))  # not an even average


def test_compute_picks_a_version_by_name_and_keeps_the_global_rng():
    torch.manual_seed(0)
    before = torch.get_rng_state()
    for mode in attention_trick.MODES:
        assert attention_trick.compute(mode, 5, 1).wei.shape == (5, 5)
    assert torch.equal(torch.get_rng_state(), before)
