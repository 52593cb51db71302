"""Activation statistics (gptviz/activations.py): known answers, a direct computation with
hooks on a copy of the model, and no trace left on the training run."""

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gptviz.activations import (
    ATTENTION_SATURATED,
    ATTENTION_SEQUENCES,
    GELU_FLAT_BELOW,
    HISTOGRAM_VALUES,
    ActivationProbe,
)
from gptviz.config import preset
from gptviz.metrics import HISTOGRAM_BINS
from gptviz.model import GPT, BigramLanguageModel, GPTConfig
from gptviz.trainer import Trainer


def small_gpt(activation="relu2", **changes) -> GPT:
    torch.manual_seed(0)
    cfg = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8, bias=True, activation=activation)
    return GPT(GPTConfig(**{**cfg, **changes}))


def hooks_left(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def record(model, idx):
    probe = ActivationProbe(model)
    with torch.no_grad(), probe.recording() as stats:
        model(idx)
    return stats


@pytest.mark.parametrize("activation, dead_bias, alive_bias", [("relu2", -1.0, 1.0), ("gelu", -4.0, 1.0)])
def test_dead_units_and_histogram_for_weights_set_to_a_known_answer(activation, dead_bias, alive_bias):
    """c_fc's weights are zero, so every token's pre-activation is the bias: the units with
    a flat-region bias are dead for the whole batch, the others are never flat."""
    model = small_gpt(activation)
    hidden = 4 * 8
    dead = [0, 3, 5, 6, 7, 20, 31]  # 7 of 32 units
    with torch.no_grad():
        for block in model.blocks:
            block.mlp.c_fc.weight.zero_()
            block.mlp.c_fc.bias.fill_(alive_bias)
            block.mlp.c_fc.bias[dead] = dead_bias
    if activation == "gelu":  # a unit at -2 is not flat (GELU's slope there is -0.085): not dead
        assert -2.0 > GELU_FLAT_BELOW
        with torch.no_grad():
            model.blocks[0].mlp.c_fc.bias[10] = -2.0
    idx = torch.randint(0, 11, (5, 8), generator=torch.Generator().manual_seed(1))
    stats = record(model, idx)
    assert list(stats) == ["blocks.0.attn", "blocks.0.mlp", "blocks.1.attn", "blocks.1.mlp"]
    mlp = stats["blocks.1.mlp"]
    assert mlp.kind == "mlp"
    assert mlp.dead == pytest.approx(100 * 7 / hidden)
    assert mlp.saturated == pytest.approx(100 * 7 / hidden)  # every token of a dead unit is flat
    assert stats["blocks.0.mlp"].dead == pytest.approx(100 * 7 / hidden)  # unit 10 at -2 still counts alive
    # Two distinct activation values: act(dead_bias) for 7 units, act(alive_bias) for 25.
    act = F.relu(torch.tensor([dead_bias, alive_bias])).square() if activation == "relu2" \
        else F.gelu(torch.tensor([dead_bias, alive_bias]))
    h = mlp.histogram
    assert (h.lo, h.hi) == pytest.approx((float(act[0]), float(act[1])), abs=1e-6)
    assert h.counts[0] == pytest.approx(7 / hidden) and h.counts[-1] == pytest.approx(25 / hidden)
    assert h.counts.sum() == pytest.approx(1.0)
    assert mlp.mean == pytest.approx(float(act[0] * 7 + act[1] * 25) / hidden, rel=1e-5)


def test_stats_equal_a_direct_computation_with_hooks_on_a_copy():
    model = small_gpt("relu2", n_layer=3)
    with torch.no_grad():  # larger queries: some softmax rows saturate, others don't
        for block in model.blocks:
            block.attn.c_attn.weight.mul_(60)
            block.mlp.c_fc.bias.uniform_(-0.3, 0.1, generator=torch.Generator().manual_seed(2))
    idx = torch.randint(0, 11, (6, 8), generator=torch.Generator().manual_seed(3))
    stats = record(model, idx)

    twin = copy.deepcopy(model)
    pre, outs = {}, {}
    for i, block in enumerate(twin.blocks):
        block.mlp.c_fc.register_forward_hook(lambda m, a, o, i=i: pre.__setitem__(i, o.detach()))
        block.attn.register_forward_hook(lambda m, a, o, i=i: outs.__setitem__(i, o[0].detach()))
    with torch.no_grad():
        _, _, weights = twin(idx, return_attention=True)
    for i in range(3):
        h = pre[i].reshape(-1, 32)
        flat = h <= 0
        mlp, attn = stats[f"blocks.{i}.mlp"], stats[f"blocks.{i}.attn"]
        assert mlp.saturated == pytest.approx(100 * flat.float().mean().item())
        assert mlp.dead == pytest.approx(100 * flat.all(0).float().mean().item())
        act = F.relu(h).square()
        lo, hi = act.min().item(), act.max().item()
        expected = torch.histc(act, HISTOGRAM_BINS, lo, hi) / act.numel()
        np.testing.assert_allclose(mlp.histogram.counts, expected.numpy(), atol=1e-7)
        top = weights[i][:ATTENTION_SEQUENCES, :, 1:, :].amax(-1)
        expected = 100 * (top > ATTENTION_SATURATED).float().mean().item()
        assert attn.saturated == pytest.approx(expected)
        out = outs[i].reshape(-1, 8)
        lo, hi = out.min().item(), out.max().item()
        assert (attn.histogram.lo, attn.histogram.hi) == pytest.approx((lo, hi))
        expected = torch.histc(out, HISTOGRAM_BINS, lo, hi) / out.numel()
        np.testing.assert_allclose(attn.histogram.counts, expected.numpy(), atol=1e-7)
        assert math.isnan(attn.dead)
    saturation = [stats[f"blocks.{i}.attn"].saturated for i in range(3)]
    assert any(0 < s < 100 for s in saturation), saturation  # the test exercises both kinds of rows


def test_large_batches_are_histogrammed_from_evenly_spread_tokens():
    model = small_gpt("gelu", n_embd=64, n_head=2, n_layer=1, block_size=64)
    idx = torch.randint(0, 11, (12, 64), generator=torch.Generator().manual_seed(4))  # 768 × 256 values
    stats = record(model, idx)
    h = stats["blocks.0.mlp"].histogram
    assert h.counts.sum() == pytest.approx(1.0)
    stride = math.ceil(768 * 256 / HISTOGRAM_VALUES)
    assert stride > 1  # so it was a sample: every stride-th token's 256 values
    twin = copy.deepcopy(model)
    captured = []
    twin.blocks[0].mlp.c_fc.register_forward_hook(lambda m, a, o: captured.append(o.detach()))
    with torch.no_grad():
        twin(idx)
    act = F.gelu(captured[0].reshape(-1, 256)[::stride])
    assert act.numel() <= HISTOGRAM_VALUES
    lo, hi = act.min().item(), act.max().item()
    np.testing.assert_allclose(h.counts, (torch.histc(act, HISTOGRAM_BINS, lo, hi) / act.numel()).numpy(),
                               atol=1e-7)


def test_recording_leaves_no_hooks_and_no_trace_on_the_run(small_corpus):
    """Diagnostic steps (with dropout, which draws random numbers) give the same run as plain steps."""
    plain = Trainer(preset("tiny", dropout=0.1), small_corpus)
    diagnosed = Trainer(preset("tiny", dropout=0.1), small_corpus)
    hooks = hooks_left(diagnosed.model)
    for i in range(6):
        a, b = plain.step(), diagnosed.step(diagnostics=i % 2 == 0)
        assert a.loss == b.loss
        assert bool(b.activations) == (i % 2 == 0) and not a.activations
        assert hooks_left(diagnosed.model) == hooks
    for p, q in zip(plain.model.parameters(), diagnosed.model.parameters()):
        assert torch.equal(p, q)
    sites = list(diagnosed.step(diagnostics=True).activations)
    assert sites == ["blocks.0.attn", "blocks.0.mlp", "blocks.1.attn", "blocks.1.mlp"]


def test_hooks_are_removed_when_the_forward_pass_fails():
    model = small_gpt()
    probe = ActivationProbe(model)
    with pytest.raises(ValueError), probe.recording():
        model(torch.zeros(1, 99, dtype=torch.long))  # longer than block_size
    assert hooks_left(model) == 0


def test_a_bigram_model_has_no_sites():
    model = BigramLanguageModel(GPTConfig(vocab_size=11))
    assert record(model, torch.zeros(2, 4, dtype=torch.long)) == {}
