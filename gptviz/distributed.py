"""Several processes training one model: `torchrun --nproc_per_node=N -m gptviz train ...`.

torchrun starts N copies of the command and tells each its place through environment
variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). `launch_from_env`
reads them; `start` joins the process group (gloo on the CPU, NCCL on CUDA GPUs, one GPU
per process) and says which device this process trains on. The Trainer then wraps its
model in DistributedDataParallel, so every rank draws its own batches and the gradients
are averaged across ranks in the backward pass: all ranks hold the same weights after
every step. Only rank 0 (`Launch.is_main`) evaluates, writes into the run directory,
samples and saves checkpoints.

Without torchrun (no WORLD_SIZE, or WORLD_SIZE=1) everything here is a no-op and a run is
the plain single-process one.

All ranks must make the same collective calls in the same order, or they wait for each
other forever; the helpers here are those calls: `any_rank` (e.g. "Ctrl+C was pressed
here": every rank stops at the same step), `mean` (the step's loss over all ranks, so a
non-finite loss stops every rank), `gather` (every rank's random streams, for the
checkpoint) and `barrier`.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .devices import resolve_device

ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


class LaunchError(RuntimeError):
    """The multi-process launch cannot go on (bad environment, device or process group)."""


@dataclass(frozen=True)
class Launch:
    """This process's place in a run: rank of world_size; local_rank picks its GPU."""
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that evaluates, writes, samples and saves."""
        return self.rank == 0


SINGLE = Launch()
_joined = False  # whether this process joined a process group (start)


def launch_from_env(env: Mapping[str, str] | None = None) -> Launch:
    """This process's Launch from torchrun's variables (none set: a single process)."""
    env = os.environ if env is None else env
    if "WORLD_SIZE" not in env:
        return SINGLE
    values = {}
    for name in ENV_VARS:
        text = env.get(name, "0")
        try:
            values[name] = int(text)
        except ValueError:
            raise LaunchError(f"{name}={text!r} in the environment is not an integer "
                              "(set by torchrun: start several processes with "
                              "torchrun --nproc_per_node=N -m gptviz train ...)") from None
    rank, world, local = values["RANK"], values["WORLD_SIZE"], values["LOCAL_RANK"]
    if world < 1 or not 0 <= rank < world or local < 0:
        raise LaunchError(f"inconsistent torchrun environment: RANK={rank}, WORLD_SIZE={world}, "
                          f"LOCAL_RANK={local}")
    return Launch(rank=rank, world_size=world, local_rank=local)


def start(launch: Launch, device: str) -> str:
    """Join the process group (when distributed) and return the device this rank trains on.

    device is the user's choice ("auto", "cpu", "cuda", ...). Several processes train on
    the CPU with gloo, or on CUDA with NCCL, rank `local_rank` on GPU `local_rank`.
    """
    resolved = resolve_device(device)
    if not launch.distributed:
        return str(resolved)
    if not dist.is_available():
        raise LaunchError(f"this torch ({torch.__version__}) was built without torch.distributed")
    if resolved.type == "mps":
        raise LaunchError("several processes can train on cpu or cuda, not mps; "
                          "use --device cpu, or one process")
    if resolved.type == "cuda":
        count = torch.cuda.device_count()
        if launch.local_rank >= count:
            raise LaunchError(f"LOCAL_RANK {launch.local_rank} needs a CUDA GPU of its own, but this "
                              f"machine has {count}; start at most {count} processes per node")
        resolved = torch.device("cuda", launch.local_rank)
        torch.cuda.set_device(resolved)
        backend = "nccl" if dist.is_nccl_available() else "gloo"
    else:
        backend = "gloo"
    if not dist.is_initialized():
        try:
            dist.init_process_group(backend=backend, rank=launch.rank, world_size=launch.world_size)
        except (ValueError, RuntimeError) as e:  # e.g. MASTER_ADDR unset, port unreachable
            raise LaunchError(f"cannot join the process group ({backend}) as rank {launch.rank} "
                              f"of {launch.world_size}: {str(e).splitlines()[0]}") from e
    global _joined
    _joined = True
    return str(resolved)


def finish() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def exit_if_joined(status: int) -> None:
    """End this process now, with `status`, if it trained as one of several (else return).

    Why: after the last collective, gloo's worker thread still releases that operation's
    tensors, which takes the GIL. If the main thread has reached interpreter shutdown by
    then, the worker is killed while unwinding C++ and the whole process aborts (SIGABRT,
    "terminate called without an active exception"): seen here in about 1 run in 15, a
    complete run then reported as failed. Everything is written and flushed by now, so the
    process skips interpreter shutdown (os._exit).
    """
    if not _joined:
        return
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(status)


def backend() -> str | None:
    return dist.get_backend() if dist.is_available() and dist.is_initialized() else None


def _collective_device(device: torch.device) -> torch.device:
    """Where tensors for a collective must live: on the GPU for NCCL, else the CPU."""
    return device if backend() == "nccl" else torch.device("cpu")


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """The model in DistributedDataParallel (rank 0's weights are copied to every rank)."""
    from torch.nn.parallel import DistributedDataParallel as DDP
    ids = [device.index] if device.type == "cuda" else None
    return DDP(model, device_ids=ids)


def mean(value: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The mean of a scalar over all ranks (gloo has no AVG: a sum, divided)."""
    t = value.detach().reshape(1).to(_collective_device(device), torch.float32)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t[0] / dist.get_world_size()


def any_rank(flag: bool, launch: Launch, device: torch.device | str = "cpu") -> bool:
    """True on every rank if it is true on any (a single process: the flag itself)."""
    if not launch.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=_collective_device(torch.device(device)))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def gather(obj) -> list:
    """Every rank's obj (picklable), in rank order, on every rank."""
    out: list = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def barrier(launch: Launch) -> None:
    if launch.distributed:
        dist.barrier()


@contextmanager
def main_first(launch: Launch) -> Iterator[None]:
    """Rank 0 runs the block first (e.g. a download into a shared cache), then the rest."""
    if not launch.is_main:
        barrier(launch)
    yield
    if launch.is_main:
        barrier(launch)


def parameter_digest(model: torch.nn.Module) -> str:
    """SHA-256 of the model's state (names, shapes, dtypes and exact bytes), in name order:
    equal digests mean bit-identical weights."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype};".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()

