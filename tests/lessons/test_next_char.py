"""Logits -> softmax -> a seeded draw of the next character."""

import torch

from gptviz.lessons.next_char import next_char


def test_probabilities_top_k_and_a_seeded_draw():
    logits = torch.tensor([0.0, 2.0, 1.0, -1.0, 3.0])
    n = next_char(logits, k=3, seed=7)
    torch.testing.assert_close(n.probs, torch.softmax(logits, -1))
    assert n.top == (4, 1, 2)
    g = torch.Generator().manual_seed(7)
    assert n.sampled == torch.multinomial(torch.softmax(logits, -1), 1, generator=g).item()
    assert next_char(logits, k=3, seed=7).sampled == n.sampled          # same seed, same draw
    assert [n.rank(i) for i in (4, 1, 2, 0, 3)] == [1, 2, 3, 4, 5]


def test_the_draw_is_from_the_whole_distribution_not_only_the_top_k():
    logits = torch.zeros(65)
    draws = {next_char(logits, k=1, seed=s).sampled for s in range(40)}
    assert len(draws) > 20             # uniform: far more characters than the one bar
