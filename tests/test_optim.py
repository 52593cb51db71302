"""optim.AdamW: updated in parts on the shard threads, it is torch's AdamW bit for bit."""

import threading

import pytest
import torch

from gptviz import optim
from gptviz.openmp import one_thread, openmp_runtime

needs_openmp = pytest.mark.skipif(openmp_runtime() is None, reason="torch's OpenMP runtime not found")


def params_and_optimizer(**settings):
    g = torch.Generator().manual_seed(0)
    params = [torch.randn(size, generator=g).requires_grad_() for size in [(30, 8), (8,), (12, 12), (5,)]]
    groups = [{"params": [params[0], params[2]], "weight_decay": 0.1},
              {"params": [params[1], params[3]], "weight_decay": 0.0}]
    return params, optim.AdamW(groups, lr=1e-2, betas=(0.9, 0.99), fused=True, **settings)


def set_grads(params, step):
    g = torch.Generator().manual_seed(step)
    for p in params:
        p.grad = torch.randn(p.shape, generator=g)


@needs_openmp
def test_adamw_in_parts_is_adamw_bit_for_bit_on_the_parts_threads(monkeypatch):
    (plain, whole), (split, parted) = params_and_optimizer(), params_and_optimizer()
    threads = set()
    update = optim.AdamW._update

    def spy(self, jobs, scale):
        threads.add(threading.get_ident())
        return update(self, jobs, scale)

    monkeypatch.setattr(optim.AdamW, "_update", spy)
    with one_thread():
        for step in range(4):
            set_grads(plain, step), set_grads(split, step)
            if step == 2:  # clipping's factor, divided out as the fused kernel reads the gradients
                whole.grad_scale = parted.grad_scale = torch.tensor(3.0)
            whole.step()
            parted.step(parts=[[split[0], split[3]], [split[1], split[2]]])
            if step == 2:
                del whole.grad_scale, parted.grad_scale
    assert len(threads) == 2  # the first step made the moments on one thread; then two
    for a, b in zip(plain, split):
        assert torch.equal(a, b)
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(whole.state[a][key], parted.state[b][key])
    assert parted.state_dict()["param_groups"] == whole.state_dict()["param_groups"]


def test_settings_the_parts_do_not_handle_take_torchs_own_step(monkeypatch):
    params, opt = params_and_optimizer(amsgrad=True)
    calls = []
    monkeypatch.setattr(optim.AdamW, "_update", lambda self, jobs, scale: calls.append(jobs))
    for step in range(2):
        set_grads(params, step)
        opt.step(parts=[params[:2], params[2:]])
    assert calls == [] and all("max_exp_avg_sq" in opt.state[p] for p in params)
