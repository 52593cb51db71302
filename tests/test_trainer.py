import math

import numpy as np
import pytest
import torch

from gptviz.config import preset
from gptviz.optim import build_optimizers, lr_multiplier
from gptviz.trainer import NonFiniteError, Trainer


def tiny(**changes):
    return preset("tiny", **changes)


def test_overfits_one_batch(small_corpus):
    trainer = Trainer(tiny(lr=3e-3, min_lr=3e-3, warmup_iters=0, grad_clip=0.0), small_corpus)
    x, y = small_corpus.get_batch("train", 4, 32, torch.Generator().manual_seed(0))
    opt = trainer.optimizers[0]
    first = None
    for _ in range(200):
        _, loss = trainer.model(x, y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first > 3.5 and loss.item() < 0.3


def test_training_lowers_the_loss(small_corpus):
    trainer = Trainer(tiny(max_iters=60), small_corpus)
    before = trainer.estimate_loss()
    trainer.train()
    after = trainer.estimate_loss()
    assert after.step == 60
    assert after.train_loss < before.train_loss - 0.5


def test_same_seed_same_losses(small_corpus):
    def run(seed):
        t = Trainer(tiny(seed=seed, dropout=0.1), small_corpus)
        return [t.step().loss for _ in range(15)]
    a, b, c = run(1), run(1), run(2)
    assert a == b
    assert a != c


def test_evaluation_and_sampling_do_not_change_the_run(small_corpus):
    from gptviz.sampler import Sampler
    plain = Trainer(tiny(dropout=0.1), small_corpus)
    busy = Trainer(tiny(dropout=0.1), small_corpus)
    a, b = [], []
    for i in range(10):
        a.append(plain.step().loss)
        if i % 3 == 0:
            busy.estimate_loss(2)
            torch.rand(5)  # someone else using the global RNG
            Sampler(busy.model, small_corpus.tokenizer).sample("The", max_new_tokens=5, seed=i)
        b.append(busy.step().loss)
    assert a == b


def test_step_metrics(small_corpus):
    trainer = Trainer(tiny(), small_corpus)
    m = trainer.step()
    assert m.step == 1 == trainer.step_count
    assert math.isfinite(m.loss) and m.grad_norm > 0 and m.tokens_per_sec > 0
    assert m.lr == pytest.approx(trainer.config.lr * 1 / 6)  # warmup step 0 of 5
    assert m.grad_norms == {} and m.histograms == {} and m.update_ratios == {}
    assert set(m.row()) == {"step", "loss", "lr", "grad_norm", "tokens_per_sec", "time"}
    assert m.row()["time"] == m.time == trainer.elapsed == m.dt > 0  # seconds in steps so far
    m2 = trainer.step()
    assert m2.time == pytest.approx(m.time + m2.dt)


@pytest.mark.parametrize("clip", [0.0, 1e-3])
def test_diagnostics_on_request(small_corpus, clip):
    trainer = Trainer(tiny(grad_clip=clip), small_corpus)
    m = trainer.step(diagnostics=True)
    names = [n for n, _ in trainer.model.named_parameters()]
    assert set(m.grad_norms) == set(names)
    total = math.sqrt(sum(v * v for v in m.grad_norms.values()))
    assert total == pytest.approx(m.grad_norm, rel=1e-4)
    h = m.histograms["blocks.0.attn.c_attn.weight"]
    assert isinstance(h.counts, np.ndarray) and h.counts.sum() == 32 * 96
    assert h.lo < 0 < h.hi and len(h.edges) == 65
    ratio = m.update_ratios["blocks.0.mlp.c_fc.weight"]
    assert 1e-4 < ratio < 1e-1


def test_update_ratio_is_std_of_update_over_std_of_param(small_corpus):
    trainer = Trainer(tiny(grad_clip=0.0), small_corpus)
    p = trainer.model.blocks[0].mlp.c_fc.weight
    before = p.detach().clone()
    m = trainer.step(diagnostics=True)
    expected = ((p.detach() - before).std() / p.detach().std()).item()
    assert m.update_ratios["blocks.0.mlp.c_fc.weight"] == pytest.approx(expected, rel=1e-5)


def test_gradient_clipping_reports_the_norm_before_clipping(small_corpus):
    trainer = Trainer(tiny(grad_clip=1e-3), small_corpus)
    m = trainer.step()
    assert m.grad_norm > 100 * 1e-3


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
@pytest.mark.parametrize("clip", [0.0, 1e-3, 1e6])
def test_the_optimizers_see_the_gradients_clipped_to_grad_clip(small_corpus, optimizer, clip):
    """After a first step each optimizer's momentum is (1 - beta) x the gradient it used, so
    its norm tells what clipping did: scaled by clip / norm when the norm is above the clip,
    untouched otherwise (fused AdamW scales its own; Muon's are scaled before its step)."""
    trainer = Trainer(tiny(grad_clip=clip, optimizer=optimizer, warmup_iters=0), small_corpus)
    m = trainer.step(diagnostics=True)  # (grad_norms: each parameter's, before clipping)
    factor = min(1.0, clip / (m.grad_norm + 1e-6)) if clip > 0 else 1.0
    assert (factor < 0.01) if clip == 1e-3 else factor == 1.0
    names = {p: n for n, p in trainer.model.named_parameters()}
    seen = 0
    for opt in trainer.optimizers:
        for group in opt.param_groups:
            for p in group["params"]:
                state = opt.state[p]
                momentum, beta = ((state["exp_avg"], group["betas"][0]) if "exp_avg" in state
                                  else (state["momentum_buffer"], group["momentum"]))
                expected = (1 - beta) * factor * m.grad_norms[names[p]]
                assert float(momentum.norm()) == pytest.approx(expected, rel=1e-4), names[p]
                seen += 1
    assert seen == len(names) and not hasattr(trainer.optimizers[0], "grad_scale")


def test_warmup_then_cosine_to_min_lr():
    cfg = preset("cpu")
    lrs = [cfg.lr * lr_multiplier(cfg, it) for it in range(0, 2100, 50)]
    assert lrs[0] == pytest.approx(1e-3 / 101)
    assert lr_multiplier(cfg, 99) == pytest.approx(100 / 101)
    assert lr_multiplier(cfg, 100) == pytest.approx(1.0)
    assert cfg.lr * lr_multiplier(cfg, 1050) == pytest.approx((1e-3 + 1e-4) / 2)
    assert cfg.lr * lr_multiplier(cfg, 2000) == pytest.approx(1e-4)
    assert all(a >= b for a, b in zip(lrs[2:], lrs[3:]))
    linear = cfg.replace(decay="linear")
    assert linear.lr * lr_multiplier(linear, 1050) == pytest.approx((1e-3 + 1e-4) / 2)
    assert linear.lr * lr_multiplier(linear, 575) == pytest.approx(1e-4 + 0.75 * 9e-4)


def test_weight_decay_only_on_matrices(small_corpus):
    trainer = Trainer(tiny(weight_decay=0.1), small_corpus)
    (opt,) = trainer.optimizers
    decayed = {id(p) for g in opt.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    for name, p in trainer.model.named_parameters():
        assert (id(p) in decayed) == (p.dim() >= 2), name


def test_muon_takes_the_hidden_matrices_and_adamw_the_rest(small_corpus):
    trainer = Trainer(tiny(optimizer="muon"), small_corpus)
    adamw, muon = trainer.optimizers
    muon_ids = {id(p) for g in muon.param_groups for p in g["params"]}
    adamw_ids = {id(p) for g in adamw.param_groups for p in g["params"]}
    assert not muon_ids & adamw_ids
    assert muon_ids | adamw_ids == {id(p) for p in trainer.model.parameters()}
    for name, p in trainer.model.named_parameters():
        assert (id(p) in muon_ids) == (name.startswith("blocks.") and p.dim() == 2), name
    losses = [trainer.step().loss for _ in range(30)]
    assert losses[-1] < losses[0] - 0.5


def test_newton_schulz_orthogonalises():
    from gptviz.optim import zeropower_newton_schulz
    torch.manual_seed(0)
    g = torch.randn(64, 32) @ torch.diag(torch.logspace(-1, 1, 32))  # condition number ~100
    s = torch.linalg.svdvals(zeropower_newton_schulz(g))
    assert s.min() > 0.5 and s.max() < 1.25
    assert torch.linalg.svdvals(g).max() / torch.linalg.svdvals(g).min() > 50


def test_every_parameter_is_optimized_exactly_once(small_corpus):
    trainer = Trainer(tiny(), small_corpus)
    opts = build_optimizers(trainer.model, trainer.config)
    ids = [id(p) for o in opts for g in o.param_groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == len(list(trainer.model.parameters()))


def test_non_finite_loss_stops_and_keeps_the_last_good_state(small_corpus):
    trainer = Trainer(tiny(), small_corpus)
    trainer.step()
    good = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    adam_state = {k: v.clone() for k, v in trainer.optimizers[0].state_dict()["state"][0].items()}
    with torch.no_grad():
        trainer.model.ln_f.weight.fill_(float("nan"))
        good["ln_f.weight"] = trainer.model.ln_f.weight.clone()
    with pytest.raises(NonFiniteError, match="non-finite loss at step 2"):
        trainer.step()
    assert trainer.step_count == 1
    for k, v in trainer.model.state_dict().items():
        torch.testing.assert_close(v, good[k], equal_nan=True)
    for k, v in trainer.optimizers[0].state_dict()["state"][0].items():
        torch.testing.assert_close(v, adam_state[k])


def test_non_finite_gradient_is_caught(small_corpus):
    trainer = Trainer(tiny(), small_corpus)
    hook = trainer.model.wte.weight.register_hook(lambda g: g * float("inf"))
    with pytest.raises(NonFiniteError, match="gradient norm"):
        trainer.step()
    hook.remove()
    assert trainer.step_count == 0
    assert math.isfinite(trainer.step().loss)


def test_evaluation_can_be_interrupted(small_corpus):
    trainer = Trainer(tiny(), small_corpus, split_batches=False)  # one thread asks (see test_trainer_shards)
    calls = []
    result = trainer.estimate_loss(50, should_stop=lambda: calls.append(1) or len(calls) > 3)
    assert result is None and len(calls) == 4
    assert trainer.model.training


def test_evaluation_uses_the_same_batches_each_time(small_corpus):
    trainer = Trainer(tiny(), small_corpus)
    assert trainer.estimate_loss(3) == trainer.estimate_loss(3)


class OneBatch:
    """A corpus stand-in whose every training batch is the same (x, y)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def get_batch(self, split, batch_size, block_size, generator=None, device="cpu"):
        return self.x, self.y


def test_gradient_accumulation_steps_like_one_big_batch(small_corpus):
    accumulated = Trainer(tiny(batch_size=4, grad_accum=2), small_corpus)
    big = Trainer(tiny(batch_size=8), small_corpus)  # the same seed: the same initial weights
    gen = torch.Generator()
    gen.set_state(accumulated.batch_rng.get_state())
    micro = [small_corpus.get_batch("train", 4, 32, gen) for _ in range(2)]  # what it will draw
    big.corpus = OneBatch(torch.cat([x for x, _ in micro]), torch.cat([y for _, y in micro]))
    assert accumulated.tokens_per_step == big.tokens_per_step == 8 * 32
    a, b = accumulated.step(), big.step()
    assert a.loss == pytest.approx(b.loss, rel=1e-6) and a.grad_norm == pytest.approx(b.grad_norm, rel=1e-5)
    for p, q in zip(accumulated.model.parameters(), big.model.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    assert torch.equal(accumulated.batch_rng.get_state(), gen.get_state())  # both micro-batches drawn
    m = accumulated.step(diagnostics=True)  # statistics of the last micro-batch's forward
    assert list(m.activations) == ["blocks.0.attn", "blocks.0.mlp", "blocks.1.attn", "blocks.1.mlp"]


def test_grad_accum_must_be_positive_and_old_configs_default_to_one():
    from gptviz.config import TrainConfig
    from gptviz.model import ConfigError
    with pytest.raises(ConfigError, match="grad_accum must be at least 1"):
        tiny(grad_accum=0)
    old = {k: v for k, v in tiny().to_dict().items() if k != "grad_accum"}  # before the setting
    assert TrainConfig.from_dict(old).grad_accum == 1


def test_histograms_count_as_torch_histc_does():
    from gptviz.metrics import bin_counts
    for seed in range(40):
        g = torch.Generator().manual_seed(seed)
        values = torch.randn(int(torch.randint(2, 20000, (1,), generator=g)), generator=g)
        if seed % 4 == 0:
            values = values.round(decimals=1)  # many values on bin edges
        counts, lo, hi = bin_counts(values)
        assert (lo, hi) == (values.min().item(), values.max().item())
        assert torch.equal(counts, torch.histc(values, bins=64, min=lo, max=hi)), seed
    for same in (torch.zeros(10), torch.full((7,), 1.5)):  # all alike (histc: bins 32 and 0)
        counts, lo, hi = bin_counts(same)
        assert lo < same[0].item() < hi
        assert torch.equal(counts, torch.histc(same, bins=64, min=lo, max=hi))
    counts, lo, hi = bin_counts(torch.tensor([1.0, float("nan"), 3.0, float("inf")]))
    assert (lo, hi) == (1.0, 3.0) and counts.sum() == 2 and counts[0] == counts[-1] == 1


def test_a_non_finite_diagnostics_step_is_rejected_with_the_clear_error(small_corpus):
    """(Its gradient histograms used to fail first, with torch.histc's "range of [nan, nan]
    is not finite", and the step's gradients were left behind.)"""
    trainer = Trainer(tiny(grad_clip=0.0), small_corpus)
    trainer.step()
    with torch.no_grad():
        trainer.model.blocks[0].mlp.c_fc.weight[0, 0] = float("inf")
    with pytest.raises(NonFiniteError, match="at step 2"):
        trainer.step(diagnostics=True)
    assert trainer.step_count == 1
    assert all(p.grad is None for p in trainer.model.parameters())
