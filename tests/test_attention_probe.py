"""attention_probe: the maps the Attention view shows are the model's own attention weights."""

import numpy as np
import pytest
import torch

from gptviz.attention_probe import AttentionSettings, AttentionWatch, attention_maps
from gptviz.config import preset
from gptviz.lessons.gpt_trace import trace
from gptviz.model import GPT, GPTConfig, build_model
from gptviz.trainer import Trainer

PROMPT = "First Citizen:\nBefore we"


@pytest.fixture(scope="module")
def trained(small_corpus):
    trainer = Trainer(preset("tiny", max_iters=30), small_corpus)
    trainer.train()
    return trainer


def check_attention_shape(weights, T):
    assert weights.dtype == np.float32
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)  # each row is a mix
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    assert (weights[..., future] == 0).all()  # causal: no position reads a later one
    assert (weights[..., ~future] > 0).all()


def test_maps_equal_the_models_own_weights_written_out_head_by_head(trained):
    model, tok = trained.model, trained.corpus.tokenizer
    maps = attention_maps(model, tok, PROMPT, step=trained.step_count)
    c = model.config
    T = len(PROMPT)
    assert maps.weights.shape == (c.n_layer, c.n_head, T, T) and maps.error is None
    assert maps.step == 30 and maps.prompt == PROMPT
    check_attention_shape(maps.weights, T)
    traced = trace(model.eval(), torch.from_numpy(tok.encode(PROMPT)))  # explicit per-head computation
    model.train()
    for layer in range(c.n_layer):
        np.testing.assert_allclose(maps.weights[layer], traced.attention(layer).numpy(), atol=1e-6)


def test_rope_and_qk_norm_models_too():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=20, block_size=16, n_layer=2, n_head=2, n_embd=16, rope=True,
                          qk_norm=True))
    from gptviz.tokenizer import CharTokenizer
    tok = CharTokenizer("abcdefghijklmnopqrst")
    maps = attention_maps(model, tok, "abcabcdd")
    traced = trace(model, torch.from_numpy(tok.encode("abcabcdd")))
    for layer in range(2):
        np.testing.assert_allclose(maps.weights[layer], traced.attention(layer).numpy(), atol=1e-6)


def test_dropout_is_off_the_mode_comes_back_and_the_maps_are_copies(small_corpus):
    trainer = Trainer(preset("tiny", dropout=0.3), small_corpus)
    model, tok = trainer.model, small_corpus.tokenizer
    assert model.training
    rng = torch.get_rng_state()
    a = attention_maps(model, tok, PROMPT)
    b = attention_maps(model, tok, PROMPT)
    assert model.training  # back in train mode
    assert torch.equal(torch.get_rng_state(), rng)  # drew no random numbers: the run stays reproducible
    np.testing.assert_array_equal(a.weights, b.weights)  # no dropout
    check_attention_shape(a.weights, len(PROMPT))
    a.weights[:] = 7  # owned arrays, not views of anything the model keeps
    assert not np.array_equal(a.weights, attention_maps(model, tok, PROMPT).weights)


def test_long_prompts_keep_their_last_block_and_bad_ones_say_why(trained):
    model, tok = trained.model, trained.corpus.tokenizer
    long = "ABCDEFGHIJ" * 5  # block_size is 32
    maps = attention_maps(model, tok, long)
    assert maps.prompt == long[-32:] and maps.weights.shape[-1] == 32 and "32" in maps.note
    bad = attention_maps(model, tok, "price: €")
    assert bad.error is not None and "'€'" in bad.error and bad.weights.size == 0
    assert attention_maps(model, tok, "").error is not None


def test_bigram_has_no_attention(small_corpus):
    model = build_model(GPTConfig(vocab_size=small_corpus.tokenizer.vocab_size, block_size=8), "bigram")
    maps = attention_maps(model, small_corpus.tokenizer, "abc")
    assert maps.layers == 0 and maps.error is None and "no attention" in maps.note


def test_watch_cadence(trained):
    watch = AttentionWatch(min_interval=0.0)
    assert watch.due(100) and not watch.due(150)
    watch.configure(AttentionSettings("x", 0))
    assert not watch.due(100) and watch.settings.prompt == "x"
    watch = AttentionWatch(AttentionSettings("ab", 1), min_interval=60.0)
    assert watch.due(1)
    watch.compute(trained.model, trained.corpus.tokenizer, 1)
    assert not watch.due(2)  # at most one refresh a minute here, whatever `every` says
