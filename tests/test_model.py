import math

import pytest
import torch

from gptviz.config import TrainConfig, preset
from gptviz.model import GPT, BigramLanguageModel, ConfigError, GPTConfig, build_model

SMALL = dict(vocab_size=65, block_size=16, n_layer=2, n_head=2, n_embd=32)


def test_loss_at_init_is_about_ln_vocab():
    torch.manual_seed(0)
    model = GPT(GPTConfig(**SMALL))
    x = torch.randint(0, 65, (8, 16))
    _, loss = model(x, torch.randint(0, 65, (8, 16)))
    assert abs(loss.item() - math.log(65)) < 0.1


def test_output_head_is_tied_to_token_embedding():
    model = GPT(GPTConfig(**SMALL))
    assert model.lm_head.weight is model.wte.weight
    names = [n for n, _ in model.named_parameters()]
    assert "wte.weight" in names and "lm_head.weight" not in names


def test_residual_projections_use_scaled_init():
    torch.manual_seed(0)
    model = GPT(GPTConfig(**{**SMALL, "n_embd": 256, "n_layer": 8}))
    proj = model.blocks[0].attn.c_proj.weight.std().item()
    fc = model.blocks[0].mlp.c_fc.weight.std().item()
    assert abs(fc - 0.02) < 0.002
    assert abs(proj - 0.02 / math.sqrt(16)) < 0.001


@pytest.mark.parametrize("switches", [{}, {"rope": True}, {"qk_norm": True},
                                      {"activation": "relu2", "bias": False}])
def test_attention_weights_switch_leaves_outputs_identical(switches):
    torch.manual_seed(0)
    model = GPT(GPTConfig(**SMALL, **switches)).eval()
    x = torch.randint(0, 65, (3, 12))
    logits, _ = model(x)
    logits2, _, attention = model(x, return_attention=True)
    torch.testing.assert_close(logits, logits2, rtol=1e-5, atol=1e-5)
    assert len(attention) == 2
    for w in attention:
        assert w.shape == (3, 2, 12, 12)
        torch.testing.assert_close(w.sum(-1), torch.ones(3, 2, 12))
        assert torch.all(w.triu(diagonal=1) == 0)  # causal: nothing from the future


def test_model_is_causal():
    torch.manual_seed(0)
    model = GPT(GPTConfig(**SMALL)).eval()
    x = torch.randint(0, 65, (1, 10))
    y = x.clone()
    y[0, 7:] = (y[0, 7:] + 1) % 65  # change the future
    a, b = model(x)[0], model(y)[0]
    torch.testing.assert_close(a[0, :7], b[0, :7])
    assert not torch.allclose(a[0, 7:], b[0, 7:])


def test_rope_model_has_no_position_table():
    model = GPT(GPTConfig(**SMALL, rope=True))
    assert model.wpe is None


def test_longer_than_block_size_is_refused():
    model = GPT(GPTConfig(**SMALL))
    with pytest.raises(ValueError, match="longer than block_size 16"):
        model(torch.zeros(1, 17, dtype=torch.long))


def test_bigram_has_the_same_interface():
    model = build_model(GPTConfig(**SMALL), "bigram")
    assert isinstance(model, BigramLanguageModel)
    x = torch.randint(0, 65, (4, 16))
    logits, loss = model(x, x)
    assert logits.shape == (4, 16, 65) and abs(loss.item() - math.log(65)) < 0.1
    assert model(x, return_attention=True)[2] == []


@pytest.mark.parametrize("changes, message", [
    (dict(n_embd=30, n_head=4), r"n_embd \(30\) must be divisible by n_head \(4\)"),
    (dict(n_layer=0), "n_layer must be"),
    (dict(dropout=1.0), "dropout must be in"),
    (dict(activation="tanh"), "activation must be"),
    (dict(rope=True, n_embd=12, n_head=4), "rope needs an even head size"),
])
def test_model_config_validation(changes, message):
    with pytest.raises(ConfigError, match=message):
        GPTConfig(**{**SMALL, **changes})


@pytest.mark.parametrize("changes, message", [
    (dict(n_embd=100, n_head=3), "must be divisible by n_head"),
    (dict(lr=0.0), "lr must be positive"),
    (dict(lr=float("nan")), "lr must be a finite number"),
    (dict(min_lr=0.1, lr=0.01), "min_lr"),
    (dict(batch_size=0), "batch_size must be at least 1"),
    (dict(block_size=-1), "block_size must be at least 1"),
    (dict(optimizer="sgd"), "optimizer must be"),
    (dict(beta2=1.0), "beta2 must be in"),
    (dict(n_layer=2.5), "n_layer must be an integer"),
    (dict(bias="yes"), "bias must be true or false"),
])
def test_train_config_validation(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes)


def test_presets_describe_the_documented_models():
    cpu = preset("cpu")
    assert (cpu.n_layer, cpu.n_head, cpu.n_embd, cpu.block_size, cpu.batch_size) == (4, 4, 128, 64, 12)
    assert (cpu.lr, cpu.min_lr, cpu.warmup_iters, cpu.max_iters) == (1e-3, 1e-4, 100, 2000)
    assert (cpu.beta1, cpu.beta2, cpu.weight_decay, cpu.grad_clip, cpu.dropout) == (0.9, 0.99, 0.1, 1.0, 0)
    assert not (cpu.rope or cpu.qk_norm) and cpu.activation == "gelu" and cpu.optimizer == "adamw"
    lecture = preset("lecture")
    assert (lecture.n_layer, lecture.n_head, lecture.n_embd, lecture.block_size,
            lecture.batch_size * lecture.grad_accum, lecture.dropout) == (6, 6, 384, 256, 64, 0.2)
    assert lecture.batch_size * lecture.eval_iters == 64 * 200  # the lecture's evaluation
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        preset("huge")
