import math

import pytest
import torch

from gptviz.config import preset
from gptviz.sampler import Sampler, SamplingError, filter_logits
from gptviz.trainer import Trainer


@pytest.fixture(scope="module")
def trained(small_corpus):
    trainer = Trainer(preset("tiny", max_iters=40), small_corpus)
    trainer.train()
    return Sampler(trainer.model, small_corpus.tokenizer)


def test_streams_one_character_at_a_time(trained):
    chunks = list(trained.stream("ROMEO:", max_new_tokens=30, seed=1))
    assert len(chunks) == 30 and all(len(c) == 1 for c in chunks)
    assert set("".join(chunks)) <= set(trained.tokenizer.chars)


def test_same_seed_same_text(trained):
    a = trained.sample("The ", max_new_tokens=50, seed=7, top_k=10)
    assert a == trained.sample("The ", max_new_tokens=50, seed=7, top_k=10)
    assert a != trained.sample("The ", max_new_tokens=50, seed=8, top_k=10)


def test_sampling_does_not_touch_the_global_rng(trained):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    trained.sample("a", max_new_tokens=20, seed=3)
    assert torch.equal(torch.rand(3), expected)


def test_temperature_zero_is_greedy(trained):
    text = trained.sample("Th", max_new_tokens=20, temperature=0, seed=1)
    assert text == trained.sample("Th", max_new_tokens=20, temperature=0, seed=2)
    model, tok = trained.model, trained.tokenizer
    idx = torch.tensor([tok.encode("Th").tolist()])
    expected = tok.chars[int(model(idx)[0][0, -1].argmax())]
    assert text[0] == expected


def test_top_k_one_equals_greedy(trained):
    greedy = trained.sample("Th", max_new_tokens=20, temperature=0)
    assert trained.sample("Th", max_new_tokens=20, top_k=1, seed=4) == greedy


def test_prompt_outside_the_vocabulary(trained):
    with pytest.raises(SamplingError, match=r"prompt has 1 character\(s\) not in the vocabulary: '€'"):
        trained.sample("price: €", max_new_tokens=5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(temperature=-1), "temperature"), (dict(temperature=math.nan), "temperature"),
    (dict(top_k=0), "top_k"), (dict(top_p=0.0), "top_p"), (dict(top_p=1.5), "top_p"),
    (dict(max_new_tokens=-1), "max_new_tokens"),
])
def test_bad_settings(trained, kwargs, message):
    with pytest.raises(SamplingError, match=message):
        trained.sample("a", **kwargs)


def test_long_generation_slides_the_context(trained):
    text = trained.sample("", max_new_tokens=100, seed=0)  # block_size is 32
    assert len(text) == 100


def test_top_k_mask():
    logits = torch.tensor([[1.0, 4.0, 3.0, 2.0, 0.0]])
    out = filter_logits(logits, top_k=2)
    assert torch.isinf(out).tolist() == [[True, False, False, True, True]]


def test_top_p_mask_keeps_the_smallest_nucleus():
    probs = torch.tensor([[0.05, 0.5, 0.3, 0.15]])
    logits = probs.log()
    keep = lambda p: (~torch.isinf(filter_logits(logits, top_p=p))).tolist()[0]  # noqa: E731
    assert keep(0.5) == [False, True, False, False]
    assert keep(0.6) == [False, True, True, False]
    assert keep(0.8) == [False, True, True, False]
    assert keep(0.81) == [False, True, True, True]
    assert keep(1.0) == [True, True, True, True]
    assert keep(0.01) == [False, True, False, False]  # the top token always stays


def test_top_p_sampling_never_picks_masked_tokens():
    probs = torch.tensor([[0.05, 0.5, 0.3, 0.15]])
    filtered = filter_logits(probs.log(), top_p=0.6)
    gen = torch.Generator().manual_seed(0)
    draws = torch.multinomial(torch.softmax(filtered, -1).expand(2000, 4), 1, generator=gen)
    assert set(draws.flatten().tolist()) == {1, 2}
