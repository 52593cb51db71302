"""Devices: choosing one, refusing a missing one clearly, bf16 autocast, torch.compile's
failures, and checkpoints that load whatever device wrote them."""

import zipfile

import pytest
import torch

from gptviz import devices
from gptviz.checkpoint import load_checkpoint, load_model, restore_trainer, save_checkpoint
from gptviz.cli import main
from gptviz.config import preset
from gptviz.devices import DeviceError, autocast_context, resolve_device
from gptviz.trainer import Trainer, TrainingError


@pytest.fixture
def no_gpu(monkeypatch):
    """A machine with a CUDA build of torch but no GPU in it, and no MPS."""
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "_mps_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_auto_prefers_cuda_then_mps_then_the_cpu(monkeypatch, no_gpu):
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(devices, "_mps_available", lambda: True)
    assert devices.auto_device() == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert devices.auto_device() == "cuda"


def test_a_missing_device_is_refused_with_the_reason(monkeypatch, no_gpu):
    with pytest.raises(DeviceError, match="device 'cuda' is not available: no CUDA GPU was found; "
                                          "available here: auto, cpu"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.version, "cuda", None)
    with pytest.raises(DeviceError, match="built without CUDA"):
        resolve_device("cuda:0")
    with pytest.raises(DeviceError, match="unknown device 'tpu'; choose one of: auto, cpu, cuda, mps"):
        resolve_device("tpu")
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("cuda:x")
    assert devices.available_devices() == ["auto", "cpu"]
    assert resolve_device(" CPU ") == torch.device("cpu")


def test_the_cli_names_a_missing_device(capsys, tmp_path, no_gpu):
    assert main(["sample", "--checkpoint", str(tmp_path), "--device", "cuda"]) == 1
    err = capsys.readouterr().err
    assert "device 'cuda' is not available: no CUDA GPU was found" in err and "Traceback" not in err
    assert main(["train", "--preset", "tiny", "--out", str(tmp_path / "r"), "--device", "tpu"]) == 1
    assert "unknown device 'tpu'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_the_cpu_trains_in_fp32_and_autocast_runs_ops_in_bf16():
    cpu = torch.device("cpu")
    assert devices.autocast_dtype(cpu) is None
    a = torch.randn(4, 4)
    with autocast_context(cpu, None):
        assert (a @ a).dtype == torch.float32
    with autocast_context(cpu, torch.bfloat16):
        assert (a @ a).dtype == torch.bfloat16


def test_a_step_under_autocast_computes_in_bf16_and_keeps_fp32_weights(small_corpus, monkeypatch):
    import gptviz.trainer as trainer_module
    monkeypatch.setattr(trainer_module, "autocast_dtype", lambda device: torch.bfloat16)  # as on a GPU
    trainer = Trainer(preset("tiny"), small_corpus)
    assert trainer.amp_dtype == torch.bfloat16
    assert Trainer(preset("tiny"), small_corpus, autocast=False).amp_dtype is None  # --no-autocast
    seen = []
    trainer.model.lm_head.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    m = trainer.step()
    assert seen and set(seen) == {torch.bfloat16}  # every shard's forward (batch_shards.py), each thread
    assert torch.isfinite(torch.tensor(m.loss))
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    assert trainer.estimate_loss(eval_iters=1).val_loss > 0 and seen[-1] == torch.bfloat16


def test_compile_that_torch_refuses_is_a_clear_error(small_corpus, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("Python 3.15+ not yet supported for torch.compile")
    monkeypatch.setattr(torch, "compile", refuse)
    with pytest.raises(TrainingError, match=r"--compile: torch.compile is not supported here "
                                            r"\(Python 3.15\+ not yet supported .*train without --compile"):
        Trainer(preset("tiny"), small_corpus, compile=True)


def test_compile_that_fails_on_the_first_step_is_a_clear_error(small_corpus, monkeypatch):
    class BackendCompilerFailed(Exception):
        pass

    def compile_badly(module):
        def run(*args):
            raise BackendCompilerFailed("backend='inductor' raised: no C++ compiler found")
        return run
    monkeypatch.setattr(torch, "compile", compile_badly)
    trainer = Trainer(preset("tiny"), small_corpus, compile=True)
    assert trainer.compiled
    with pytest.raises(TrainingError, match="could not compile the model here .*BackendCompilerFailed: "
                                            "backend='inductor' raised: no C\\+\\+ compiler found"):
        trainer.step()
    assert trainer.step_count == 0 and all(p.grad is None for p in trainer.model.parameters())
    assert trainer.step(diagnostics=True).step == 1  # diagnostic steps run eagerly, with their hooks


def test_compiled_steps_go_through_the_compiled_model(small_corpus, monkeypatch):
    calls = []

    def compile_counting(module):
        def run(*args):
            calls.append(len(args))
            return module(*args)
        return run
    monkeypatch.setattr(torch, "compile", compile_counting)
    trainer = Trainer(preset("tiny"), small_corpus, compile=True)
    trainer.step()
    trainer.step(should_stop=lambda: False)  # interruptible steps run eagerly
    trainer.step()
    assert calls == [2, 2]


def test_a_checkpoint_written_on_a_gpu_loads_on_the_cpu(small_corpus, tmp_path, monkeypatch):
    trainer = Trainer(preset("tiny"), small_corpus)
    trainer.step()
    registry = [(0, lambda storage: "cuda:0", lambda storage, location: None)]
    monkeypatch.setattr(torch.serialization, "_package_registry",
                        registry + torch.serialization._package_registry)
    path = save_checkpoint(tmp_path, trainer)  # every tensor recorded as living on cuda:0
    monkeypatch.undo()
    with zipfile.ZipFile(path) as z:
        pickled = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    assert b"cuda:0" in pickled and b"cpu" not in pickled
    ckpt = load_checkpoint(path)
    assert all(t.device.type == "cpu" for t in ckpt.state["model"].values())
    resumed = restore_trainer(ckpt, small_corpus, device="cpu")
    for a, b in zip(resumed.model.parameters(), trainer.model.parameters()):
        assert torch.equal(a, b)
    model, _ = load_model(ckpt, "auto")
    assert next(model.parameters()).device.type == devices.auto_device()
