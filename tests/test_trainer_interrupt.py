"""Stopping inside a step: an abandoned step changes nothing, so the run stays exact."""

import pytest
import torch

from gptviz.config import preset
from gptviz.trainer import StepInterrupted, Trainer, TrainingError


def tiny(**changes):
    return preset("tiny", dropout=0.1, **changes)


class StopAt:
    """A should_stop that says stop on its n-th call (never, with n=None), counting calls."""

    def __init__(self, n=None):
        self.n, self.calls = n, 0

    def __call__(self):
        self.calls += 1
        return self.n is not None and self.calls >= self.n


def calls_in_one_step(corpus, **changes) -> int:
    counter = StopAt()
    Trainer(tiny(**changes), corpus).step(should_stop=counter)
    return counter.calls


def state_of(t: Trainer) -> dict:
    return {
        "model": {k: v.clone() for k, v in t.model.state_dict().items()},
        "optimizers": [_clone(opt.state_dict()) for opt in t.optimizers],
        "step": t.step_count,
        "batch_rng": t.batch_rng.get_state().clone(),
        "dropout_rng": t.dropout_rng_state.clone(),
        "global_rng": torch.get_rng_state().clone(),
    }


def _clone(x):
    if isinstance(x, torch.Tensor):
        return x.clone()
    if isinstance(x, dict):
        return {k: _clone(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clone(v) for v in x]
    return x


def test_hooks_that_never_stop_change_nothing(small_corpus):
    plain, watched = Trainer(tiny(), small_corpus), Trainer(tiny(), small_corpus)
    a = [plain.step().loss for _ in range(5)]
    b = [watched.step(should_stop=lambda: False).loss for _ in range(5)]
    assert a == b
    c = watched.step(diagnostics=True).loss  # and after them, no should_stop: no effect
    assert c == plain.step(diagnostics=True).loss


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
@pytest.mark.parametrize("where", [0.0, 0.3, 0.6, 0.95])  # fraction of the step's stop points
def test_an_interrupted_step_leaves_the_trainer_as_it_was(small_corpus, optimizer, where):
    total = calls_in_one_step(small_corpus, optimizer=optimizer)
    assert total > 20  # forward and backward of every module
    plain = Trainer(tiny(optimizer=optimizer), small_corpus)
    stopped = Trainer(tiny(optimizer=optimizer), small_corpus)
    for t in (plain, stopped):
        t.step()
        t.step()  # optimizer state exists (Adam moments, Muon momentum)
    before = state_of(stopped)
    stop = StopAt(max(1, int(where * total)))
    with pytest.raises(StepInterrupted):
        stopped.step(diagnostics=True, should_stop=stop)
    assert stop.calls == stop.n  # it stopped at the first "yes"
    after = state_of(stopped)
    assert after["step"] == before["step"] == 2
    for key in ("batch_rng", "dropout_rng", "global_rng"):
        assert torch.equal(after[key], before[key]), key
    for k, v in before["model"].items():
        assert torch.equal(after["model"][k], v), k
    torch.testing.assert_close(after["optimizers"], before["optimizers"], rtol=0, atol=0)
    assert all(p.grad is None for p in stopped.model.parameters())  # no half-made gradients
    # the run goes on as if the step had never started
    a = [plain.step(diagnostics=i == 1).loss for i in range(4)]
    b = [stopped.step(diagnostics=i == 1).loss for i in range(4)]
    assert a == b
    for (k, v), w in zip(plain.model.state_dict().items(), stopped.model.state_dict().values()):
        assert torch.equal(v, w), k


def test_a_stop_during_backward_is_seen_before_the_backward_ends(small_corpus):
    forward_calls = StopAt()
    t = Trainer(tiny(), small_corpus)
    with torch.no_grad():  # a forward alone: how many of the stop points it asks
        with t._watch(forward_calls):
            t.model(*small_corpus.get_batch("train", 2, 8, torch.Generator().manual_seed(0)))
    total = calls_in_one_step(small_corpus)
    assert total > forward_calls.calls + 10  # backward asks too, once per module with a gradient
    stop = StopAt(forward_calls.calls + 2)  # early in backward
    with pytest.raises(StepInterrupted):
        t.step(should_stop=stop)
    assert t.step_count == 0 and all(p.grad is None for p in t.model.parameters())


def test_evaluation_stops_inside_a_forward_pass(small_corpus):
    t = Trainer(tiny(), small_corpus, split_batches=False)  # on one thread (see test_trainer_shards)
    stop = StopAt(3)  # 1: before the first batch; 2, 3: inside its forward
    assert t.estimate_loss(1, should_stop=stop) is None
    assert stop.calls == 3
    assert t.model.training
    assert t.estimate_loss(1) is not None


def test_reconfigure_changes_only_live_settings(small_corpus):
    t = Trainer(tiny(max_iters=10), small_corpus)
    t.train()
    assert t.done
    t.reconfigure(t.config.replace(max_iters=20, eval_interval=5, lr_decay_iters=10))
    assert not t.done and t.config.max_iters == 20
    t.train()
    assert t.step_count == 20
    with pytest.raises(TrainingError, match="n_embd"):
        t.reconfigure(t.config.replace(n_embd=64, max_iters=30))
    assert t.config.max_iters == 20 and t.config.n_embd == 32


def test_a_stop_in_a_later_micro_batch_changes_nothing(small_corpus):
    one = calls_in_one_step(small_corpus)
    assert calls_in_one_step(small_corpus, grad_accum=3) == 3 * one  # every micro-batch asks
    plain = Trainer(tiny(grad_accum=3), small_corpus)
    stopped = Trainer(tiny(grad_accum=3), small_corpus)
    before = state_of(stopped)
    with pytest.raises(StepInterrupted):
        stopped.step(should_stop=StopAt(2 * one + 5))  # inside the third micro-batch
    after = state_of(stopped)
    for key in ("batch_rng", "dropout_rng", "global_rng"):
        assert torch.equal(after[key], before[key]), key
    assert all(p.grad is None for p in stopped.model.parameters())
    assert [plain.step().loss for _ in range(2)] == [stopped.step().loss for _ in range(2)]


def test_stop_hooks_are_in_the_model_only_while_a_step_is_watched(small_corpus):
    t = Trainer(tiny(), small_corpus)
    hooked = [m for m in t.model.modules() if next(m.parameters(recurse=False), None) is not None]
    seen = []

    def check():
        seen.append(sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in hooked))
        return False

    t.step(should_stop=check)
    assert seen and min(seen) == 2 * len(hooked)  # a pre-hook and a hook on each, while watched
    assert all(not m._forward_pre_hooks and not m._forward_hooks for m in hooked)  # gone after
    with pytest.raises(StepInterrupted):
        t.step(should_stop=StopAt(3))
    assert all(not m._forward_pre_hooks and not m._forward_hooks for m in hooked)  # also after a stop
