"""Where a model trains: the CPU, a CUDA GPU or Apple's MPS, and what each one needs.

`resolve_device("auto")` prefers CUDA, then MPS, then the CPU; naming a device this machine
does not have is a `DeviceError` that says why (no GPU, or a torch built without CUDA),
not a failure deep inside the first step. `autocast_dtype` says whether a device trains in
bfloat16 under `torch.autocast` (the GPUs that support it; never the CPU), and the random
stream helpers let the trainer save and restore a GPU's generator like the CPU's.
"""

from __future__ import annotations

from contextlib import nullcontext

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


class DeviceError(ValueError):
    """A device this machine (or this build of torch) does not have."""


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def unavailable_reason(name: str) -> str | None:
    """Why device `name` ("cpu", "cuda", "mps") cannot be used here, or None if it can."""
    if name == "cpu":
        return None
    if name == "cuda":
        if torch.version.cuda is None and torch.version.hip is None:
            return f"this torch ({torch.__version__}) was built without CUDA"
        if not torch.cuda.is_available():
            return "no CUDA GPU was found"
        return None
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_built():
            return "MPS (Apple GPUs) is only available on macOS"
        if not mps.is_available():
            return "no MPS device was found (macOS 12.3+ on Apple silicon or an AMD GPU)"
        return None
    return f"unknown device {name!r}; choose one of: {', '.join(DEVICE_CHOICES)}"


def auto_device() -> str:
    """What "auto" means on this machine: cuda, else mps, else cpu."""
    if torch.cuda.is_available():
        return "cuda"
    if _mps_available():
        return "mps"
    return "cpu"


def resolve_device(name: str | torch.device = "cpu") -> torch.device:
    """A usable torch.device for "auto", "cpu", "cuda", "cuda:N" or "mps"; DeviceError if
    this machine has no such device."""
    if isinstance(name, torch.device):
        name = str(name)
    text = str(name).strip().lower()
    if text == "auto":
        return torch.device(auto_device())
    kind, _, index = text.partition(":")
    if kind not in DEVICE_CHOICES or (index and not index.isdigit()):
        raise DeviceError(f"unknown device {name!r}; choose one of: {', '.join(DEVICE_CHOICES)}"
                          " (or cuda:N)")
    reason = unavailable_reason(kind)
    if reason is not None:
        raise DeviceError(f"device {kind!r} is not available: {reason}; "
                          f"available here: {', '.join(available_devices())}")
    if index and kind == "cuda" and int(index) >= torch.cuda.device_count():
        raise DeviceError(f"device {text!r} is not available: this machine has "
                          f"{torch.cuda.device_count()} CUDA device(s), cuda:0 to "
                          f"cuda:{torch.cuda.device_count() - 1}")
    return torch.device(text)


def available_devices() -> list[str]:
    """The DEVICE_CHOICES usable here, "auto" and "cpu" always among them."""
    return [name for name in DEVICE_CHOICES if name == "auto" or unavailable_reason(name) is None]


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bfloat16 where the device runs it natively under autocast, else None (full fp32).

    The CPU trains in fp32 (bf16 autocast is slower than fp32 on most CPUs); CUDA GPUs
    from Ampere on and MPS on macOS 14+ support bf16.
    """
    if device.type == "cuda":
        try:
            native = torch.cuda.is_bf16_supported(including_emulation=False)
        except TypeError:  # torch before 2.5 has no including_emulation
            native = torch.cuda.is_bf16_supported()
        return torch.bfloat16 if native else None
    if device.type == "mps":
        from torch.amp.autocast_mode import is_autocast_available
        newer = getattr(torch.backends.mps, "is_macos_or_newer", None)
        native = is_autocast_available("mps") and newer is not None and newer(14, 0)
        return torch.bfloat16 if native else None
    return None


def autocast_context(device: torch.device, dtype: torch.dtype | None):
    """A context that runs the enclosed ops in `dtype` under torch.autocast (None: as is)."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def synchronize(device: torch.device) -> None:
    """Wait until the device has finished its queued work (for honest timings)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def device_rng_state(device: torch.device) -> torch.Tensor | None:
    """The device's own random generator state (dropout on a GPU draws from it), or None
    for the CPU, whose state is torch.get_rng_state()."""
    if device.type == "cuda":
        return torch.cuda.get_rng_state(device)
    if device.type == "mps":
        return torch.mps.get_rng_state()
    return None


def set_device_rng_state(device: torch.device, state: torch.Tensor) -> None:
    if device.type == "cuda":
        torch.cuda.set_rng_state(state, device)
    elif device.type == "mps":
        torch.mps.set_rng_state(state)
