"""The probabilities recorded while sampling are the ones the sampler drew from."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gptviz.config import preset
from gptviz.gui.probability_log import ProbabilityLog
from gptviz.next_char_probs import ChoiceBatch
from gptviz.sampler import Sampler, filter_logits
from gptviz.trainer import Trainer


@pytest.fixture(scope="module")
def sampler(small_corpus):
    trainer = Trainer(preset("tiny", max_iters=30), small_corpus)
    trainer.train()
    return Sampler(trainer.model, small_corpus.tokenizer)


def recomputed(sampler, prompt, text, i, temperature, top_k, top_p):
    """softmax(logits) and the distribution drawn from, at generated character i, from scratch."""
    block = sampler.model.config.block_size
    context = ((prompt or "\n") + text[:i])[-block:]
    idx = torch.from_numpy(sampler.tokenizer.encode(context))[None, :]
    sampler.model.eval()
    with torch.no_grad():
        logits = sampler.model(idx)[0][0, -1]
    sampler.model.train()
    raw = F.softmax(logits, dim=-1)
    if temperature == 0:
        used = F.one_hot(logits.argmax(), len(raw)).float()
    else:
        used = F.softmax(filter_logits(logits / temperature, top_k, top_p), dim=-1)
    return raw, used


@pytest.mark.parametrize("temperature, top_k, top_p", [(0.8, None, None), (1.3, 5, None),
                                                       (1.0, None, 0.8), (0.0, None, None)])
def test_recorded_probabilities_are_what_each_character_was_drawn_from(sampler, temperature, top_k, top_p):
    kw = dict(max_new_tokens=40, temperature=temperature, top_k=top_k, top_p=top_p, seed=11)
    text = sampler.sample("ROMEO:", **kw)
    pairs = list(sampler.stream_choices("ROMEO:", keep=8, **kw))
    assert "".join(ch for ch, _ in pairs) == text  # recording changes nothing drawn
    batch = ChoiceBatch.from_choices(6, [c for _, c in pairs], sampler.tokenizer.chars, text,
                                     temperature, top_k, top_p)
    chars = sampler.tokenizer.chars
    for i in range(len(text)):
        row = batch.row(6 + i)
        raw, used = recomputed(sampler, "ROMEO:", text, i, temperature, top_k, top_p)
        top = raw.topk(8)
        assert row.chars == [chars[j] for j in top.indices]  # the model's 8 likeliest, in order
        np.testing.assert_allclose(row.raw, top.values.numpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(row.used, used[top.indices].numpy(), rtol=1e-5, atol=1e-7)
        drawn = chars.index(text[i])
        assert row.chosen == text[i]  # the character marked is the one drawn
        assert row.chosen_raw == pytest.approx(float(raw[drawn]), rel=1e-5)
        assert row.chosen_used == pytest.approx(float(used[drawn]), rel=1e-5)
        assert row.chosen_used > 0  # it was drawn, so it was allowed
        assert row.rank == int((raw > raw[drawn]).sum()) + 1
    assert batch.row(5) is None and batch.row(6 + len(text)) is None  # the prompt has no rows


def test_without_keep_nothing_is_recorded(sampler):
    assert all(c is None for _, c in sampler.stream_choices("a", max_new_tokens=5, seed=1))


def test_the_log_finds_rows_and_keeps_to_its_budget(sampler):
    def batch(start, n):
        pairs = list(sampler.stream_choices("a", max_new_tokens=n, seed=start, keep=10))
        return ChoiceBatch.from_choices(start, [c for _, c in pairs], sampler.tokenizer.chars,
                                        "".join(ch for ch, _ in pairs))
    first = batch(3, 10)
    log = ProbabilityLog(max_bytes=first.nbytes * 3)
    log.add(0, first)
    log.add(0, batch(13, 10))
    assert log.at(0, 2) is None and log.first_offset(0) == 3  # the prompt
    assert log.at(0, 3).chosen == first.row(3).chosen and log.at(0, 15) is not None
    assert log.at(0, 23) is None and log.at(1, 3) is None
    log.add(1, batch(0, 10))
    log.add(2, batch(0, 10))  # over budget: the oldest sample goes first
    assert 0 not in log and 1 in log and 2 in log
    assert log.nbytes <= log.max_bytes
