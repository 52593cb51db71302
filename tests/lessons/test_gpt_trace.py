"""trace(): the named tensors of a prompt, in order, with the model's own logits and attention."""

import pytest
import torch

from gptviz.lessons import tiny_gpt
from gptviz.lessons.gpt_trace import trace
from gptviz.model import GPT, GPTConfig

PROMPT = "To be, or not to be"


@pytest.fixture(scope="module")
def model():
    return tiny_gpt.build()


def test_the_tensors_come_in_the_order_the_model_makes_them_with_their_shapes(model):
    t = trace(model, tiny_gpt.encode(PROMPT))
    T, C, hs, V = len(PROMPT), 32, 16, 65
    head = [("q", (T, hs)), ("k", (T, hs)), ("v", (T, hs)), ("scores", (T, T)),
            ("attention weights", (T, T)), ("head output", (T, hs))]
    block = [("layer norm 1", (T, C)), *head, *head, ("heads joined", (T, C)), ("x + attention", (T, C)),
             ("block output", (T, C))]
    expected = [("token ids", (T,)), ("token embeddings", (T, C)), ("position embeddings", (T, C)),
                ("x = tokens + positions", (T, C)), *block, *block, ("final layer norm", (T, C)),
                ("logits", (T, V))]
    assert [(s.name, s.shape) for s in t.steps] == expected
    assert t.find("q", layer=1, head=1).label == "block 2 · head 2 · q"
    assert t.ids.tolist() == tiny_gpt.encode(PROMPT).tolist()


def test_the_logits_and_attention_are_the_models_own(model):
    ids = tiny_gpt.encode(PROMPT)
    t = trace(model, ids)
    with torch.no_grad():
        logits, _, attention = model(ids[None], return_attention=True)
        fast_logits, _ = model(ids[None])            # the scaled_dot_product_attention path
    assert torch.equal(t.logits, logits[0])
    for layer in range(2):
        assert torch.equal(t.attention(layer), attention[layer][0])
    torch.testing.assert_close(t.logits, fast_logits[0])


def test_attention_rows_sum_to_one_and_never_look_ahead(model):
    t = trace(model, tiny_gpt.encode(PROMPT))
    T = len(PROMPT)
    for layer in range(2):
        weights = t.attention(layer)                  # (n_head, T, T)
        torch.testing.assert_close(weights.sum(-1), torch.ones(2, T))
        future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        assert (weights[:, future] == 0).all() and (weights[:, ~future] > 0).all()
        assert torch.isinf(t.find("scores", layer, 0).tensor[future]).all()


def test_the_variants_match_too_rotary_positions_qk_norm_relu2():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=65, block_size=16, n_layer=2, n_head=4, n_embd=32, rope=True,
                          qk_norm=True, activation="relu2", bias=False)).eval()
    ids = tiny_gpt.encode("Whether 'tis")
    t = trace(model, ids)
    with torch.no_grad():
        logits, _, attention = model(ids[None], return_attention=True)
    assert "position embeddings" not in [s.name for s in t.steps]
    torch.testing.assert_close(t.logits, logits[0])
    torch.testing.assert_close(t.attention(1), attention[1][0])


def test_the_bigram_model_is_a_table_lookup():
    model = tiny_gpt.build("bigram")
    ids = tiny_gpt.encode("To b")
    t = trace(model, ids)
    assert [(s.name, s.shape) for s in t.steps] == [("token ids", (4,)), ("logits", (4, 65))]
    assert torch.equal(t.logits, model(ids[None])[0][0].detach())
    with pytest.raises(KeyError):
        t.attention(0)


def test_a_prompt_longer_than_the_context_is_refused(model):
    with pytest.raises(ValueError, match="1 to 32"):
        trace(model, torch.zeros(33, dtype=torch.long))
